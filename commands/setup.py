"""init, calendar, workdays."""

from __future__ import annotations

import click

from commands.common import context, emit_json, json_option


@click.command()
@click.option("--calendar", "calendar_file", type=click.Path(dir_okay=False),
              help="Campaign calendar TOML (default: Henan 2024).")
@click.option("--simulation", is_flag=True,
              help="A simulation database (demo, training, tests): CAMPAIGN_NOW sets its clock and every "
                   "output says 模拟. Only on a database with no entries yet.")
def init(calendar_file: str | None, simulation: bool) -> None:
    """Create the schema and load the campaign calendar (safe to run again).

    After the first actor exists, only a province_admin loads another campaign year."""
    from workflow.services.setup import init as do_init

    result = do_init(context(simulating=simulation), calendar_file, simulation_db=simulation)
    mark = "【模拟 SIMULATION】" if result["simulation"] else ""
    if result["created"]:
        click.echo(f"{mark}已初始化 {result['year']} 年行动：{result['cities']} 个报送单位 (initialised)")
    else:
        click.echo(f"{mark}{result['year']} 年行动已初始化，无变化 (already initialised; nothing changed)")


@click.group()
def calendar() -> None:
    """The campaign calendar: windows, deliverables, targets."""


@calendar.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
def calendar_validate(file: str) -> None:
    """Check a calendar file and say what is wrong."""
    from workflow.domain.plan import load_file

    plan, _ = load_file(file)
    click.echo(f"日历有效 (valid)：{plan.year} 年，{len(plan.windows)} 个事件窗口，"
               f"{len(plan.deliverables)} 类报送材料，{len(plan.cities)} 个报送单位，"
               f"{len(plan.industries.industries)} 个行业，{len(plan.spot_check_rounds)} 轮抽查复核")


@calendar.command("show")
@json_option
def calendar_show(as_json: bool) -> None:
    """Show the loaded campaign's phases, windows and deliverables."""
    from models.db import UnitOfWork
    from workflow.store.campaigns import campaign

    ctx = context()
    with UnitOfWork(ctx.engine) as uow:
        plan = campaign(uow.session, ctx).plan
    data = {
        "year": plan.year, "name": plan.name, "start": plan.start, "end": plan.end,
        "phases": [{"title": p.title, "opens": p.opens, "closes": p.closes} for p in plan.phases],
        "windows": {e: {"opens": w.opens, "closes": w.closes,
                        "closes_after_failure": w.closes_after_failure}
                    for e, w in plan.windows.items()},
        "deliverables": [{"kind": d.kind, "title": d.title,
                          "due": [x.due for x in d.dues]} for d in plan.deliverables.values()],
        "targets": plan.cities,
        "industries": {i.name: {"aliases": list(i.aliases), "scales": list(i.scales), "ule": i.ule}
                       for i in plan.industries.industries.values()},
        "control_categories": plan.control_categories,
        "spot_check_rounds": [{"key": r.key, "title": r.title, "opens": r.opens, "closes": r.closes}
                              for r in plan.spot_check_rounds],
    }
    if as_json:
        emit_json(data)
        return
    click.echo(f"{plan.name}（{plan.start} 至 {plan.end}）")
    for p in plan.phases:
        click.echo(f"  {p.title}: {p.opens} — {p.closes}")
    for d in plan.deliverables.values():
        click.echo(f"  {d.attachment or '—'} {d.title}: {', '.join(str(x.due) for x in d.dues)}")
    for r in plan.spot_check_rounds:
        click.echo(f"  {r.title}: {r.opens} — {r.closes}")
    for i in plan.industries.industries.values():
        scales = "、".join("A–D" if s == "ABCD" else s for s in i.scales)
        click.echo(f"  行业 {i.name}：{scales}{'，创A须超低排放改造并公示' if i.ule else ''}")


@click.group()
def workdays() -> None:
    """Chinese working days (holidays and make-up days)."""


@workdays.command("due")
@click.argument("day")
@click.argument("n", type=int)
@click.option("--calendar", "calendar_file", type=click.Path(dir_okay=False), default=None,
              help="Calendar file whose [workdays.\"YYYY\"] tables to use (default: the loaded campaign's, "
                   "else the shipped Henan 2024 calendar).")
def workdays_due(day: str, n: int, calendar_file: str | None) -> None:
    """Print the N-th working day after DAY (counting from the next day)."""
    from datetime import date

    from workflow.errors import InvalidInput
    from workflow.store.campaigns import workcal

    try:
        start = date.fromisoformat(day)
    except ValueError:
        raise InvalidInput(f"日期 '{day}' 应为 YYYY-MM-DD") from None
    click.echo(workcal(context(), calendar_file).nth_workday_after(start, n).isoformat())
