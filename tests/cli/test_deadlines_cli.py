"""Deliverables, deadlines, enterprise requests and working days through the CLI (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from tests.conftest import CODE, Cli
from tests.helpers.audit import audit_entries
from tests.helpers.lifecycle import walk_to_tracking
from tests.helpers.scheduling import HOLIDAYS_2027, keys, small_campaign, tick, write_calendar

pytestmark = pytest.mark.clock  # also run under TZ=America/New_York by `make test`


def _json(cli: Cli, *args: str, now: str, actor: str | None = None) -> Any:
    return json.loads(cli(*args, "--json", now=now, actor=actor).stdout)


def test_a_submitted_file_is_kept_in_the_document_store_with_its_hash(campaign: Cli) -> None:
    data = "培育清单".encode() * 100
    (campaign.home / "附件1.xlsx").write_bytes(data)
    r = _json(campaign, "deliverable", "submit", "--city", "许昌", "--kind", "attachment1", "--file", "附件1.xlsx",
              "--note", "第一批", now="2024-05-30", actor="许昌联络员")
    assert isinstance(r, dict)
    sha = hashlib.sha256(data).hexdigest()
    assert (r["late"], r["sha256"], r["file"]) == (False, sha, "附件1.xlsx")
    assert r["stored_path"] == f"documents/2024/许昌市/attachment1-2024-05-{sha[:8]}.xlsx"
    assert (campaign.home / r["stored_path"]).read_bytes() == data
    (entry,) = audit_entries(campaign, "submit_deliverable")
    assert (entry["city"], entry["actor"], entry["reason"]) == ("许昌市", "许昌联络员", "第一批")
    assert json.loads(entry["payload"])["sha256"] == sha
    campaign("audit", "verify", now="2024-05-30")


def test_a_late_submission_is_accepted_and_recorded_as_late(campaign: Cli) -> None:
    out = campaign("deliverable", "submit", "--city", "许昌市", "--kind", "attachment2", now="2024-06-18",
                   actor="许昌联络员").stdout
    assert "逾期 3 天" in out
    rows = _json(campaign, "deadlines", "--city", "许昌市", now="2024-06-20")
    assert isinstance(rows, list)
    (a2,) = [r for r in rows if r["kind"] == "attachment2"]
    assert (a2["status"], a2["submitted_on"], a2["days_late"]) == ("late", "2024-06-18", 3)


def test_a_deliverable_due_several_times_needs_its_period(campaign: Cli) -> None:
    r = campaign("deliverable", "submit", "--city", "许昌市", "--kind", "attachment4", now="2024-06-28",
                 actor="许昌联络员", expect=1)
    assert "--period" in r.stderr and "2024-06" in r.stderr
    r = campaign("deliverable", "submit", "--city", "许昌市", "--kind", "attachment4", "--period", "2024-08",
                 now="2024-06-28", actor="许昌联络员", expect=1)
    assert "尚未开始" in r.stderr
    r = campaign("deliverable", "submit", "--city", "许昌市", "--kind", "attachment9", now="2024-06-28",
                 actor="许昌联络员", expect=1)
    assert "attachment9" in r.stderr and "attachment1" in r.stderr
    campaign("deliverable", "submit", "--city", "许昌市", "--kind", "attachment4", "--period", "2024-06",
             now="2024-06-28", actor="许昌联络员")


def test_deadlines_show_status_and_days_per_city_and_filter(campaign: Cli) -> None:
    campaign("deliverable", "submit", "--city", "许昌市", "--kind", "attachment1", now="2024-05-29", actor="许昌联络员")
    rows = _json(campaign, "deadlines", now="2024-06-03")
    assert isinstance(rows, list)
    first = rows[0]
    assert {"city", "kind", "period", "due", "status", "days_left", "days_overdue"} <= set(first)
    a1 = {r["city"]: r for r in rows if r["kind"] == "attachment1"}
    assert len(a1) == 19
    assert (a1["许昌市"]["status"], a1["郑州市"]["status"], a1["郑州市"]["days_overdue"]) == ("submitted", "overdue", 3)
    overdue = _json(campaign, "deadlines", "--overdue", now="2024-06-03")
    assert isinstance(overdue, list) and {r["status"] for r in overdue} == {"overdue"} and len(overdue) == 18
    soon = _json(campaign, "deadlines", "--upcoming", "14", "--city", "许昌", now="2024-06-03")
    assert [(r["kind"], r["due"], r["days_left"]) for r in soon] == [("attachment2", "2024-06-15", 12)]
    assert not [r for r in rows if r["kind"] == "resubmission"]  # owed only after a failure
    text = campaign("deadlines", "--city", "许昌市", now="2024-06-03").stdout
    assert "附件2" in text and "剩 12 天" in text


def test_a_city_with_a_failed_enterprise_owes_the_resubmission(campaign: Cli) -> None:
    walk_to_tracking(campaign)
    campaign("advance", CODE, "record_evaluation", "--month", "2024-07", now="2024-07-20", actor="王专家")
    campaign("advance", CODE, "submit_for_acceptance", now="2024-07-22", actor="许昌联络员")
    campaign("advance", CODE, "fail_acceptance", "--reason", "未达标", now="2024-08-20", actor="许昌评审")
    rows = _json(campaign, "deadlines", now="2024-12-21")
    assert [(r["city"], r["status"]) for r in rows if r["kind"] == "resubmission"] == [("许昌市", "overdue")]


def test_requests_are_due_five_working_days_after_receipt_across_national_day(campaign: Cli) -> None:
    opened = {}
    for day in ("2024-09-26", "2024-09-27", "2024-09-30", "2024-10-01"):
        r = _json(campaign, "request", "open", CODE, "--subject", f"需求 {day}", now=day, actor="许昌联络员")
        assert isinstance(r, dict)
        opened[day] = r
    assert {d: r["due"] for d, r in opened.items()} == {
        "2024-09-26": "2024-10-09", "2024-09-27": "2024-10-10", "2024-09-30": "2024-10-12",
        "2024-10-01": "2024-10-12"}
    campaign("request", "answer", str(opened["2024-09-27"]["id"]), "--text", "已安排专家", now="2024-10-10",
             actor="许昌联络员")
    late = _json(campaign, "request", "answer", str(opened["2024-09-26"]["id"]), "--text", "已答复",
                 now="2024-10-11", actor="许昌联络员")
    assert isinstance(late, dict) and (late["late"], late["days_late"]) == (True, 2)
    again = campaign("request", "answer", str(opened["2024-09-26"]["id"]), "--text", "再答", now="2024-10-11",
                     actor="许昌联络员", expect=1)
    assert "已于 2024-10-11 答复" in again.stderr
    rows = _json(campaign, "request", "list", now="2024-10-14")
    assert isinstance(rows, list)
    assert {"id", "code", "received", "due", "status"} <= set(rows[0])
    assert [r["status"] for r in rows] == ["late", "answered", "overdue", "overdue"]
    overdue = _json(campaign, "request", "list", "--overdue", now="2024-10-12")
    assert overdue == []  # due 10-12 is still on time that day
    overdue = _json(campaign, "request", "list", "--overdue", now="2024-10-13")
    assert isinstance(overdue, list) and [r["received"] for r in overdue] == ["2024-09-30", "2024-10-01"]


def test_an_unanswered_request_is_reminded_then_escalated_once(cli: Cli) -> None:
    small_campaign(cli)
    cli("request", "open", CODE, "--subject", "申请治理设施技术指导", now="2024-09-27", actor="许昌联络员")  # due 10-10
    assert [k for k in keys(tick(cli, "2024-10-09")) if k.startswith("request")] == [
        "request_due:1:许昌市:2024-10-10:-1"]
    assert tick(cli, "2024-10-09")["created"] == 0
    assert [k for k in keys(tick(cli, "2024-10-11")) if k.startswith("request")] == [
        "request_overdue:1:许昌市:2024-10-10:+1"]
    cli("request", "answer", "1", "--text", "已答复", now="2024-10-12", actor="许昌联络员")
    assert not [k for k in keys(tick(cli, "2024-10-18")) if k.startswith("request")]


def test_workdays_due_prints_the_nth_working_day(campaign: Cli) -> None:
    assert campaign("workdays", "due", "2024-09-27", "5", now="2024-09-27").stdout.strip().splitlines()[-1] == \
        "2024-10-10"


def test_a_year_missing_from_the_calendar_data_is_an_error_naming_the_year_and_file(cli: Cli) -> None:
    r = cli("workdays", "due", "2026-12-30", "5", expect=1)  # no database yet: the shipped calendar
    assert "2027" in r.stderr and "henan-2024.toml" in r.stderr and "Traceback" not in r.stderr
    custom = write_calendar(cli.home, "calendar-2027.toml", workdays=HOLIDAYS_2027)
    assert cli("workdays", "due", "2026-12-30", "5", "--calendar", custom).stdout.strip() == "2027-01-07"
    assert cli("workdays", "due", "2027-09-30", "5", "--calendar", custom).stdout.strip() == "2027-10-13"


def test_a_2027_campaign_counts_working_days_from_its_own_override_table(cli: Cli) -> None:
    cal = write_calendar(cli.home, "henan-2027.toml", year=2027, workdays=HOLIDAYS_2027)
    cli("init", "--simulation", "--calendar", cal, now="2027-05-06")
    cli("actor", "add", "省管理员", "--role", "province_admin", now="2027-05-06")
    cli("enterprise", "add", "--code", CODE, "--name", "许昌恒达耐材有限公司", "--city", "许昌市", "--industry", "耐材",
        "--grade", "C", "--rating-doc", "豫环文1号", now="2027-05-06", actor="省管理员")
    r = _json(cli, "request", "open", CODE, "--subject", "咨询", now="2027-09-30", actor="省管理员")
    assert isinstance(r, dict) and r["due"] == "2027-10-13"  # 10-08, 10-09 (make-up), 10-11, 10-12, 10-13
    assert cli("workdays", "due", "2027-09-30", "5", now="2027-09-30").stdout.strip() == "2027-10-13"


def test_a_2027_campaign_without_an_override_table_names_its_calendar_file(cli: Cli) -> None:
    cal = write_calendar(cli.home, "henan-2027.toml", year=2027)
    cli("init", "--simulation", "--calendar", cal, now="2027-05-06")
    cli("actor", "add", "省管理员", "--role", "province_admin", now="2027-05-06")
    cli("enterprise", "add", "--code", CODE, "--name", "许昌恒达耐材有限公司", "--city", "许昌市", "--industry", "耐材",
        "--grade", "C", "--rating-doc", "豫环文1号", now="2027-05-06", actor="省管理员")
    r = cli("request", "open", CODE, "--subject", "咨询", now="2027-09-30", actor="省管理员", expect=1)
    assert "2027" in r.stderr and "henan-2027.toml" in r.stderr and '[workdays."2027"]' in r.stderr
    assert json.loads(cli("request", "list", "--json", now="2027-09-30").stdout) == []


def test_request_list_names_an_unknown_city_instead_of_listing_nothing(campaign: Cli) -> None:
    campaign("request", "open", CODE, "--subject", "咨询", now="2024-06-03", actor="许昌联络员")
    r = campaign("request", "list", "--city", "火星", now="2024-06-03", expect=1)
    assert "未知城市 '火星'" in r.stderr and "Traceback" not in r.stderr
    assert [x["city"] for x in _json(campaign, "request", "list", "--city", "许昌", now="2024-06-03")] == ["许昌市"]
    assert _json(campaign, "request", "list", "--city", "郑州市", now="2024-06-03") == []


def test_request_open_checks_the_credit_code_before_anything_else(campaign: Cli) -> None:
    r = campaign("request", "open", "BADCODE", "--subject", "咨询", now="2024-06-03", actor="许昌联络员", expect=1)
    assert "18位" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = campaign("request", "open", CODE[:-1] + ("X" if CODE[-1] != "X" else "Y"), "--subject", "咨询",
                 now="2024-06-03", actor="许昌联络员", expect=1)
    assert "校验位" in r.stderr
    assert _json(campaign, "request", "list", now="2024-06-03") == []
