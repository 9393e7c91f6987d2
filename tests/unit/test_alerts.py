"""When alerts fall due, and working days around holidays (pure: no database)."""

from __future__ import annotations

from datetime import date

import pytest

from workflow.domain.alerts import latest, month_days, series
from workflow.domain.plan import default_text, parse
from workflow.domain.workdays import WorkCalendar, YearOverride
from workflow.errors import InvalidInput

pytestmark = pytest.mark.clock  # also run under TZ=America/New_York by `make test`

DUE, END = date(2024, 5, 31), date(2024, 12, 31)


def test_a_deadline_has_reminders_7_3_1_days_before_then_weekly_overdue_alerts() -> None:
    points = series(DUE, (7, 3, 1), 7, date(2024, 6, 20))
    assert [(p.day.isoformat(), p.tag) for p in points] == [
        ("2024-05-24", "-7"), ("2024-05-28", "-3"), ("2024-05-30", "-1"),
        ("2024-06-01", "+1"), ("2024-06-08", "+8"), ("2024-06-15", "+15")]


def test_no_alert_falls_after_the_campaign_end() -> None:
    assert series(date(2024, 12, 31), (7, 3, 1), 7, END)[-1].day == date(2024, 12, 30)
    assert max(p.day for p in series(DUE, (7, 3, 1), 7, END)) <= END


def test_the_alert_to_send_is_the_latest_whose_day_has_come() -> None:
    points = series(DUE, (7, 3, 1), 7, END)
    assert latest(points, date(2024, 5, 23)) is None
    assert latest(points, date(2024, 5, 24)).tag == "-7"  # type: ignore[union-attr]
    assert latest(points, date(2024, 5, 31)).tag == "-1"  # type: ignore[union-attr]
    assert latest(points, date(2024, 6, 3)).tag == "+1"  # type: ignore[union-attr]  # missed -3, -1
    assert latest(points, date(2024, 6, 9)).tag == "+8"  # type: ignore[union-attr]


def test_reminders_before_a_request_was_received_are_dropped() -> None:
    points = series(date(2024, 10, 10), (7, 3, 1), 7, END, after=date(2024, 10, 5))
    assert [p.tag for p in points][:2] == ["-3", "-1"]


def test_month_days_give_the_first_day_of_the_following_month() -> None:
    assert month_days("2024-11", "2025-01") == [("2024-11", date(2024, 12, 1)), ("2024-12", date(2025, 1, 1)),
                                                ("2025-01", date(2025, 2, 1))]


@pytest.mark.parametrize(("received", "due"), [
    ("2024-09-26", "2024-10-09"),  # 09-27, 09-29 (调休), 09-30, 10-08, 10-09
    ("2024-09-27", "2024-10-10"),
    ("2024-09-30", "2024-10-12"),  # 10-08 … 10-11, 10-12 (调休 Saturday)
    ("2024-10-01", "2024-10-12"),  # received on a holiday: counting starts the next day
    ("2024-10-12", "2024-10-18"),
])
def test_five_working_days_around_national_day_2024(received: str, due: str) -> None:
    cal = parse(default_text()).workcal
    assert cal.nth_workday_after(date.fromisoformat(received), 5) == date.fromisoformat(due)


def test_a_year_unknown_to_the_package_and_the_file_is_an_error_naming_both() -> None:
    with pytest.raises(InvalidInput) as err:
        WorkCalendar({}, "my-2027.toml").nth_workday_after(date(2026, 12, 30), 5)
    assert "2027" in str(err.value) and "my-2027.toml" in str(err.value)


def test_a_year_from_the_override_table_counts_its_holidays_and_make_up_days() -> None:
    cal = WorkCalendar({2027: YearOverride(frozenset({date(2027, 1, 1)}), frozenset({date(2027, 1, 9)}))}, "x")
    assert cal.nth_workday_after(date(2026, 12, 30), 5) == date(2027, 1, 7)  # 12-31, 01-04 … 01-07
    assert cal.nth_workday_after(date(2027, 1, 7), 3) == date(2027, 1, 11)  # 01-08, 01-09 (make-up), 01-11
