"""The two spot-check rounds (08月 and 秋冬季) and nil returns: a city owes a month's 附件4 only when
one of its enterprises was in tracking during that month (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import Cli
from tests.helpers.lifecycle import walk_to_tracking
from tests.helpers.scheduling import keys, tick
from tests.helpers.spot_checks import XU, ZZ, awaiting_recheck
from workflow.domain.creditcode import make

pytestmark = pytest.mark.clock  # also run under TZ=America/New_York by `make test`

ROUNDS = "8月抽查复核（2024-08-01 至 2024-08-31）或 秋冬季抽查复核（2024-10-01 至 2024-12-15）"
ZZ_CODE = make("91410100000000077")  # a 郑州 enterprise that leaves tracking in June


def _rows(cli: Cli, sql: str) -> list[tuple[Any, ...]]:
    from models.db import make_engine

    engine = make_engine(cli.db)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


def _draw(cli: Cli, day: str, *args: str, expect: int = 0) -> Any:
    r = cli("recheck", "sample", *args, "--json", now=day, actor="省复核员", expect=expect)
    return json.loads(r.stdout) if expect == 0 else r.stderr


def test_a_draw_between_the_two_rounds_is_refused_with_both_rounds_dates(cli: Cli) -> None:
    awaiting_recheck(cli)
    err = _draw(cli, "2024-09-15", "--rate", "0.5", expect=1)
    assert f"抽查复核只能在 {ROUNDS} 期间抽样" in err and len(err.strip().splitlines()) == 1
    assert _rows(cli, "SELECT count(*) FROM spot_check") == [(0,)]
    assert _rows(cli, "SELECT count(*) FROM spot_check_pick") == [(0,)]
    assert json.loads(cli("audit", "log", "--event", "spot_check", "--json").stdout) == []
    assert ("省复核员", "spot_check", "抽查轮次") in _rows(cli, "SELECT actor, event, rule FROM refusal")


def test_each_draw_records_the_round_it_belongs_to(cli: Cli) -> None:
    awaiting_recheck(cli)
    august = _draw(cli, "2024-08-10", "--city", "许昌", "--rate", "0.5")
    autumn = _draw(cli, "2024-10-08", "--city", "郑州", "--rate", "1")
    assert (august["round"], august["round_title"], august["population"]) == ("august", "8月抽查复核", sorted(XU))
    assert (autumn["round"], autumn["round_title"], autumn["population"]) == ("autumn_winter", "秋冬季抽查复核",
                                                                              sorted(ZZ))
    assert _rows(cli, "SELECT city, round FROM spot_check ORDER BY id") == [("许昌市", "august"),
                                                                            ("郑州市", "autumn_winter")]
    log = json.loads(cli("audit", "log", "--event", "spot_check", "--json").stdout)
    assert [e["payload"]["round"] for e in log] == ["august", "autumn_winter"]
    cli("audit", "verify")
    out = cli("recheck", "sample", "--rate", "1", now="2024-12-15", actor="省复核员").stdout  # last day
    assert out.startswith("秋冬季抽查复核（全省）")


def _zhengzhou_tracked_in_june_only(cli: Cli) -> None:
    """A 郑州 enterprise in tracking from 06-17 that withdraws on 06-20."""
    coord = "郑州联络员"
    cli("enterprise", "add", "--code", ZZ_CODE, "--name", "郑州华通耐材有限公司", "--city", "郑州市",
        "--industry", "耐材", "--grade", "C", "--rating-doc", "豫环文〔2023〕77号", now="2024-05-06",
        actor=coord)
    cli("assign", ZZ_CODE, "--expert", "王专家", now="2024-05-06", actor="省管理员")
    cli("advance", ZZ_CODE, "enroll", "--consent", "郑州-自愿-001", "--target-grade", "B", now="2024-05-20",
        actor=coord)
    cli("advance", ZZ_CODE, "start_assistance", now="2024-06-03", actor=coord)
    cli("advance", ZZ_CODE, "record_pre_assessment", "--data", "findings=无组织排放", now="2024-06-05", actor="王专家")
    cli("advance", ZZ_CODE, "submit_plan", "--data", "summary=提标改造", "--data", "measures=更换除尘器",
        "--data", "completion_date=2024-09-30", now="2024-06-10", actor="王专家")
    cli("advance", ZZ_CODE, "begin_tracking", now="2024-06-17", actor=coord)
    cli("advance", ZZ_CODE, "withdraw", "--reason", "企业自愿退出", now="2024-06-20", actor=coord)


def test_only_cities_with_someone_in_tracking_that_month_are_reminded_of_its_tracking_report(
        campaign: Cli) -> None:
    walk_to_tracking(campaign)  # 许昌: in tracking from 06-17 on
    _zhengzhou_tracked_in_june_only(campaign)
    june = [k for k in keys(tick(campaign, "2024-06-23", "--no-deliver")) if ":attachment4:" in k]
    assert june == ["reminder:attachment4:2024-06:许昌市:-7", "reminder:attachment4:2024-06:郑州市:-7"]
    july = [k for k in keys(tick(campaign, "2024-07-01", "--no-deliver")) if ":attachment4:" in k]
    assert july == ["overdue:attachment4:2024-06:许昌市:+1", "overdue:attachment4:2024-06:郑州市:+1"]
    august = [k for k in keys(tick(campaign, "2024-08-01", "--no-deliver")) if ":attachment4:" in k]
    assert august == ["overdue:attachment4:2024-06:许昌市:+29", "overdue:attachment4:2024-06:郑州市:+29",
                      "overdue:attachment4:2024-07:许昌市:+1"]  # 郑州 had nobody in tracking in July


def test_deadlines_and_the_overdue_report_show_a_month_nobody_was_tracked_as_not_owed(campaign: Cli) -> None:
    walk_to_tracking(campaign)
    _zhengzhou_tracked_in_june_only(campaign)
    rows = json.loads(campaign("deadlines", "--json", now="2024-08-01").stdout)
    a4 = {(r["city"], r["period"]): r for r in rows if r["kind"] == "attachment4"}
    assert (a4[("开封市", "2024-06")]["status"], a4[("开封市", "2024-06")]["days_overdue"]) == ("not_owed", None)
    assert a4[("许昌市", "2024-06")]["status"] == a4[("郑州市", "2024-06")]["status"] == "overdue"
    assert (a4[("许昌市", "2024-07")]["status"], a4[("郑州市", "2024-07")]["status"]) == ("overdue", "not_owed")
    assert a4[("许昌市", "2024-08")]["status"] == "pending" and a4[("郑州市", "2024-08")]["status"] == "not_owed"
    overdue = json.loads(campaign("deadlines", "--overdue", "--json", now="2024-08-01").stdout)
    assert sorted((r["city"], r["period"]) for r in overdue if r["kind"] == "attachment4") == [
        ("许昌市", "2024-06"), ("许昌市", "2024-07"), ("郑州市", "2024-06")]
    report = json.loads(campaign("report", "overdue", "--json", now="2024-08-01").stdout)
    cells = {x["city"]: x["cells"]["attachment4"] for x in report["matrix"]}
    assert cells["许昌市"] == {"overdue": 2, "pending": 4}
    assert cells["郑州市"] == {"overdue": 1, "not_owed": 5}
    assert cells["开封市"] == {"not_owed": 6}
    assert "无须报送" in campaign("deadlines", "--city", "开封", now="2024-08-01").stdout
    # a nil return may still be filed; it is then shown as submitted, never late
    campaign("deliverable", "submit", "--city", "开封市", "--kind", "attachment4", "--period", "2024-07",
             now="2024-08-02", actor="省管理员")
    rows = json.loads(campaign("deadlines", "--city", "开封", "--json", now="2024-08-02").stdout)
    assert {r["period"]: r["status"] for r in rows if r["kind"] == "attachment4"}["2024-07"] == "submitted"


def test_a_month_becomes_owed_the_day_someone_of_the_city_enters_tracking(campaign: Cli) -> None:
    def tracking_reports(now: str) -> dict[str, str]:
        rows = json.loads(campaign("deadlines", "--city", "许昌", "--json", now=now).stdout)
        return {r["period"]: r["status"] for r in rows if r["kind"] == "attachment4"}

    assert set(tracking_reports("2024-06-10").values()) == {"not_owed"}  # nobody in tracking yet
    walk_to_tracking(campaign)  # begins tracking on 06-17
    assert set(tracking_reports("2024-06-17").values()) == {"pending"}
