"""The overdue matrix reads the cities' submissions and the enterprises' requests (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import CODE, Cli
from tests.helpers.lifecycle import walk_to_tracking

pytestmark = pytest.mark.clock  # also run under TZ=America/New_York by `make test`

COORD = "许昌联络员"


def test_the_matrix_separates_on_time_late_overdue_and_pending_items(campaign: Cli) -> None:
    walk_to_tracking(campaign)  # in tracking from 06-17: 许昌 owes 附件4 from June on
    campaign("deliverable", "submit", "--city", "许昌", "--kind", "attachment1", now="2024-06-03", actor=COORD)
    campaign("deliverable", "submit", "--city", "许昌", "--kind", "attachment2", now="2024-06-14", actor=COORD)
    campaign("request", "open", CODE, "--subject", "申请环评审批指导", "--received", "2024-06-03",
             now="2024-06-03", actor=COORD)
    campaign("request", "open", CODE, "--subject", "咨询治理设施选型", "--received", "2024-06-28",
             now="2024-06-28", actor=COORD)
    r = json.loads(campaign("report", "overdue", "--city", "许昌", "--json", now="2024-07-01").stdout)
    (xu,) = r["matrix"]
    assert xu["cells"]["attachment1"] == {"late": 1}  # due 05-31, submitted 06-03
    assert xu["cells"]["attachment2"] == {"done": 1}
    assert xu["cells"]["attachment4"] == {"overdue": 1, "pending": 5}  # June's report is past due
    kf = json.loads(campaign("report", "overdue", "--city", "开封", "--json", now="2024-07-01").stdout)
    assert kf["matrix"][0]["cells"]["attachment4"] == {"not_owed": 6}  # nobody in tracking: owes nothing
    assert xu["cells"]["requests"] == {"overdue": 1, "pending": 1}
    (late,) = [e for e in r["enterprises"] if e["issue"] == "overdue_request"]
    assert late["code"] == CODE and "申请环评审批指导" in late["detail"]
    deadlines = json.loads(campaign("deadlines", "--city", "许昌", "--json", now="2024-07-01").stdout)
    assert {d["kind"]: d["status"] for d in deadlines if d["kind"] in ("attachment1", "attachment2")} == \
        {"attachment1": "late", "attachment2": "submitted"}
    text = campaign("report", "overdue", "--city", "许昌", now="2024-07-01").stdout
    assert "迟1" in text and "诉求逾期未答复" in text
