"""When alerts fall due (pure): reminder and overdue series, and their natural keys.

A deadline has one series of alert days: `before_days` reminders (7, 3, 1 days before), then an
overdue alert the day after and every `repeat` days, never after the campaign's last day. On any
day the alert to send is the latest one whose day has come. A tick that missed some days sends
that latest one only: a missed "7 days left" is superseded by the "3 days left" due with it, and
every reminder by the overdue notice once the due date has passed. Each alert's natural key
(what, whom, which due date, which offset) makes it exactly-once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from workflow.text import months, next_month_start


@dataclass(frozen=True)
class Point:
    day: date  # when the alert falls due
    offset: int  # days relative to the due date: -7 … -1 reminders, +1, +8 … overdue

    @property
    def overdue(self) -> bool:
        return self.offset > 0

    @property
    def tag(self) -> str:
        return f"{self.offset:+d}"


@dataclass(frozen=True)
class Alert:
    kind: str
    key: str
    city: str | None
    code: str | None
    due: date | None
    context: dict[str, Any] = field(default_factory=dict)


def series(due: date, before_days: tuple[int, ...], repeat: int, last: date,
           after: date | None = None) -> list[Point]:
    """Every alert day of one deadline, in order; `after`: only days later than this one."""
    points = [Point(due - timedelta(days=d), -d) for d in sorted(set(before_days), reverse=True) if d > 0]
    day = due + timedelta(days=1)
    while day <= last:
        points.append(Point(day, (day - due).days))
        if repeat < 1:
            break
        day += timedelta(days=repeat)
    return [p for p in points if p.day <= last and (after is None or p.day > after)]


def latest(points: list[Point], today: date) -> Point | None:
    """The alert to send today: the latest whose day has come (None before the first)."""
    reached = [p for p in points if p.day <= today]
    return reached[-1] if reached else None


def future(points: list[Point], today: date) -> list[date]:
    return [p.day for p in points if p.day > today]


def month_days(first: str, last: str) -> list[tuple[str, date]]:
    """(YYYY-MM, first day of the next month) for each month from `first` to `last`."""
    return [(f"{y:04d}-{m:02d}", next_month_start(y, m)) for y, m in months(first, last)]
