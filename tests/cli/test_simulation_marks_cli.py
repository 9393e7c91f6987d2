"""A simulation database's outputs say so (模拟 / SIMULATION): exports, reports, the dashboard page
and the notices, so that nobody files or forwards simulated data as real."""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import load_workbook

from tests.conftest import Cli
from tests.helpers.lifecycle import ENROLL

MARK = "模拟 SIMULATION"


def test_exports_reports_the_dashboard_and_notices_of_a_simulation_are_marked(campaign: Cli,
                                                                               tmp_path: Path) -> None:
    campaign(*ENROLL, now="2024-05-20", actor="许昌联络员")
    out = tmp_path / "附件1.xlsx"
    campaign("export", "attachment1", "--city", "许昌", "--out", str(out), now="2024-05-24")
    ws = load_workbook(out).worksheets[0]
    assert MARK in str(ws["A3"].value) and MARK not in str(ws["A2"].value)  # the plan's title stays
    assert MARK in campaign("report", "targets", now="2024-05-24").stdout.splitlines()[-1]
    assert json.loads(campaign("report", "targets", "--json", now="2024-05-24").stdout)["simulation"] is True
    campaign("report", "html", "--out", str(tmp_path / "page"), now="2024-05-24")
    assert MARK in (tmp_path / "page" / "index.html").read_text("utf-8")
    campaign("scheduler", "tick", now="2024-05-24")  # the 7-days-left reminders of 附件1
    reminder = next(n for n in json.loads(campaign("notices", "list", "--json", now="2024-05-24").stdout)
                    if n["city"] == "许昌市")
    assert MARK in campaign("notices", "show", str(reminder["id"]), now="2024-05-24").stdout


def test_a_simulation_notice_rendered_again_on_retry_keeps_its_mark() -> None:
    """The mark is kept with the notice's context, so delivery's re-render (after a failed first
    render) marks the body the same way as the first render."""
    import json as _json
    from datetime import date

    from notifications.queue import _row, marked

    row = _row("reminder", "k", "许昌市", None, date(2024, 5, 31), {"deliverable": "附件1", "title": "培育清单",
               "period": "2024-05", "days_left": 7}, "2024-05-24T01:00:00.000000Z", None, 2.0, simulation=True)
    context = _json.loads(row["context"])
    assert context["simulation"] is True
    assert MARK in marked("正文\n", context) and marked("正文\n", {}) == "正文\n"
