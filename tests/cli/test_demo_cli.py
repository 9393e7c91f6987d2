"""`campaign demo`: a whole campaign year on a synthetic province, through the real services."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Cli

pytestmark = pytest.mark.slow


def test_the_demo_runs_a_year_with_filings_alerts_and_a_year_end_close(sqlite_cli: Cli) -> None:
    out = sqlite_cli("demo", "--enterprises", "800", "--seed", "7", "--workspace", "2024-10-09").stdout
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

    # The workspace copy stands on 2024-10-09 with work for every role, and the printed logins open it.
    assert "演示登录" in out and "许昌联络员" in out
    copy = Cli(str(sqlite_cli.home / "workspace.db"), sqlite_cli.home)
    mid = json.loads(copy("status", "--json", now="2024-10-09T10:00:00+08:00").stdout)
    assert all(mid["by_state"][s] for s in ("tracking", "acceptance", "certification")), mid["by_state"]
    _every_role_has_work(copy.db)

    again = sqlite_cli("demo", "--enterprises", "800", expect=1)
    assert "空数据库" in again.stderr and "Traceback" not in again.stderr


def _every_role_has_work(db: str) -> None:
    """Each printed login opens the copy, and on the held day each role has tasks waiting (in some
    city: this demo is small; `make demo`'s 6,000 enterprises give 许昌 work in every role)."""
    from dataclasses import replace

    from models.db import make_engine
    from workflow.clock import FixedClock, parse_instant
    from workflow.context import Context
    from workflow.demo import people as demo_people
    from workflow.demo.synthetic import CITIES
    from workflow.demo.workspace import PASSWORD, people
    from workflow.services import logins, tasks

    engine = make_engine(db)
    try:
        ctx = Context(engine=engine, simulation=True, clock=FixedClock(parse_instant("2024-10-09T10:00:00+08:00")))
        for _, name in people():
            opened = logins.login(ctx, name, PASSWORD, "127.0.0.1")
            assert opened.who.name == name and not opened.who.must_change
        by_role = {"province_admin": [demo_people.PROVINCE_ADMIN],
                   "province_reviewer": [demo_people.PROVINCE_REVIEWER],
                   "city_coordinator": [demo_people.coordinator(c) for c in CITIES],
                   "city_reviewer": [demo_people.reviewer(c) for c in CITIES],
                   "expert": [demo_people.expert(c) for c in CITIES]}
        for role, names in by_role.items():
            assert any(tasks.my_tasks(replace(ctx, actor=n)).total for n in names), role
    finally:
        engine.dispose()
