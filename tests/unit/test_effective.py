"""When an event takes effect (workflow/domain/effective.py): pure, no database."""

from __future__ import annotations

from datetime import date

import pytest

from workflow.clock import parse_instant
from workflow.domain.effective import after_previous, on_paper
from workflow.errors import Refused

pytestmark = pytest.mark.clock  # also run under TZ=America/New_York by `make test`

CODE = "91410100MA45C2R1XL"
NOW = parse_instant("2024-07-10T15:00")


def test_a_paper_decision_takes_effect_at_nine_on_its_day() -> None:
    assert on_paper(date(2024, 7, 1), NOW, None, CODE) == parse_instant("2024-07-01")


def test_a_paper_decision_on_the_day_of_the_previous_event_still_follows_it() -> None:
    previous = parse_instant("2024-07-01T11:30")
    assert on_paper(date(2024, 7, 1), NOW, previous, CODE) == previous


def test_a_paper_decision_of_today_is_not_put_after_now() -> None:
    early = parse_instant("2024-07-10T08:00")
    assert on_paper(date(2024, 7, 10), early, None, CODE) == early


def test_a_paper_decision_before_the_previous_event_or_in_the_future_is_refused() -> None:
    with pytest.raises(Refused, match=r"2024-06-30.*2024-07-01"):
        on_paper(date(2024, 6, 30), NOW, parse_instant("2024-07-01T11:30"), CODE)
    with pytest.raises(Refused, match="未来"):
        on_paper(date(2024, 7, 11), NOW, None, CODE)


def test_now_before_the_previous_event_is_refused_with_both_times() -> None:
    with pytest.raises(Refused, match=r"2024-07-10 15:00.*2024-07-11 09:00"):
        after_previous(NOW, parse_instant("2024-07-11"), CODE)
    assert after_previous(NOW, NOW, CODE) == NOW
