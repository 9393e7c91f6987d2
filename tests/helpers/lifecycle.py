"""Walk the conftest enterprise (CODE) along the lifecycle through the CLI."""

from __future__ import annotations

from tests.conftest import CODE, Cli

ENROLL = ("advance", CODE, "enroll", "--consent", "许昌-自愿-001", "--target-grade", "B")


def walk_to_tracking(cli: Cli) -> None:
    cli(*ENROLL, now="2024-05-20", actor="许昌联络员")
    cli("advance", CODE, "start_assistance", now="2024-06-03", actor="许昌联络员")
    cli("advance", CODE, "record_pre_assessment", "--data", "findings=无组织排放管控不足",
        now="2024-06-05", actor="王专家")
    cli("advance", CODE, "submit_plan", "--data", "summary=提标改造", "--data", "measures=更换除尘器",
        "--data", "completion_date=2024-09-30", now="2024-06-10", actor="王专家")
    cli("advance", CODE, "begin_tracking", now="2024-06-17", actor="许昌联络员")


def walk_to_certification(cli: Cli) -> None:
    walk_to_tracking(cli)
    cli("advance", CODE, "record_evaluation", "--month", "2024-07", now="2024-07-20", actor="王专家")
    cli("advance", CODE, "submit_for_acceptance", now="2024-07-22", actor="许昌联络员")
    cli("advance", CODE, "pass_acceptance", now="2024-07-25", actor="许昌评审")
    cli("advance", CODE, "waive_recheck", now="2024-08-05", actor="省复核员")
