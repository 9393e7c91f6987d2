"""roles | assign | recheck sample."""

from __future__ import annotations

import click

from commands.common import context, emit_json, json_option, table


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
@click.argument("code")
@click.option("--expert", required=True, help="The expert actor to assign.")
@click.option("--remove", is_flag=True, help="End the assignment instead.")
@json_option
def assign(code: str, expert: str, remove: bool, as_json: bool) -> None:
    """Assign an expert to an enterprise (by its city's coordinator or a province_admin)."""
    from workflow.services.access import assign as do_assign

    r = do_assign(context(), code, expert, remove=remove)
    if as_json:
        emit_json(r)
        return
    verb = "已指派" if r["assigned"] else "已解除指派"
    click.echo(f"{verb}专家 {r['expert']} → {r['code']}（{r['city']}），审计 #{r['seq']}")


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
