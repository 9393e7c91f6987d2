"""The lifecycle through the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from tests.conftest import CODE, Cli
from tests.helpers.lifecycle import ENROLL, walk_to_certification, walk_to_tracking

pytestmark = pytest.mark.clock  # also run under TZ=America/New_York by `make test`


def show(cli: Cli, now: str = "2024-12-01") -> dict:
    return json.loads(cli("enterprise", "show", CODE, "--json", now=now).stdout)


def test_an_enterprise_goes_from_enrollment_to_certification(campaign: Cli) -> None:
    walk_to_certification(campaign)
    campaign("advance", CODE, "publicize", now="2024-09-02", actor="许昌联络员")
    campaign("advance", CODE, "certify", "--grade", "B", now="2024-09-12", actor="省管理员")
    record = show(campaign)
    assert record["state"] == "certified"
    assert record["achieved_grade"] == "B" and record["grade"] == "B"
    assert record["starting_grade"] == "C"
    history = json.loads(campaign("history", CODE, "--json", now="2024-12-01").stdout)
    assert [h["event"] for h in history][-3:] == ["waive_recheck", "publicize", "certify"]
    assert all(h["prev_hash"] and h["hash"] for h in history)
    campaign("audit", "verify", now="2024-12-01")


def test_start_assistance_before_june_is_refused_naming_the_window(campaign: Cli) -> None:
    campaign(*ENROLL, now="2024-05-20", actor="许昌联络员")
    result = campaign("advance", CODE, "start_assistance", now="2024-05-25", actor="许昌联络员",
                      expect=1)
    assert "2024-06-01" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert show(campaign, "2024-05-25")["state"] == "cultivation"


def test_enrolling_after_may_31_is_allowed_and_marked_late(campaign: Cli) -> None:
    out = campaign(*ENROLL, "--json", now="2024-06-03", actor="许昌联络员").stdout
    assert json.loads(out)["late"] is True
    assert show(campaign)["enrolled_late"] is True


def test_enrollment_needs_consent_and_a_higher_target(campaign: Cli) -> None:
    r = campaign("advance", CODE, "enroll", "--target-grade", "B", now="2024-05-20",
                 actor="许昌联络员", expect=1)
    assert "企业自愿" in r.stderr or "consent" in r.stderr
    r = campaign("advance", CODE, "enroll", "--consent", "x", "--target-grade", "D",
                 now="2024-05-20", actor="许昌联络员", expect=1)
    assert "目标等级" in r.stderr


def test_a_failed_acceptance_may_resubmit_until_december_20(campaign: Cli) -> None:
    walk_to_tracking(campaign)
    campaign("advance", CODE, "record_evaluation", "--month", "2024-07", now="2024-07-20", actor="王专家")
    campaign("advance", CODE, "submit_for_acceptance", now="2024-07-22", actor="许昌联络员")
    campaign("advance", CODE, "fail_acceptance", "--reason", "治理设施未达标", now="2024-11-20",
             actor="许昌评审")
    campaign("advance", CODE, "begin_tracking", now="2024-12-02", actor="许昌联络员")
    campaign("advance", CODE, "record_evaluation", "--month", "2024-12", now="2024-12-05", actor="王专家")
    campaign("advance", CODE, "submit_for_acceptance", now="2024-12-10", actor="许昌联络员")
    campaign("advance", CODE, "pass_acceptance", now="2024-12-18", actor="许昌评审")
    campaign("advance", CODE, "pass_recheck", now="2024-12-19", actor="省复核员")
    assert show(campaign)["state"] == "certification"


def test_a_participation_that_never_failed_keeps_the_ordinary_windows(campaign: Cli) -> None:
    walk_to_tracking(campaign)
    campaign("advance", CODE, "record_evaluation", "--month", "2024-07", now="2024-07-20", actor="王专家")
    r = campaign("advance", CODE, "submit_for_acceptance", now="2024-12-10", actor="许昌联络员",
                 expect=1)
    assert "2024-11-30" in r.stderr


def test_a_second_evaluation_for_the_same_month_is_refused(campaign: Cli) -> None:
    walk_to_tracking(campaign)
    campaign("advance", CODE, "record_evaluation", "--month", "2024-07", now="2024-07-20", actor="王专家")
    r = campaign("advance", CODE, "record_evaluation", "--month", "2024-07", now="2024-07-28",
                 actor="王专家", expect=1)
    assert "2024-07" in r.stderr


def test_steel_targeting_a_needs_publicized_ultra_low_emission(cli: Cli) -> None:
    from tests.conftest import bootstrap

    bootstrap(cli)
    cli("enterprise", "add", "--code", CODE, "--name", "许昌钢铁", "--city", "许昌", "--industry", "钢铁",
        "--grade", "B", "--rating-doc", "豫环文1号", "--ule", "completed", now="2024-05-06", actor="许昌联络员")
    cli("advance", CODE, "enroll", "--consent", "c1", "--target-grade", "A", now="2024-05-20",
        actor="许昌联络员")
    cli("assign", CODE, "--expert", "王专家", now="2024-05-20", actor="省管理员")
    walk = [("start_assistance", "2024-06-03", (), "省管理员"),
            ("record_pre_assessment", "2024-06-05", ("--data", "findings=f"), "王专家"),
            ("submit_plan", "2024-06-10",
             ("--data", "summary=s", "--data", "measures=m", "--data", "completion_date=2024-09-01"), "王专家"),
            ("begin_tracking", "2024-06-17", (), "省管理员"),
            ("record_evaluation", "2024-07-20", ("--month", "2024-07"), "王专家")]
    for event, now, extra, who in walk:
        cli("advance", CODE, event, *extra, now=now, actor=who)
    r = cli("advance", CODE, "submit_for_acceptance", now="2024-07-22", actor="许昌联络员", expect=1)
    assert "超低排放" in r.stderr
    cli("enterprise", "update", CODE, "--ule", "publicized", "--ule-ref", "许环公示〔2024〕3号",
        "--ule-date", "2024-06-28", now="2024-07-22", actor="许昌评审")
    cli("advance", CODE, "submit_for_acceptance", now="2024-07-22", actor="许昌联络员")


def test_certify_waits_for_the_publicity_period_to_end(campaign: Cli) -> None:
    walk_to_certification(campaign)
    campaign("advance", CODE, "publicize", now="2024-09-27", actor="许昌联络员")
    # 5 working days after 09-27 across National Day: 09-29 (调休), 09-30, 10-08, 10-09, 10-10
    r = campaign("advance", CODE, "certify", now="2024-10-10", actor="省管理员", expect=1)
    assert "2024-10-10" in r.stderr
    campaign("advance", CODE, "certify", now="2024-10-11", actor="省管理员")


def test_withdrawal_needs_a_reason_and_is_terminal(campaign: Cli) -> None:
    campaign(*ENROLL, now="2024-05-20", actor="许昌联络员")
    campaign("advance", CODE, "withdraw", now="2024-06-20", actor="许昌联络员", expect=1)
    campaign("advance", CODE, "withdraw", "--reason", "企业自愿退出", now="2024-06-20", actor="许昌联络员")
    r = campaign("advance", CODE, "start_assistance", now="2024-06-21", actor="许昌联络员", expect=1)
    assert "withdrawn" in r.stderr


def test_a_province_admin_may_override_a_window_with_a_reason(campaign: Cli) -> None:
    campaign(*ENROLL, now="2024-05-20", actor="许昌联络员")
    campaign("advance", CODE, "start_assistance", "--override-window", "--reason", "省厅批准提前",
             now="2024-05-25", actor="省管理员")
    history = json.loads(campaign("history", CODE, "--json", now="2024-05-25").stdout)
    assert history[-1]["payload"]["override_window"] is True
    assert history[-1]["reason"] == "省厅批准提前"


def test_an_unknown_event_and_an_unknown_enterprise_are_clear_errors(campaign: Cli) -> None:
    r = campaign("advance", CODE, "fly", now="2024-05-20", actor="许昌联络员", expect=1)
    assert "fly" in r.stderr
    r = campaign("advance", "91410100MA45C2R1XA", "enroll", now="2024-05-20", actor="许昌联络员",
                 expect=1)
    assert "校验位" in r.stderr


def test_status_counts_participations_by_state(campaign: Cli) -> None:
    campaign(*ENROLL, now="2024-05-20", actor="许昌联络员")
    data = json.loads(campaign("status", "--json", now="2024-05-20").stdout)
    assert data["by_state"]["cultivation"] == 1
    assert data["by_city"]["许昌市"] == {"cultivation": 1}
