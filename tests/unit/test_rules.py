"""Pure rules: credit codes, grades, working days, windows, the machine. No database."""

from __future__ import annotations

from datetime import date

import pytest

from workflow.domain import creditcode, grades
from workflow.domain.machine import fire
from workflow.domain.plan import default_text, parse
from workflow.domain.rules import Facts
from workflow.domain.workdays import WorkCalendar, YearOverride
from workflow.errors import InvalidInput, Refused

pytestmark = pytest.mark.clock  # also run under TZ=America/New_York by `make test`

PLAN = parse(default_text())


def test_the_example_credit_code_passes_the_checksum() -> None:
    assert creditcode.validate(" 91410100ma45c2r1xl ") == "91410100MA45C2R1XL"


@pytest.mark.parametrize("code, fragment", [
    ("91410100MA45C2R1XA", "校验位"),
    ("91410100MA45C2R1X", "18位"),
    ("91410100MA45C2R1OL", "非法字符"),
])
def test_a_wrong_credit_code_says_what_is_wrong(code: str, fragment: str) -> None:
    with pytest.raises(creditcode.CreditCodeError, match=fragment):
        creditcode.validate(code)


def test_make_completes_a_code_with_its_check_character() -> None:
    assert creditcode.make("91410100MA45C2R1X") == "91410100MA45C2R1XL"


def test_grades_order_and_what_counts_as_new() -> None:
    assert grades.is_higher("A", "B") and grades.is_higher("B-", "C")
    assert not grades.is_higher("C", "B-")
    assert grades.is_higher("引领性", "非引领性") and grades.is_higher("引领性", "未评级")
    assert not grades.is_higher("引领性", "C")  # different scales do not compare
    assert grades.counts_as_new("B", "C") and grades.counts_as_new("A", "B")
    assert not grades.counts_as_new("C", "D")  # C is not a counted grade
    assert not grades.counts_as_new("B", "B")
    assert not grades.counts_as_new("B", "B-")  # one class: B（含 B-）
    assert grades.is_higher("B", "B-")  # ... though still an improvement that may be certified
    assert grades.counts_as_new("A", "B-") and grades.counts_as_new("B-", "C")


def test_an_unknown_grade_lists_the_accepted_ones() -> None:
    with pytest.raises(InvalidInput, match="B-"):
        grades.normalise("E")
    assert grades.normalise("b-") == "B-" and grades.normalise("") == "未评级"


def test_five_working_days_around_national_day_2024() -> None:
    cal = WorkCalendar()
    # 09-29 (Sunday) is a make-up workday; 10-01…10-07 are holidays; 10-12 (Saturday) works.
    assert cal.nth_workday_after(date(2024, 9, 27), 5) == date(2024, 10, 10)
    assert cal.nth_workday_after(date(2024, 9, 30), 1) == date(2024, 10, 8)
    assert cal.nth_workday_after(date(2024, 10, 11), 1) == date(2024, 10, 12)


def test_a_year_unknown_to_the_calendar_data_is_an_error_naming_it() -> None:
    with pytest.raises(InvalidInput, match="2027"):
        WorkCalendar(source="henan-2027.toml").nth_workday_after(date(2027, 3, 1), 5)


def test_an_override_year_counts_its_holidays_and_make_up_days() -> None:
    cal = WorkCalendar({2027: YearOverride(frozenset({date(2027, 3, 2)}), frozenset({date(2027, 3, 6)}))})
    # 03-01 Mon → 03-02 holiday, 03-03, 03-04, 03-05, 03-06 (Saturday, make-up), 03-08
    assert cal.nth_workday_after(date(2027, 3, 1), 5) == date(2027, 3, 8)


def test_the_shipped_calendar_has_19_units_adding_up_to_630() -> None:
    assert len(PLAN.cities) == 19 and sum(PLAN.cities.values()) == 630
    assert PLAN.province_target == 600


def test_a_calendar_with_an_unknown_event_window_is_rejected() -> None:
    text = default_text().replace("[windows.start_assistance]", "[windows.fly]")
    with pytest.raises(InvalidInput, match="fly"):
        parse(text, source="bad.toml")


def test_start_assistance_before_its_window_is_refused_with_the_date() -> None:
    with pytest.raises(Refused, match="2024-06-01"):
        fire(PLAN, Facts("start_assistance", date(2024, 5, 20), "cultivation"))


def test_the_machine_moves_a_subject_and_reports_late_enrollment() -> None:
    facts = Facts("enroll", date(2024, 6, 2), "unenrolled", grade="C", target_grade="B",
                  payload={"consent": "c"})
    assert fire(PLAN, facts) == ("cultivation", True)


def test_a_failed_participation_gets_the_resubmission_windows() -> None:
    facts = Facts("submit_for_acceptance", date(2024, 12, 15), "tracking", target_grade="B",
                  evaluation_months=frozenset({"2024-12"}))
    with pytest.raises(Refused, match="2024-11-30"):
        fire(PLAN, facts)
    facts.failures = 1
    assert fire(PLAN, facts) == ("acceptance", False)


def test_disqualify_is_possible_even_after_certification_but_not_twice() -> None:
    assert fire(PLAN, Facts("disqualify", date(2024, 12, 1), "certified", reason="违纪"))[0] == "disqualified"
    with pytest.raises(Refused):
        fire(PLAN, Facts("disqualify", date(2024, 12, 1), "disqualified", reason="违纪"))


def test_certifiable_grades_follow_the_industry_scale_and_the_starting_grade() -> None:
    from workflow.domain.rules import certifiable_grades, return_grade

    assert certifiable_grades(PLAN, "耐材", "B-") == ("B", "A")
    assert certifiable_grades(PLAN, "玻璃", "未评级") == ("D", "C", "B-", "B", "A")
    assert certifiable_grades(PLAN, "化工", "未评级")[-2:] == ("非引领性", "引领性")
    assert certifiable_grades(PLAN, "化工", "非引领性") == ("引领性",)
    assert certifiable_grades(PLAN, "耐材", "A") == ()
    assert return_grade(PLAN, "耐材", "C", None) == "C"
    assert return_grade(PLAN, "耐材", "C", "d") == "D"
    with pytest.raises(Refused, match="D、C"):
        return_grade(PLAN, "耐材", "C", "B")


def test_an_a_is_refused_wherever_it_is_decided_without_publicized_ule() -> None:
    accept = Facts("pass_acceptance", date(2024, 8, 1), "acceptance", industry="焦化", ule="completed",
                   target_grade="A", starting_grade="B")
    with pytest.raises(Refused, match="超低排放"):
        fire(PLAN, accept)
    accept.ule = "publicized"
    assert fire(PLAN, accept)[0] == "provincial_recheck"
    certify = Facts("certify", date(2024, 9, 12), "certification", industry="水泥", ule="in_progress",
                    target_grade="B", starting_grade="C", publicity_start=date(2024, 9, 2),
                    publicity_end=date(2024, 9, 9), payload={"grade": "A"})
    with pytest.raises(Refused, match="超低排放"):
        fire(PLAN, certify)


def test_the_plan_needs_a_pre_assessment_and_re_enrolment_needs_a_withdrawal() -> None:
    plan = Facts("submit_plan", date(2024, 6, 10), "assistance",
                 payload={"summary": "s", "measures": "m", "completion_date": "2024-09-30"})
    with pytest.raises(Refused, match="预评估"):
        fire(PLAN, plan)
    plan.pre_assessed = True
    assert fire(PLAN, plan)[0] == "assistance"
    again = Facts("enroll", date(2024, 8, 1), "withdrawn", grade="C", target_grade="B", payload={"consent": "c"})
    assert fire(PLAN, again) == ("cultivation", True)
    again.state = "disqualified"
    with pytest.raises(Refused, match="取消评级资格"):
        fire(PLAN, again)
