"""The scheduler's tick: a campaign year day by day, exactly-once alerts, catch-up after downtime,
the monthly evaluation obligation, ready-to-certify and the year-end close (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta

import pytest

from tests.conftest import CODE, Cli
from tests.helpers.lifecycle import ENROLL, walk_to_certification, walk_to_tracking
from tests.helpers.scheduling import days, keys, notices, small_campaign, tick, weekly

pytestmark = pytest.mark.clock  # also run under TZ=America/New_York by `make test`

END = date(2024, 12, 31)


def _history(cli: Cli, now: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = json.loads(cli("history", CODE, "--json", now=now).stdout)
    return rows


def _year_actions() -> dict[date, list[tuple[str, ...]]]:
    """Both cities file every deliverable two days before it is due, except 郑州's 附件1 (never)
    and 许昌's 附件2 (three days late)."""
    from workflow.domain.plan import default_text, parse

    actions: dict[date, list[tuple[str, ...]]] = {date(2024, 5, 20): [ENROLL],
                                                  date(2024, 6, 3): [("advance", CODE, "start_assistance")]}
    for d in parse(default_text()).deliverables.values():
        for due in d.dues:
            for city in ("郑州市", "许昌市"):
                if d.kind == "resubmission" or (city, d.kind) == ("郑州市", "attachment1"):
                    continue
                on = due.due + timedelta(days=3 if (city, d.kind) == ("许昌市", "attachment2") else -2)
                extra = ("--file", "名单.xlsx") if d.kind == "attachment1" else ()
                actions.setdefault(on, []).append(("deliverable", "submit", "--city", city, "--kind", d.kind,
                                                   "--period", due.period, *extra))
    return actions


def test_a_campaign_year_ticked_day_by_day_sends_every_alert_once(cli: Cli) -> None:
    small_campaign(cli)
    (cli.home / "名单.xlsx").write_bytes(b"PK fake xlsx")
    actions = _year_actions()
    created: Counter[str] = Counter()
    for day in days(date(2024, 5, 20), date(2025, 1, 1)):
        for args in actions.get(day, []):
            cli(*args, now=day.isoformat(), actor="郑州联络员" if "郑州市" in args else "许昌联络员")
        result = tick(cli, day, "--no-deliver") if day.day % 10 else tick(cli, day)
        created.update(keys(result))
        if day.day == 15:  # ticking twice on a day changes nothing
            assert tick(cli, day)["created"] == 0
    tick(cli, date(2025, 1, 1))  # delivers what the --no-deliver ticks left pending
    rows = notices(cli)
    assert len({r["key"] for r in rows}) == len(rows) == sum(created.values())
    assert set(created.values()) == {1}
    mine = {r["key"] for r in rows}
    zz = [f"reminder:attachment1:2024-05:郑州市:-{d}" for d in (7, 3, 1)]
    zz += [f"overdue:attachment1:2024-05:郑州市:+{n}" for n in weekly(date(2024, 5, 31), END)]
    assert {k for k in mine if k.startswith(("reminder:attachment1:", "overdue:attachment1:"))
            and "郑州市" in k} == set(zz)
    assert {k for k in mine if ":attachment1:" in k and "许昌市" in k} == {
        "reminder:attachment1:2024-05:许昌市:-7", "reminder:attachment1:2024-05:许昌市:-3"}  # filed 05-29
    assert {k for k in mine if ":attachment2:" in k and "许昌市" in k} == {
        "reminder:attachment2:2024-06:许昌市:-7", "reminder:attachment2:2024-06:许昌市:-3",
        "reminder:attachment2:2024-06:许昌市:-1", "overdue:attachment2:2024-06:许昌市:+1"}  # late, on 06-18
    on_time = [r["key"] for r in rows if r["city"] == "郑州市" and ":attachment1:" not in r["key"]]
    assert on_time and all(k.startswith("reminder:") and k.endswith(("-7", "-3")) for k in on_time)
    assert all(r["due"] is not None for r in rows)
    # the year-end close: the participation never reached tracking, so it ends not_achieved
    last = _history(cli, "2025-01-02")[-1]
    assert (last["event"], last["to_state"], last["actor"]) == ("close", "not_achieved", "system")
    deadline_rows = json.loads(cli("deadlines", "--city", "许昌市", "--json", now="2024-07-01").stdout)
    by_kind = {(r["kind"], r["period"]): r for r in deadline_rows}
    assert by_kind[("attachment1", "2024-05")]["status"] == "submitted"
    assert by_kind[("attachment2", "2024-06")]["status"] == "late"
    assert by_kind[("attachment4", "2024-06")]["status"] == "submitted"
    assert by_kind[("attachment4", "2024-07")]["status"] == "not_owed"  # nobody ever in tracking: a nil return
    assert not [k for k in mine if ":attachment4:" in k]  # nor any 附件4 reminder or overdue notice
    cli("audit", "verify", now="2025-01-02")
    outbox = list((cli.home / "outbox").iterdir())
    assert len(outbox) == len(rows)  # every recorded notice was delivered once


def test_a_tick_after_days_of_downtime_sends_the_missed_alerts_once(cli: Cli) -> None:
    small_campaign(cli)
    for day in days(date(2024, 5, 20), date(2024, 5, 26)):
        tick(cli, day)
    assert {k for k in keys(tick(cli, "2024-05-24"))} == set()
    # down from 05-27 to 06-02, across 附件1's due date (05-31): the -3 and -1 reminders were missed
    first = tick(cli, "2024-06-03")
    assert keys(first) == ["overdue:attachment1:2024-05:许昌市:+1", "overdue:attachment1:2024-05:郑州市:+1"]
    assert first["notices"][0]["due"] == "2024-05-31"
    assert tick(cli, "2024-06-03")["created"] == 0  # a second tick, or a restart, sends nothing again
    assert tick(cli, "2024-06-05")["created"] == 0
    later = keys(tick(cli, "2024-06-08"))
    assert "overdue:attachment1:2024-05:郑州市:+8" in later
    assert "reminder:attachment2:2024-06:郑州市:-7" in later
    rows = notices(cli)
    assert len(rows) == len({r["key"] for r in rows})
    overdue = [json.loads(r["context"]) for r in rows if r["key"] == "overdue:attachment1:2024-05:郑州市:+1"]
    assert overdue[0]["days_overdue"] == 3  # counted to the day it was actually sent


def test_a_participation_in_tracking_owes_an_evaluation_every_month(campaign: Cli) -> None:
    walk_to_tracking(campaign)  # tracking from 06-17, no June evaluation
    assert [n["key"] for n in tick(campaign, "2024-06-30", "--no-deliver")["notices"]
            if n["kind"] == "evaluation_missing"] == []
    july = tick(campaign, "2024-07-01", "--no-deliver")
    (june,) = [n for n in july["notices"] if n["kind"] == "evaluation_missing"]
    assert (june["key"], june["city"], june["code"], june["due"]) == (
        f"evaluation_missing:{CODE}:2024-06", "许昌市", CODE, "2024-06-30")
    campaign("advance", CODE, "record_evaluation", "--month", "2024-07", now="2024-07-20", actor="王专家")
    assert not [n for n in tick(campaign, "2024-08-01", "--no-deliver")["notices"]
                if n["kind"] == "evaluation_missing"]
    # August passes without one; the participation moves on 09-02, the scheduler was down until 09-03
    campaign("advance", CODE, "submit_for_acceptance", now="2024-09-02", actor="许昌联络员")
    sept = [n["key"] for n in tick(campaign, "2024-09-03", "--no-deliver")["notices"]
            if n["kind"] == "evaluation_missing"]
    assert sept == [f"evaluation_missing:{CODE}:2024-08"]
    again = tick(campaign, "2024-10-01", "--no-deliver")["notices"]
    assert not [n for n in again if n["kind"] == "evaluation_missing"]  # in acceptance: owes no more
    body = [json.loads(r["context"]) for r in notices(campaign) if r["kind"] == "evaluation_missing"]
    assert [b["period"] for b in body] == ["2024-06", "2024-08"]


def test_a_publicity_that_ends_without_objection_raises_ready_to_certify_once(campaign: Cli) -> None:
    walk_to_certification(campaign)
    campaign("advance", CODE, "publicize", now="2024-09-27", actor="许昌联络员")  # ends 10-10
    assert not [n for n in tick(campaign, "2024-10-10", "--no-deliver")["notices"]
                if n["kind"] == "ready_to_certify"]
    ready = [n for n in tick(campaign, "2024-10-11")["notices"] if n["kind"] == "ready_to_certify"]
    assert [n["key"] for n in ready] == [f"ready_to_certify:{CODE}:2024-10-10"]
    assert not [n for n in tick(campaign, "2024-10-12")["notices"] if n["kind"] == "ready_to_certify"]
    context = next(json.loads(r["context"]) for r in notices(campaign) if r["kind"] == "ready_to_certify")
    assert (context["publicity_start"], context["publicity_end"], context["grade"]) == (
        "2024-09-27", "2024-10-10", "B")


def test_an_objection_during_publicity_raises_no_ready_to_certify(campaign: Cli) -> None:
    walk_to_certification(campaign)
    campaign("advance", CODE, "publicize", now="2024-09-02", actor="许昌联络员")
    campaign("advance", CODE, "object", "--reason", "群众异议", now="2024-09-04", actor="许昌联络员")
    assert not [n for n in tick(campaign, "2024-09-20", "--no-deliver")["notices"]
                if n["kind"] == "ready_to_certify"]


def test_the_day_after_the_campaign_ends_every_open_participation_is_closed(campaign: Cli) -> None:
    walk_to_tracking(campaign)
    assert tick(campaign, "2024-12-31", "--no-deliver")["closed"] == 0
    assert tick(campaign, "2025-01-01", "--no-deliver")["closed"] == 1
    assert tick(campaign, "2025-01-02", "--no-deliver")["closed"] == 0
    last = _history(campaign, "2025-01-02")[-1]
    assert (last["event"], last["from_state"], last["to_state"], last["actor"]) == (
        "close", "tracking", "not_achieved", "system")
    assert json.loads(campaign("enterprise", "show", CODE, "--json", now="2025-01-02").stdout)["state"] == \
        "not_achieved"
    campaign("audit", "verify", now="2025-01-02")


def test_a_certified_participation_is_left_alone_at_the_year_end(campaign: Cli) -> None:
    walk_to_certification(campaign)
    campaign("advance", CODE, "publicize", now="2024-09-02", actor="许昌联络员")
    campaign("advance", CODE, "certify", "--grade", "B", now="2024-09-12", actor="省管理员")
    assert tick(campaign, "2025-01-01", "--no-deliver")["closed"] == 0
    assert _history(campaign, "2025-01-02")[-1]["event"] == "certify"


def test_a_campaign_long_over_sends_no_catch_up_alerts_but_is_still_closed(campaign: Cli) -> None:
    campaign(*ENROLL, now="2024-05-20", actor="许昌联络员")
    result = tick(campaign, "2025-03-01", "--no-deliver")
    assert (result["created"], result["closed"]) == (0, 1)
    plan = json.loads(campaign("scheduler", "plan", "--json", now="2024-12-20").stdout)
    assert plan == sorted(plan) and plan[0] > "2024-12-20" and plan[-1] == "2025-01-01"  # the close
    assert {"2024-12-21", "2024-12-28"} <= set(plan)  # 附件1 (due 05-31) overdue, weekly


def test_a_campaign_year_that_was_never_loaded_is_an_error_not_an_empty_tick(campaign: Cli) -> None:
    for args in (("scheduler", "tick", "--no-deliver"), ("scheduler", "plan")):
        r = campaign("--campaign", "2030", *args, now="2024-06-03", expect=1)
        assert "2030" in r.stderr and "2024" in r.stderr and "Traceback" not in r.stderr
    assert tick(campaign, "2024-06-03", "--no-deliver")["created"] > 0  # nothing was recorded before
