"""Template filters: plain values in, Chinese official formats out (pure)."""

from __future__ import annotations

from datetime import date
from typing import Any

from workflow.text import fill_city as _fill_city

WEEKDAYS = "一二三四五六日"


def _as_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def cn_date(value: Any) -> str:
    d = _as_date(value)
    return f"{d.year}年{d.month}月{d.day}日"


def cn_weekday(value: Any) -> str:
    return "星期" + WEEKDAYS[_as_date(value).weekday()]


def cn_date_week(value: Any) -> str:
    return f"{cn_date(value)}（{cn_weekday(value)}）"


def cn_month(value: Any) -> str:
    year, month = str(value)[:7].split("-")
    return f"{int(year)}年{int(month)}月"


def fill_city(title: Any, city: Any) -> str:
    """The plan's "XX市（区）…" titles with the reporting unit put in (`workflow.text.fill_city`)."""
    return _fill_city(str(title), str(city))


def cn_grade(value: Any) -> str:
    """A → A级, B- → B-级, 引领性 → 绩效引领性, 未评级 stays."""
    text = str(value)
    if text in ("A", "B", "B-", "C", "D"):
        return f"{text}级"
    if text == "引领性":
        return "绩效引领性"
    return text


FILTERS = {"cn_date": cn_date, "cn_weekday": cn_weekday, "cn_date_week": cn_date_week,
           "cn_month": cn_month, "cn_grade": cn_grade, "fill_city": fill_city}
