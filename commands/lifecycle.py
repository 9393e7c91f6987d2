"""advance, history, status, graph."""

from __future__ import annotations

import click

from commands.common import batch_report, context, emit_json, json_option, table


def _data(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise click.BadParameter(f"'{pair}' 应为 KEY=VALUE", param_hint="--data")
        k, v = pair.split("=", 1)
        out[k.strip()] = v
    return out


@click.command()
@click.argument("code", required=False)
@click.argument("event", required=False)
@click.option("--reason", default="", help="Why (required for failures, withdrawal, disqualification).")
@click.option("--data", "data", multiple=True, help="KEY=VALUE payload, repeatable.")
@click.option("--target-grade", default=None, help="Target grade at enrollment.")
@click.option("--consent", default=None, help="企业自愿申请 reference (enroll).")
@click.option("--month", default=None, help="Evaluation month YYYY-MM.")
@click.option("--grade", default=None, help="Achieved grade (certify).")
@click.option("--override-window", is_flag=True, help="province_admin: act outside the window.")
@click.option("--effective", default=None, metavar="YYYY-MM-DD",
              help="province_admin: the day a decision taken on paper took effect (with --reason).")
@click.option("--file", "file", type=click.Path(dir_okay=False), default=None,
              help="CSV of events (code,event,reason,...), applied all or nothing.")
@click.option("--evidence", "evidence", multiple=True, type=click.Path(dir_okay=False),
              help="A file supporting the event (PDF, JPEG, PNG, DOCX, XLSX; its hash goes into the "
                   "audit entry); repeatable.")
@json_option
def advance(code: str | None, event: str | None, reason: str, data: tuple[str, ...],
            target_grade: str | None, consent: str | None, month: str | None, grade: str | None,
            override_window: bool, effective: str | None, file: str | None, evidence: tuple[str, ...],
            as_json: bool) -> None:
    """Move an enterprise's participation: campaign advance CODE EVENT [options]."""
    from workflow.services.evidence import advance as do_advance
    from workflow.services.evidence import read_files
    from workflow.services.lifecycle import Request

    ctx = context()
    if file:
        if code or event or effective or evidence:
            raise click.UsageError("--file 与 CODE EVENT、--effective、--evidence 不能同时使用"
                                   "（批量补录用 effective 列）")
        _batch(ctx, file, as_json)
        return
    if not code or not event:
        raise click.UsageError("用法：campaign advance CODE EVENT，或 campaign advance --file FILE.csv")
    r = do_advance(ctx, Request(code=code, event=event, reason=reason, data=_data(data), target_grade=target_grade,
                                consent=consent, month=month, grade=grade, override_window=override_window,
                                effective=effective), read_files(ctx, evidence))
    if as_json:
        emit_json(r)
        return
    late = "（逾期 late）" if r["late"] else ""
    files = f"，佐证材料 {len(evidence)} 份" if evidence else ""
    click.echo(f"{r['code']}: {r['event']} {r['from_state']} → {r['to_state']}{late}，审计 #{r['seq']}{files}")


def _batch(ctx: object, file: str, as_json: bool) -> None:
    from workflow.files.batch import read_events
    from workflow.services.lifecycle import advance_batch

    ok, outcomes = advance_batch(ctx, read_events(file))  # type: ignore[arg-type]
    batch_report(ok, outcomes, as_json, "个事件")


@click.command()
@click.argument("code")
@json_option
def history(code: str, as_json: bool) -> None:
    """A participation's events in order, with their hashes."""
    from workflow.services.queries import history as do_history

    rows = do_history(context(), code)
    if as_json:
        emit_json(rows)
        return
    table(f"{code} 历史", ["#", "事件", "从", "到", "操作人", "理由", "时间"],
          [[r["seq"], r["event"], r["from_state"], r["to_state"], r["actor"], r["reason"],
            r["effective_at"][:16]] for r in rows])


@click.command()
@json_option
def status(as_json: bool) -> None:
    """Counts by state and city."""
    from workflow.domain.states import STATE_ZH
    from workflow.services.queries import status as do_status

    ctx = context()
    r = do_status(ctx)
    if as_json:
        emit_json({**r, "simulation": ctx.simulation})
        return
    if ctx.simulation:
        from workflow.context import SIMULATION_MARK as MARK

        click.echo(f"{MARK}本数据库为模拟数据，不是真实记录 (simulation database)")
    states = [s for s, n in r["by_state"].items() if n]
    table(f"{r['year']} 年行动进展（截至 {r['as_of']}，共 {r['total']} 家）",
          ["城市", *[STATE_ZH[s] for s in states]],
          [[city, *[counts.get(s, 0) for s in states]] for city, counts in r["by_city"].items()])


@click.command()
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid",
              show_default=True, help="Mermaid (Markdown) or Graphviz dot.")
def graph(fmt: str) -> None:
    """Print the state machine as the engine sees it."""
    from workflow.domain.machine import graph as draw

    click.echo(draw(fmt))
