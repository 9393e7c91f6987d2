"""Whose next step, by when, and the form of each event (pure: workflow.domain.next_steps, forms)."""

from __future__ import annotations

from datetime import date

import pytest

from workflow.domain import forms, next_steps, rules
from workflow.domain.next_steps import Progress
from workflow.domain.plan import default_text, parse
from workflow.domain.states import EVENTS
from workflow.errors import InvalidInput, Refused
from workflow.services.permissions import roles_for

PLAN = parse(default_text())
OWNERS = {e: roles_for(e) for e in EVENTS}
DAY = date(2024, 8, 15)


def test_the_steps_of_each_role_come_from_the_machine_and_the_matrix() -> None:
    assert next_steps.steps_by_role(OWNERS) == {
        "city_coordinator": {"cultivation": ("start_assistance",), "assistance": ("begin_tracking",),
                             "tracking": ("submit_for_acceptance",), "certification": ("publicize",)},
        "expert": {"assistance": ("record_pre_assessment", "submit_plan"), "tracking": ("record_evaluation",)},
        "city_reviewer": {"acceptance": ("pass_acceptance",)},
        "province_reviewer": {"provincial_recheck": ("pass_recheck", "waive_recheck")},
        "province_admin": {"certification": ("certify",)},
    }
    labels = {e: next_steps.step_label(e, OWNERS) for e in ("pass_acceptance", "pass_recheck", "publicize",
                                                           "certify", "record_evaluation")}
    assert labels == {"pass_acceptance": "验收", "pass_recheck": "省级复核", "publicize": "公示", "certify": "认定",
                      "record_evaluation": "记录月度评估"}


@pytest.mark.parametrize(("events", "progress", "step"), [
    (("record_pre_assessment", "submit_plan"), Progress("assistance"), "record_pre_assessment"),
    (("record_pre_assessment", "submit_plan"), Progress("assistance", pre_assessed=True), "submit_plan"),
    (("record_pre_assessment", "submit_plan"), Progress("assistance", pre_assessed=True, plan_submitted=True), None),
    (("begin_tracking",), Progress("assistance", pre_assessed=True), None),
    (("begin_tracking",), Progress("assistance", plan_submitted=True), "begin_tracking"),
    (("record_evaluation",), Progress("tracking", evaluated=True, evaluated_this_month=True), None),
    (("submit_for_acceptance",), Progress("tracking"), None),
    (("publicize",), Progress("certification", publicity_start=date(2024, 8, 10)), None),
    (("certify",), Progress("certification", publicity_end=date(2024, 8, 15)), None),
    (("certify",), Progress("certification", publicity_end=date(2024, 8, 14)), "certify"),
])
def test_a_step_already_taken_or_not_yet_possible_is_nobodys(events: tuple[str, ...], progress: Progress,
                                                             step: str | None) -> None:
    assert next_steps.next_step(events, progress, DAY) == step


def test_a_pending_step_passes_the_rules_with_the_fields_its_form_asks_for() -> None:
    """next_steps.pending and forms.fields agree with rules.py: a step judged pending, submitted with
    its required fields, passes every guard but the window; without one of them it is refused."""
    progress = {"record_pre_assessment": Progress("assistance"),
                "submit_plan": Progress("assistance", pre_assessed=True),
                "begin_tracking": Progress("assistance", pre_assessed=True, plan_submitted=True),
                "record_evaluation": Progress("tracking"),
                "submit_for_acceptance": Progress("tracking", evaluated=True),
                "certify": Progress("certification", publicity_start=date(2024, 8, 1),
                                    publicity_end=date(2024, 8, 8))}
    values = {"month": "2024-08", "data:completion_date": "2024-09-30", "target_grade": "B", "grade": ""}
    for event, p in progress.items():
        assert next_steps.pending(event, p, DAY)
        form = {f.name: values.get(f.name, "x") for f in forms.fields(event)}
        req = forms.request(event, form, "C")
        facts = rules.Facts(event=event, today=DAY, state=p.state, grade="C", starting_grade="C", target_grade="B",
                            industry="耐材", pre_assessed=p.pre_assessed, plan_submitted=p.plan_submitted,
                            evaluation_months=frozenset({"2024-07"}) if p.evaluated else frozenset(),
                            publicity_start=p.publicity_start, publicity_end=p.publicity_end, reason=req.reason,
                            payload={**req.data, **({"month": req.month} if req.month else {})},
                            override_window=True)
        rules.check(PLAN, facts)
        for f in forms.fields(event):
            if f.required:
                with pytest.raises(InvalidInput):
                    forms.request(event, {**form, f.name: ""}, "C")


def test_every_event_that_needs_a_reason_asks_for_one_first() -> None:
    for event, spec in EVENTS.items():
        names = [f.name for f in forms.fields(event)]
        assert (names[:1] == ["reason"]) is spec.needs_reason, event
        if spec.needs_reason:
            with pytest.raises(Refused) as refused:
                rules.check(PLAN, rules.Facts(event=event, today=DAY, state=spec.sources[-1], override_window=True))
            assert refused.value.rule == "reason"


def test_due_dates_follow_the_windows_and_the_month() -> None:
    fresh, failed = Progress("tracking"), Progress("tracking", failures=1)
    assert next_steps.due(PLAN, "record_evaluation", fresh, DAY) == date(2024, 8, 31)
    assert next_steps.due(PLAN, "record_evaluation", fresh, date(2024, 11, 20)) == date(2024, 11, 30)
    assert next_steps.due(PLAN, "record_evaluation", failed, date(2024, 12, 5)) == date(2024, 12, 20)
    assert next_steps.due(PLAN, "start_assistance", Progress("cultivation"), DAY) == date(2024, 11, 15)
    assert next_steps.due(PLAN, "pass_recheck", Progress("provincial_recheck", failures=1), DAY) == date(2024, 12, 31)
    assert next_steps.due(PLAN, "enroll", Progress("withdrawn"), DAY) == date(2024, 5, 31)  # its late date
    assert [next_steps.urgency(d) for d in (None, -1, 0, 3, 4)] == ["none", "red", "yellow", "yellow", "green"]


def test_grade_fields_offer_the_grades_the_rules_allow() -> None:
    enroll = forms.with_choices(PLAN, "enroll", industry="耐材", grade="C", starting_grade=None)
    assert {f.name: f.choices for f in enroll}["target_grade"] == ("B-", "B", "A")
    certify = forms.with_choices(PLAN, "certify", industry="耐材", grade="C", starting_grade="C")
    assert [f.choices for f in certify if f.name == "grade"] == [("B-", "B", "A")]
    back = forms.with_choices(PLAN, "disqualify", industry="耐材", grade="B", starting_grade="C")
    assert [f.choices for f in back if f.name == "grade"] == [("未评级", "D", "C")]
    assert all(f.kind in forms.KINDS for e in EVENTS for f in forms.fields(e))
