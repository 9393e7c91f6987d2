"""Report values → printable `Sheet`s for the XLSX writer (pure)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workflow.domain.states import STATE_ZH, STATES
from workflow.reports.dashboard import pct
from workflow.reports.sheets import Column, Sheet

if TYPE_CHECKING:
    from workflow.reports.figures import TargetLine, Targets


def targets_sheet(report: Targets) -> Sheet:
    """`report targets` as one sheet: a row per reporting unit and the province total."""
    cols = (Column("序号", 6, True), Column("城市", 24), Column("目标（家）", 8, True),
            Column("已新增", 8, True), Column("完成率", 8, True), Column("在途", 8, True),
            Column("差距", 8, True), *(Column(STATE_ZH[s], 8, True) for s in STATES))

    def line(x: TargetLine) -> list[Any]:
        rate = pct(x["progress"]) if x["progress"] is not None else ""
        return [x["target"], x["achieved"], rate, x["in_pipeline"], x["gap"],
                *(x["by_state"][s] for s in STATES)]

    rows: list[list[Any]] = [[i, x["city"], *line(x)] for i, x in enumerate(report["cities"], 1)]
    p = report["province"]
    rows.append(["", f"全省合计（城市目标合计 {p['city_targets']}）", *line(p)])
    return Sheet(name="目标进度", label="", title=f"{report['year']}年创A晋B行动目标完成情况",
                 subtitle=f"截至 {report['as_of']}　全省目标 {p['target']} 家；新增按 A、B（含B-）、"
                          "绩效引领性且高于纳入时等级计", columns=cols, rows=rows)
