"""roles | assign | recheck sample."""

from __future__ import annotations

import click

from commands.common import batch_report, context, emit_json, json_option, table


@click.command()
@json_option
def roles(as_json: bool) -> None:
    """The permission matrix: who may do what (谁可以做什么)."""
    from workflow.services.permissions import matrix

    rows = matrix()
    if as_json:
        emit_json(rows)
        return
    table("权限矩阵 Permission matrix", ["操作 action", "说明", "角色 roles", "范围 scope", "规则 note"],
          [[r["action"], r["zh"], ", ".join(r["roles"]), r["scope"], r["note"]] for r in rows])  # type: ignore[arg-type]
    click.echo("另：申报利益冲突者不得对该企业执行任何操作（利益冲突回避）。")


@click.command()
@click.argument("code", required=False)
@click.option("--expert", default=None, help="The expert actor to assign.")
@click.option("--remove", is_flag=True, help="End the assignment instead.")
@click.option("--file", "file", type=click.Path(dir_okay=False), default=None,
              help="CSV or XLSX of assignments (columns code, expert; optional remove, or 操作 指派/解除), "
                   "applied in one transaction, all or nothing.")
@json_option
def assign(code: str | None, expert: str | None, remove: bool, file: str | None, as_json: bool) -> None:
    """Assign an expert to an enterprise (by its city's coordinator or a province_admin):
    campaign assign CODE --expert NAME, or many at once with campaign assign --file FILE."""
    if file:
        if code or expert or remove:
            raise click.UsageError("--file 与 CODE、--expert、--remove 不能同时使用（解除指派用文件的 操作 列）")
        _batch(file, as_json)
        return
    if not code or not expert:
        raise click.UsageError("用法：campaign assign CODE --expert NAME，或 campaign assign --file FILE")
    from workflow.services.access import assign as do_assign

    r = do_assign(context(), code, expert, remove=remove)
    if as_json:
        emit_json(r)
        return
    verb = "已指派" if r["assigned"] else "已解除指派"
    click.echo(f"{verb}专家 {r['expert']} → {r['code']}（{r['city']}），审计 #{r['seq']}")


def _batch(file: str, as_json: bool) -> None:
    """`assign --file`: every row reported as `advance --file` reports its rows; exit 1 if any is refused."""

    from workflow.files.assignments import read_assignments
    from workflow.services.access import AssignRow, assign_many

    rows = [(line, AssignRow(code, expert, remove)) for line, code, expert, remove in read_assignments(file)]
    ok, outcomes = assign_many(context(), rows)
    batch_report(ok, outcomes, as_json, "项指派")


@click.group()
def recheck() -> None:
    """Provincial spot checks (省级抽查复核)."""


@recheck.command("sample")
@click.option("--city", default=None, help="Draw only from this city (default: the whole province).")
@click.option("--rate", type=float, required=True, help="Share to draw, 0 < R <= 1 (rounded up).")
@click.option("--seed", type=int, default=None, help="Seed of the draw (default: a fresh random one).")
@json_option
def recheck_sample(city: str | None, rate: float, seed: int | None, as_json: bool) -> None:
    """Draw enterprises awaiting recheck, inside a spot-check round of the calendar; round, seed,
    population and selection go to the audit log."""
    from workflow.services.spotcheck import sample

    r = sample(context(), rate=rate, city=city, seed=seed)
    if as_json:
        emit_json(r)
        return
    click.echo(f"{r['round_title']}（{r['city'] or '全省'}）：种子 seed {r['seed']}，"
               f"待复核 {len(r['population'])} 家，抽中 {len(r['selected'])} 家，审计 #{r['seq']}")
    for code in r["selected"]:
        click.echo(code)
