"""report targets | funnel | overdue | html."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

import click

from commands.common import context, emit_json, json_option, table

R = TypeVar("R", bound=Mapping[str, Any])  # a report's typed result


def _short(city: str) -> str:
    return "航空港区" if city == "郑州航空港经济综合实验区" else city


def _bar(ratio: float | None, width: int = 10) -> str:
    if ratio is None:
        return "—"
    from workflow.reports.dashboard import pct

    filled = min(width, round(ratio * width))
    return "█" * filled + "░" * (width - filled) + f" {pct(ratio)}"


@click.group()
def report() -> None:
    """Where the campaign stands: targets, funnel, overdue items, a dashboard page."""


def _simulated(r: R, as_json: bool) -> R:
    """A simulation's reports say so: a last line in text, `"simulation": true` in JSON."""
    if not context().simulation:
        return r
    if not as_json:
        from workflow.context import SIMULATION_MARK as MARK

        click.get_current_context().call_on_close(lambda: click.echo(f"{MARK}本报告来自模拟数据库，不是真实工作数据"))
    return cast(R, {**r, "simulation": True})  # the same report, marked for --json


@report.command("targets")
@click.option("--city", default=None, help="One reporting unit (the province total is always shown).")
@json_option
@click.option("--xlsx", "xlsx", type=click.Path(), default=None,
              help="Also write the table as a printable workbook.")
def targets(city: str | None, as_json: bool, xlsx: str | None) -> None:
    """Per city: target, counted as new, in the pipeline, gap; the province against 600."""
    from workflow.reports.figures import targets as do_targets

    if as_json and xlsx:
        raise click.UsageError("--json 与 --xlsx 只能选一个")
    if xlsx:
        from workflow.errors import InvalidInput
        from workflow.reports.writers import check_out

        check_out(xlsx, "--xlsx")
        if not xlsx.lower().endswith(".xlsx"):
            raise InvalidInput(f"--xlsx {xlsx} 须以 .xlsx 结尾 (unsupported file type)")
    r = _simulated(do_targets(context(), city), as_json or bool(xlsx))
    if as_json:
        emit_json(r)
        return
    if xlsx:
        from workflow.reports.report_sheets import targets_sheet
        from workflow.reports.writers import write

        click.echo(f"已写入 {write([targets_sheet(r)], xlsx, simulation=context().simulation)}")
        return
    p = r["province"]
    rows: list[list[Any]] = [[_short(c["city"]), c["target"], c["achieved"], _bar(c["progress"]),
                              c["in_pipeline"], c["gap"]] for c in r["cities"]]
    rows.append(["全省", p["target"], p["achieved"], _bar(p["progress"]), p["in_pipeline"], p["gap"]])
    click.echo(f"{r['year']} 年目标进度（截至 {r['as_of']}）")
    table(None, ["城市", "目标", "新增", "进度", "在途", "差距"], rows)
    click.echo(f"全省目标 {p['target']} 家（各市目标合计 {p['city_targets']}）：已新增 {p['achieved']}，"
               f"在途 {p['in_pipeline']}，差距 {p['gap']}")


_COLS = ("cultivation", "assistance", "tracking", "acceptance", "provincial_recheck", "certification", "certified")


@report.command("funnel")
@click.option("--city", default=None, help="One reporting unit, e.g. 许昌.")
@json_option
def funnel(city: str | None, as_json: bool) -> None:
    """Participations by stage and city, and the grade transitions (from → achieved)."""
    from workflow.reports.figures import funnel as do_funnel

    r = _simulated(do_funnel(context(), city), as_json)
    if as_json:
        emit_json(r)
        return
    click.echo(f"推进漏斗（截至 {r['as_of']}，共 {r['total']} 家；累计到达不含已离开的企业）")
    table(None, ["阶段", "当前", "累计到达"],
          [[s["zh"], s["count"], s["reached"]] for s in r["stages"]])
    exits = lambda st: sum(st[k] for k in ("withdrawn", "disqualified", "not_achieved"))  # noqa: E731
    from workflow.domain.states import STATE_SHORT

    table("各地分阶段", ["城市", *[STATE_SHORT[k] for k in _COLS], "离开"],
          [[_short(c["city"]), *[c["by_state"][k] for k in _COLS], exits(c["by_state"])]
           for c in r["by_city"] if c["total"]])
    if r["transitions"]:
        table("等级变化（纳入时 → 认定）", ["从", "到", "家数", "计入新增"],
              [[m["from"], m["to"], m["count"], "是" if m["counted"] else "否"] for m in r["transitions"]])


@report.command("overdue")
@click.option("--city", default=None, help="One reporting unit, e.g. 许昌.")
@json_option
def overdue(city: str | None, as_json: bool) -> None:
    """City × deliverable: pending, late and overdue; enterprises missing evaluations or replies."""
    from workflow.reports.overdue import matrix

    r = _simulated(matrix(context(), city), as_json)
    if as_json:
        emit_json(r)
        return
    cols = r["deliverables"]

    def cell(c: dict[str, int]) -> str:
        parts = [f"{zh}{c[k]}" for k, zh in (("overdue", "逾"), ("late", "迟"), ("pending", "待")) if c.get(k)]
        return "".join(parts) or ("✓" if c.get("done") else "—")

    click.echo(f"报送情况（截至 {r['as_of']}）")
    click.echo("逾=逾期未报　迟=逾期后补报　待=未到期　✓=已按时报送　—=无须报送")
    _compact(["城市", *[d["label"].replace("企业", "") for d in cols]],
             [[_short(x["city"]), *[cell(x["cells"].get(d["kind"], {})) for d in cols]] for x in r["matrix"]])
    if r["enterprises"]:
        table(f"企业问题（{len(r['enterprises'])}）", ["城市", "企业", "问题", "详情"],
              [[_short(e["city"]), e["name"], e["issue_zh"], e["detail"]] for e in r["enterprises"][:100]])


def _compact(columns: list[str], rows: list[list[str]]) -> None:
    """A wide matrix without vertical rules, so that it fits 80 columns."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    t = Table(box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), show_edge=False)
    for col in columns:
        t.add_column(col, no_wrap=True)
    for row in rows:
        t.add_row(*row)
    Console(width=80).print(t)


@report.command("html")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False),
              help="Directory for index.html (created if missing).")
def html(out: str) -> None:
    """A self-contained static dashboard page (no server, no internet)."""
    from workflow.reports.publish import dashboard_page

    r = dashboard_page(context(), out)
    p = r["province"]
    click.echo(f"已生成看板 {r['path']}（截至 {r['as_of']}，全省新增 {p['achieved']}/{p['target']}）")
