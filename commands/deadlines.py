"""deliverable submit, deadlines."""

from __future__ import annotations

import click

from commands.common import context, emit_json, json_option, table

STATUS_ZH = {"pending": "待报送", "submitted": "已报送", "late": "逾期报送", "overdue": "已逾期",
             "not_owed": "无须报送"}


@click.group()
def deliverable() -> None:
    """The cities' deliverables to the province (附件1–5, emission list, re-submission)."""


@deliverable.command("submit")
@click.option("--city", required=True, help="Reporting unit, e.g. 许昌市.")
@click.option("--kind", required=True,
              help="attachment1 … attachment5, emission_list, resubmission (see campaign calendar show).")
@click.option("--period", default=None, help="YYYY-MM of the due date (needed when a kind is due several times).")
@click.option("--file", "file", type=click.Path(), default=None,
              help="The submitted file; copied into the document store with its SHA-256.")
@click.option("--generate", is_flag=True,
              help="emission_list: build the city's list from the data now and submit it as the file.")
@click.option("--note", default="", help="A remark recorded with the submission.")
@json_option
def deliverable_submit(city: str, kind: str, period: str | None, file: str | None, generate: bool,
                       note: str, as_json: bool) -> None:
    """Record a city's submission (late submissions are accepted and recorded as late)."""
    from workflow.services.deadlines import submit

    r = submit(context(), city=city, kind=kind, period=period, file=file, note=note, generate=generate)
    if as_json:
        emit_json(r)
        return
    late = f"，逾期 {r['days_late']} 天 (late)" if r["late"] else "，按时 (on time)"
    click.echo(f"{r['city']} {r['kind']} {r['period']} 已报送{late}，审计 #{r['seq']}")
    if r["stored_path"]:
        made = "已按当前数据生成" if r["generated"] else "文件"
        click.echo(f"{made} {r['file']} → {r['stored_path']} (sha256 {r['sha256']})")


@click.command()
@click.option("--city", default=None, help="Only this reporting unit.")
@click.option("--overdue", is_flag=True, help="Only deliverables past due and not submitted.")
@click.option("--upcoming", type=int, default=None, metavar="DAYS",
              help="Only pending deliverables due within DAYS days.")
@json_option
def deadlines(city: str | None, overdue: bool, upcoming: int | None, as_json: bool) -> None:
    """Every city's deliverables: due date, status and days left or overdue."""
    from workflow.services.deadlines import DeadlineRow, listing

    rows = listing(context(), city=city, overdue=overdue, upcoming=upcoming)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("没有符合条件的报送事项 (nothing matches)")
        return

    def days(r: DeadlineRow) -> str:
        if r["days_left"] is not None:
            return f"剩 {r['days_left']} 天"
        if r["days_overdue"] is not None:
            return f"逾期 {r['days_overdue']} 天"
        return f"晚 {r['days_late']} 天" if r["days_late"] else ""

    table("报送截止日 (deadlines)", ["城市", "材料", "期次", "截止日", "状态", "天数", "报送日"],
          [[r["city"], r["attachment"] or r["title"], r["period"], r["due"], STATUS_ZH[str(r["status"])],
            days(r), r["submitted_on"]] for r in rows])
