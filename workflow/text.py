"""Small text forms shared by every part (kernel, pure): the plan's "XX市" titles, months and
canonical JSON. One home each, so a notice, a sheet and the audit chain write them the same way."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

# The plan's titles leave the reporting unit as a placeholder: "XX市（区）…", "XX市…", "XX企业…".
_PLACEHOLDERS = ("XX市（区）", "XX 市（区）", "XX市(区)", "XX市", "XX 市", "XX")

# One encoder, built once: sorted keys, no ASCII escaping, no spaces. The audit hash form depends on it.
_ENCODE = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode


def fill_city(title: str, city: str) -> str:
    """'XX市（区）绩效提升企业培育清单' → '许昌市绩效提升企业培育清单'; a title without a placeholder stays."""
    for placeholder in _PLACEHOLDERS:
        if placeholder in title:
            return title.replace(placeholder, city, 1).strip()
    return title


def canonical_json(value: Any) -> str:
    """The one JSON form for hashing and comparing: sorted keys, UTF-8 text, no spaces."""
    return _ENCODE(value)


def months(first: str, last: str) -> Iterator[tuple[int, int]]:
    """(year, month) from `first` to `last` inclusive, both YYYY-MM."""
    y, m = (int(x) for x in first.split("-"))
    ly, lm = (int(x) for x in last.split("-"))
    while (y, m) <= (ly, lm):
        yield y, m
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def next_month_start(year: int, month: int) -> date:
    return date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
