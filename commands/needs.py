"""request open, answer, list: enterprises' needs answered within 5 working days."""

from __future__ import annotations

import click

from commands.common import context, emit_json, json_option, table

STATUS_ZH = {"open": "待答复", "overdue": "已超期", "answered": "已答复", "late": "超期答复"}


@click.group()
def request() -> None:
    """Enterprises' needs (需求): due the N-th working day after receipt (限时答复)."""


@request.command("open")
@click.argument("code")
@click.option("--subject", required=True, help="What the enterprise needs.")
@click.option("--received", default=None, metavar="DATE",
              help="Day the need was received, YYYY-MM-DD (default: today).")
@json_option
def request_open(code: str, subject: str, received: str | None, as_json: bool) -> None:
    """Record an enterprise's need; prints its id and due date."""
    from datetime import date

    from workflow.errors import InvalidInput
    from workflow.services.needs import open_need

    try:
        day = date.fromisoformat(received) if received else None
    except ValueError:
        raise InvalidInput(f"--received '{received}' 应为 YYYY-MM-DD") from None
    r = open_need(context(), code, subject, day)
    if as_json:
        emit_json(r)
        return
    click.echo(f"需求 #{r['id']}（{r['enterprise']}）收到 {r['received']}，"
               f"应于 {r['due']} 前答复（{r['workdays']} 个工作日）")


@request.command("answer")
@click.argument("request_id", type=int, metavar="ID")
@click.option("--text", required=True, help="The answer given to the enterprise.")
@json_option
def request_answer(request_id: int, text: str, as_json: bool) -> None:
    """Answer a request; an answer after the due date is recorded as late."""
    from workflow.services.needs import answer

    r = answer(context(), request_id, text)
    if as_json:
        emit_json(r)
        return
    late = f"，超期 {r['days_late']} 天 (late)" if r["late"] else "，按期 (on time)"
    click.echo(f"需求 #{r['id']} 已答复{late}")


@request.command("list")
@click.option("--overdue", is_flag=True, help="Only unanswered requests past their due date.")
@click.option("--city", default=None, help="Only this reporting unit.")
@json_option
def request_list(overdue: bool, city: str | None, as_json: bool) -> None:
    """Requests with their received and due dates and status."""
    from workflow.services.needs import listing

    rows = listing(context(), overdue=overdue, city=city)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("没有符合条件的需求 (no requests)")
        return
    table("企业需求 (requests)", ["#", "企业", "城市", "需求", "收到", "期限", "状态", "答复日"],
          [[r["id"], r["enterprise"], r["city"], r["subject"], r["received"], r["due"],
            STATUS_ZH[r["status"]], r["answered_on"]] for r in rows])
