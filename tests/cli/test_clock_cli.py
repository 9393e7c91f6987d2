"""Whose clock counts (issue 12, items 6–8 and 11): CAMPAIGN_NOW only on a simulation database, real
time elsewhere, an earlier effective date only from a province admin and never before the previous
event, calendars loaded only by a province admin, and the submitter of an acceptance not reviewing it."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from models.db import make_engine
from tests.conftest import CODE, DOC, Cli
from tests.helpers.audit import refusals
from tests.helpers.lifecycle import ENROLL, walk_to_tracking
from tests.helpers.scheduling import calendar_text
from tests.helpers.spreadsheets import write_csv
from workflow.clock import SHANGHAI

pytestmark = pytest.mark.clock  # also run under TZ=America/New_York by `make test`

REFUSED = "CAMPAIGN_NOW 只用于模拟数据库"
PAPER = "纸面决定：豫环〔2026〕1号"


def _count(cli: Cli, table: str) -> int:
    engine = make_engine(cli.db)
    try:
        with engine.connect() as c:
            return int(c.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def _history(cli: Cli, now: str | None = None) -> list[dict]:
    return json.loads(cli("history", CODE, "--json", now=now).stdout)


def _today_calendar(home: Path) -> str:
    """The shipped calendar moved so that its 07-01 falls on today: enrolment opened 61 days ago,
    assistance 30 days ago, both still open (a real database runs on today's date)."""
    delta = _today() - date(2024, 7, 1)
    head = calendar_text().partition("[workdays")[0]
    moved = re.sub(r"\d{4}-\d{2}-\d{2}", lambda m: (date.fromisoformat(m[0]) + delta).isoformat(), head)
    path = home / "today.toml"
    path.write_text(moved, "utf-8")
    return str(path)


def _real(cli: Cli) -> None:
    """A real database (no --simulation, no CAMPAIGN_NOW): an admin, a 许昌 coordinator, one enterprise."""
    cli("init", "--calendar", _today_calendar(cli.home))
    cli("actor", "add", "省管理员", "--role", "province_admin")
    cli("actor", "add", "许昌联络员", "--role", "city_coordinator", "--city", "许昌市", actor="省管理员")
    cli("enterprise", "add", "--code", CODE, "--name", "许昌恒达耐材有限公司", "--city", "许昌市",
        "--industry", "耐材", "--grade", "C", "--rating-doc", DOC, actor="许昌联络员")


def _today() -> date:
    """Today where the campaign runs (Asia/Shanghai), not where the test machine is."""
    return datetime.now(SHANGHAI).date()


def _ago(days: int) -> str:
    return (_today() - timedelta(days=days)).isoformat()


def test_on_a_real_database_campaign_now_is_refused_and_nothing_is_written(cli: Cli) -> None:
    _real(cli)
    entries, refused = _count(cli, "audit_entry"), _count(cli, "refusal")
    r = cli(*ENROLL, now="2024-05-20", actor="许昌联络员", expect=1)
    assert REFUSED in _one_line(r.stderr) and "clock override refused on a real database" in r.stderr
    assert REFUSED in _one_line(cli("status", now="2024-05-20", expect=1).stderr)  # reads too
    assert (_count(cli, "audit_entry"), _count(cli, "refusal")) == (entries, refused)
    status = cli("status")  # real time: no simulation mark
    assert "模拟" not in status.stdout
    assert json.loads(cli("status", "--json").stdout)["simulation"] is False
    cli(*ENROLL, actor="许昌联络员")  # today, inside the moved enrolment window
    assert _history(cli)[-1]["effective_at"][:10] in (_ago(0), _ago(1))  # UTC of today in Shanghai


def test_a_real_database_cannot_become_a_simulation(cli: Cli) -> None:
    cli("init")
    r = cli("init", "--simulation", expect=1)
    assert "不能改为模拟数据库" in _one_line(r.stderr)
    r = cli("init", "--simulation", now="2024-05-06", expect=1)  # not with a clock either
    assert "不能改为模拟数据库" in _one_line(r.stderr)
    assert REFUSED in cli("status", now="2024-05-06", expect=1).stderr  # still real


def test_init_without_simulation_refuses_campaign_now_and_creates_nothing(cli: Cli) -> None:
    r = cli("init", now="2024-05-06", expect=1)
    assert REFUSED in _one_line(r.stderr)
    assert "://" in cli.db or not Path(cli.db).exists()  # SQLite: no file left behind
    assert "模拟" in cli("init", "--simulation", now="2024-05-06").stdout
    assert "无变化" in cli("init", now="2024-05-06").stdout  # a simulation stays one


def test_a_simulation_honours_campaign_now_and_status_says_simulation(campaign: Cli) -> None:
    campaign(*ENROLL, now="2024-05-20", actor="许昌联络员")
    assert _history(campaign, "2024-05-20")[-1]["effective_at"].startswith("2024-05-20T01:00")
    out = campaign("status", now="2024-05-20").stdout
    assert out.splitlines()[0].startswith("【模拟 SIMULATION】")
    assert json.loads(campaign("status", "--json", now="2024-05-20").stdout)["simulation"] is True
    log = json.loads(campaign("audit", "log", "--json", now="2024-05-20").stdout)
    assert log[0]["event"] == "init_simulation" and log[0]["seq"] == 1


def test_a_backdated_campaign_now_earlier_than_the_last_event_is_refused(campaign: Cli) -> None:
    campaign(*ENROLL, now="2024-05-20", actor="许昌联络员")
    campaign("advance", CODE, "start_assistance", now="2024-06-05", actor="许昌联络员")
    r = campaign("advance", CODE, "record_pre_assessment", "--data", "findings=差距分析", now="2024-06-03",
                 actor="王专家", expect=1)
    line = _one_line(r.stderr)
    assert "2024-06-03 09:00" in line and "2024-06-05 09:00" in line and "上一事件" in line
    f = write_csv(campaign.home / "late.csv", ["code", "event", "data.findings"],
                  [[CODE, "record_pre_assessment", "差距分析"]])
    r = campaign("advance", "--file", str(f), now="2024-06-04", actor="王专家", expect=1)
    assert "上一事件" in r.stderr
    campaign("advance", CODE, "record_pre_assessment", "--data", "findings=差距分析", now="2024-06-05",
             actor="王专家")  # the same instant is not before


def test_effective_dates_on_a_real_database(cli: Cli) -> None:
    _real(cli)
    enroll = (*ENROLL, "--reason", PAPER)
    r = cli(*enroll, "--effective", _ago(10), actor="许昌联络员", expect=1)
    assert "权限" in _one_line(r.stderr) and "effective_date" in r.stderr
    r = cli(*ENROLL, "--effective", _ago(10), actor="省管理员", expect=1)
    assert "--reason" in _one_line(r.stderr)
    r = cli(*enroll, "--effective", (_today() + timedelta(days=1)).isoformat(), actor="省管理员", expect=1)
    assert "未来" in _one_line(r.stderr)
    r = cli(*enroll, "--effective", _ago(70), actor="省管理员", expect=1)  # the window is checked on that day
    assert "时间窗口" in _one_line(r.stderr) and _ago(70) in r.stderr
    cli(*enroll, "--effective", _ago(10), actor="省管理员")
    entry = _history(cli)[-1]
    assert entry["payload"]["effective"] == _ago(10) and entry["payload"]["effective_reason"] == PAPER
    assert entry["effective_at"].startswith(f"{_ago(10)}T01:00") and entry["recorded_at"][:10] >= _ago(1)
    r = cli("advance", CODE, "start_assistance", "--effective", _ago(12), "--reason", PAPER,
            actor="省管理员", expect=1)
    assert "上一事件" in _one_line(r.stderr) and _ago(12) in r.stderr and _ago(10) in r.stderr
    cli("advance", CODE, "start_assistance", "--effective", _ago(5), "--reason", PAPER, actor="省管理员")
    assert _history(cli)[-1]["effective_at"].startswith(f"{_ago(5)}T01:00")
    assert [(a, e) for a, e, _ in refusals(cli)] == [("许昌联络员", "enroll")] + [("省管理员", "enroll")] * 3 + [
        ("省管理员", "start_assistance")]


def test_an_effective_column_enters_a_backlog_for_a_province_admin_only(campaign: Cli) -> None:
    head = ["code", "event", "consent", "target_grade", "effective", "reason"]
    f = write_csv(campaign.home / "backlog.csv", head,
                  [[CODE, "enroll", "自愿-1", "B", "2024-11-10", PAPER],
                   [CODE, "start_assistance", "", "", "2024-11-12", PAPER]])
    r = campaign("advance", "--file", str(f), now="2024-11-20", actor="许昌联络员", expect=1)
    assert "权限" in r.stderr and "effective_date" in r.stderr
    campaign("advance", "--file", str(f), now="2024-11-20", actor="省管理员")  # windows closed 11-15
    assert [(e["event"], e["effective_at"][:10], e["payload"]["effective"]) for e in _history(campaign, "2024-11-20")] \
        == [("enroll", "2024-11-10", "2024-11-10"), ("start_assistance", "2024-11-12", "2024-11-12")]
    r = campaign("advance", CODE, "record_pre_assessment", "--data", "findings=x", now="2024-11-20",
                 actor="王专家", expect=1)
    assert "时间窗口" in r.stderr  # without a date of its own, an event takes today's window


def test_init_calendar_by_an_unregistered_actor_after_bootstrap_is_refused_and_recorded(campaign: Cli) -> None:
    cal = campaign.home / "henan-2025.toml"
    cal.write_text(calendar_text(year=2025), "utf-8")
    r = campaign("init", "--calendar", str(cal), now="2025-05-06", actor="无名氏", expect=1)
    assert "未登记" in _one_line(r.stderr)
    r = campaign("init", "--calendar", str(cal), now="2025-05-06", expect=1)
    assert "--actor" in _one_line(r.stderr)
    r = campaign("init", "--calendar", str(cal), now="2025-05-06", actor="许昌联络员", expect=1)
    assert "权限" in _one_line(r.stderr) and "calendar_load" in r.stderr
    assert [(a, e) for a, e, _ in refusals(campaign)] == [("无名氏", "campaign_init"), ("", "campaign_init"),
                                                          ("许昌联络员", "campaign_init")]
    assert "已初始化 2025" in campaign("init", "--calendar", str(cal), now="2025-05-06", actor="省管理员").stdout
    log = json.loads(campaign("audit", "log", "--event", "campaign_init", "--json", now="2025-05-06").stdout)
    assert [(e["campaign_year"], e["actor"], e["role"]) for e in log][-1] == (2025, "省管理员", "province_admin")
    campaign("init", now="2025-05-06", actor="无名氏")  # nothing to load: nothing refused, nothing written


def test_whoever_submitted_for_acceptance_may_not_pass_or_fail_it(campaign: Cli) -> None:
    campaign("actor", "add", "许昌双岗", "--role", "city_coordinator", "--role", "city_reviewer", "--city", "许昌市",
             now="2024-05-06", actor="省管理员")
    walk_to_tracking(campaign)
    campaign("advance", CODE, "record_evaluation", "--month", "2024-07", now="2024-07-20", actor="王专家")
    campaign("advance", CODE, "submit_for_acceptance", now="2024-07-22", actor="许昌双岗")
    for event in ("pass_acceptance", "fail_acceptance"):
        r = campaign("advance", CODE, event, "--reason", "不达标", now="2024-07-25", actor="许昌双岗", expect=1)
        assert _one_line(r.stderr).startswith("错误 Error: 职责分离") and "申请了企业" in r.stderr
    f = write_csv(campaign.home / "pass.csv", ["code", "event"], [[CODE, "pass_acceptance"]])
    r = campaign("advance", "--file", str(f), now="2024-07-25", actor="许昌双岗", expect=1)
    assert "职责分离" in r.stderr
    campaign("advance", CODE, "fail_acceptance", "--reason", "不达标", now="2024-07-25", actor="许昌评审")
    campaign("advance", CODE, "begin_tracking", now="2024-07-26", actor="许昌联络员")  # failed: back to assistance
    campaign("advance", CODE, "submit_for_acceptance", now="2024-07-26", actor="许昌联络员")
    campaign("advance", "--file", str(f), now="2024-07-29", actor="许昌双岗")  # submitted by another this time
    assert ("许昌双岗", "pass_acceptance", "职责分离") in refusals(campaign)


def test_a_batch_submitting_and_reviewing_in_one_file_is_refused(campaign: Cli) -> None:
    campaign("actor", "add", "许昌双岗", "--role", "city_coordinator", "--role", "city_reviewer", "--city", "许昌市",
             now="2024-05-06", actor="省管理员")
    walk_to_tracking(campaign)
    campaign("advance", CODE, "record_evaluation", "--month", "2024-07", now="2024-07-20", actor="王专家")
    f = write_csv(campaign.home / "both.csv", ["code", "event"],
                  [[CODE, "submit_for_acceptance"], [CODE, "pass_acceptance"]])
    r = campaign("advance", "--file", str(f), now="2024-07-25", actor="许昌双岗", expect=1)
    assert "第 3 行" in r.stderr and "职责分离" in r.stderr


def test_advance_file_by_an_unknown_actor_is_refused_and_recorded(campaign: Cli) -> None:
    f = write_csv(campaign.home / "enroll.csv", ["code", "event", "consent", "target_grade"],
                  [[CODE, "enroll", "自愿-1", "B"]])
    r = campaign("advance", "--file", str(f), now="2024-05-20", actor="无名氏", expect=1)
    assert "未登记" in _one_line(r.stderr)
    assert ("无名氏", "batch", "actor") in refusals(campaign)
