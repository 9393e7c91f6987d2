"""Chinese working days (pure): statutory holidays and make-up workdays (调休).

The package `chinesecalendar` knows 2004–2026. Years it does not know come
from the campaign calendar's `[workdays."YYYY"]` tables; a year known to
neither is an error, never a weekday-only guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar

from workflow.errors import InvalidInput


@lru_cache(maxsize=8192)
def _statutory_workday(day: date) -> bool:
    """chinesecalendar's answer, kept: it checks its range on every call, which costs more than
    the answer (a publicity period asks for a dozen days per enterprise)."""
    return bool(chinese_calendar.is_workday(day))


@dataclass(frozen=True)
class YearOverride:
    """Holidays and make-up workdays of one year, from the calendar file."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()


@dataclass(frozen=True)
class WorkCalendar:
    overrides: Mapping[int, YearOverride] = field(default_factory=dict)
    source: str = "the campaign calendar file"

    def is_workday(self, day: date) -> bool:
        override = self.overrides.get(day.year)
        if override is not None:
            if day in override.workdays:
                return True
            if day in override.holidays:
                return False
            return day.weekday() < 5
        try:
            return _statutory_workday(day)
        except NotImplementedError:
            raise InvalidInput(
                f"{day.year}年的法定节假日和调休数据未知：请在 {self.source} 中补充 "
                f'[workdays."{day.year}"] 的 holidays 与 workdays (year {day.year} not in calendar data)'
            ) from None

    def nth_workday_after(self, day: date, n: int) -> date:
        """The n-th working day after `day`, counting from the next day (民法典第201条)."""
        if n < 1:
            raise InvalidInput(f"工作日数须为正整数，收到 {n}")
        current, found = day, 0
        while found < n:
            current += timedelta(days=1)
            if self.is_workday(current):
                found += 1
        return current

    def workdays_between(self, start: date, end: date) -> Iterable[date]:
        """Working days in (start, end]."""
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_workday(current):
                yield current


def parse_overrides(raw: Mapping[str, Mapping[str, list[date]]]) -> dict[int, YearOverride]:
    """Turn the calendar file's workdays tables into YearOverride values."""
    result: dict[int, YearOverride] = {}
    for year_text, table in raw.items():
        if not str(year_text).isdigit():
            raise InvalidInput(f"[workdays] 的键应为年份，收到 '{year_text}'")
        year = int(year_text)
        days = {k: frozenset(table.get(k, [])) for k in ("holidays", "workdays")}
        for kind, values in days.items():
            for d in values:
                if not isinstance(d, date) or d.year != year:
                    raise InvalidInput(f'[workdays."{year}"].{kind} 中的 {d} 不是 {year} 年的日期')
        result[year] = YearOverride(days["holidays"], days["workdays"])
    return result
