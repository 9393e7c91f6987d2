"""`campaign demo`: a whole campaign year on a synthetic province, through the real services."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Cli

pytestmark = pytest.mark.slow


def test_the_demo_runs_a_year_with_filings_alerts_and_a_year_end_close(sqlite_cli: Cli) -> None:
    out = sqlite_cli("demo", "--enterprises", "800", "--seed", "7").stdout
    for heading in ("各阶段分布", "审计链校验", "态势页面", "目标完成情况"):
        assert heading in out
    assert "审计链完整 (intact)" in out
    assert "提醒函" in out and "催办通知" in out
    assert (sqlite_cli.home / "dashboard" / "index.html").is_file()
    assert any((sqlite_cli.home / "outbox").iterdir())
    # 认定应用: the year's publicity and certification-result notices, the positive list and the
    # cities' emission lists, counted in the closing summary.
    outbox = [p.name for p in (sqlite_cli.home / "outbox").iterdir()]
    for kind in ("publicity", "certification_result"):
        assert any(f"-{kind}-" in name for name in outbox), kind
    summary = next(line for line in out.splitlines() if line.startswith("认定应用"))
    assert "公示 0 份" not in summary and "认定结果 0 份" not in summary and "正面清单 0 家" not in summary
    assert (sqlite_cli.home / "清单" / "正面清单.xlsx").is_file()
    assert (sqlite_cli.home / "清单" / "应急减排清单.xlsx").is_file()

    after = "2025-01-02"
    status = json.loads(sqlite_cli("status", "--json", now=after).stdout)
    assert status["total"] > 0
    # The 2025-01-01 tick closed the year: no participation is left in a working phase.
    active = ("cultivation", "assistance", "tracking", "acceptance", "provincial_recheck", "certification")
    assert not any(status["by_state"][s] for s in active), status["by_state"]
    assert status["by_state"]["certified"] > 0 and status["by_state"]["not_achieved"] > 0
    # Cities filed their deliverables, most on time and some late; the rest are overdue.
    rows = json.loads(sqlite_cli("deadlines", "--json", now=after).stdout)
    kinds = {r["status"] for r in rows}
    assert {"submitted", "late"} <= kinds
    assert sum(r["status"] == "submitted" for r in rows) > sum(r["status"] == "late" for r in rows)
    needs = json.loads(sqlite_cli("request", "list", "--json", now=after).stdout)
    assert needs and all(n["status"] in ("answered", "late") for n in needs), {n["status"] for n in needs}
    sqlite_cli("audit", "verify", now=after)

    again = sqlite_cli("demo", "--enterprises", "800", expect=1)
    assert "空数据库" in again.stderr and "Traceback" not in again.stderr
