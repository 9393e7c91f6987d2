"""What one event decides, from plain values: no database, no session."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time
from types import SimpleNamespace

import pytest

from models.tables import Participation, table
from workflow.clock import SHANGHAI, utc_iso
from workflow.domain.decide import RESERVED, Request, decide, decision_doc
from workflow.domain.machine import fire
from workflow.domain.plan import default_text, parse
from workflow.domain.rules import Facts
from workflow.errors import InvalidInput, Refused

pytestmark = pytest.mark.clock  # also run under TZ=America/New_York by `make test`

PLAN = parse(default_text())
CODE = "91410100MA45C2R1XL"
ENT = SimpleNamespace(grade="C", rating_doc="豫环绩效〔2023〕12号", industry="", ule="")


def _at(day: date) -> datetime:
    return datetime.combine(day, time(10), SHANGHAI)


def _part(**changes: object) -> SimpleNamespace:
    row = dict(state="cultivation", cycle=1, version=3, target_grade="B", starting_grade="C",
               starting_rating_doc="豫环绩效〔2023〕12号", failures=0, pre_assessed=False, plan_submitted=False,
               publicity_start=None, publicity_end=None, updated_at=utc_iso(_at(date(2024, 5, 20))))
    return SimpleNamespace(**{**row, **changes})


ENROLL = Request(code=CODE, event="enroll", consent="自愿-001", target_grade="B")


def test_a_request_is_keyword_only_and_frozen() -> None:
    with pytest.raises(TypeError):
        Request(CODE, "enroll")  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ENROLL.event = "withdraw"  # type: ignore[misc]


def test_a_first_enrolment_decides_the_new_row_and_audits_only_its_grades() -> None:
    d = decide(PLAN, ENROLL, CODE, ENT, None, now=_at(date(2024, 5, 20)))
    assert (d.source, d.dest, d.late, d.version, d.cycle) == ("unenrolled", "cultivation", False, 1, 1)
    assert d.changes["consent_ref"] == "自愿-001" and d.changes["failures"] == 0
    assert d.payload == {"consent": "自愿-001", "starting_grade": "C", "starting_rating_doc": "豫环绩效〔2023〕12号",
                         "target_grade": "B"}
    assert d.grade is None and d.month is None


def test_a_re_enrolment_starts_a_new_cycle_and_says_so_in_the_audit_entry() -> None:
    d = decide(PLAN, ENROLL, CODE, ENT, _part(state="withdrawn", failures=2, pre_assessed=True),
               now=_at(date(2024, 5, 21)))
    assert d.cycle == 2 and d.changes["failures"] == 0 and not d.changes["pre_assessed"] and d.version == 4
    assert d.payload["cycle"] == 2 and "failures" not in d.payload and "consent_ref" not in d.payload


def test_publicity_ends_the_given_number_of_working_days_later() -> None:
    part = _part(state="certification", updated_at=utc_iso(_at(date(2024, 11, 1))))
    d = decide(PLAN, Request(code=CODE, event="publicize"), CODE, ENT, part, now=_at(date(2024, 11, 4)))
    assert d.changes["publicity_start"] == date(2024, 11, 4)
    assert d.changes["publicity_end"] == PLAN.workcal.nth_workday_after(date(2024, 11, 4), PLAN.publicity_workdays)
    assert d.payload["publicity_start"] == "2024-11-04"  # audited as text


def test_a_certification_moves_the_grade_and_names_its_decision_when_no_document_is_given() -> None:
    part = _part(state="certification", publicity_start=date(2024, 10, 8), publicity_end=date(2024, 10, 14),
                 updated_at=utc_iso(_at(date(2024, 10, 8))))
    d = decide(PLAN, Request(code=CODE, event="certify"), CODE, ENT, part, now=_at(date(2024, 11, 4)))
    assert d.dest == "certified" and d.grade == ("B", None)
    assert d.payload["grade_from"] == "C" and d.payload["grade_to"] == "B"
    assert decision_doc(PLAN, "certify", 7).endswith("认定（审计#7）")


def test_data_may_not_set_what_the_engine_records() -> None:
    req = Request(code=CODE, event="start_assistance", data={"late": "no", "note": "x"})
    with pytest.raises(InvalidInput, match="late"):
        decide(PLAN, req, CODE, ENT, _part(), now=_at(date(2024, 6, 3)))


def test_the_reserved_payload_keys_cover_every_participation_column() -> None:
    assert set(table(Participation).c.keys()) <= RESERVED


def test_an_event_may_not_take_effect_before_the_previous_one() -> None:
    part = _part(updated_at=utc_iso(_at(date(2024, 6, 5))))
    with pytest.raises(Refused, match="上一事件"):
        decide(PLAN, Request(code=CODE, event="start_assistance"), CODE, ENT, part, now=_at(date(2024, 6, 3)))


def test_an_event_from_the_wrong_state_is_refused_by_the_rules_naming_the_state() -> None:
    with pytest.raises(Refused, match="不能执行 certify") as caught:
        fire(PLAN, Facts("certify", date(2024, 11, 4), "tracking"))
    assert caught.value.rule == "state"


def test_an_unknown_event_is_refused_with_the_known_ones() -> None:
    with pytest.raises(Refused, match="enroll") as caught:
        fire(PLAN, Facts("promote", date(2024, 11, 4), "tracking"))
    assert caught.value.rule == "event"
