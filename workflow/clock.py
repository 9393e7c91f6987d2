"""The campaign clock: injectable, aware, Asia/Shanghai at the edges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

from workflow.errors import InvalidInput

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class OffsetClock:
    """Real time as another machine tells it: the system clock plus an offset measured once
    (the PostgreSQL server's, so everyone working on a shared database shares one clock)."""

    offset: timedelta

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass(frozen=True)
class FixedClock:
    at: datetime

    def now(self) -> datetime:
        return self.at


def parse_instant(text: str) -> datetime:
    """An ISO date (09:00 that day) or datetime; naive values are Asia/Shanghai."""
    raw = text.strip()
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), time(9, 0), SHANGHAI)
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            f"CAMPAIGN_NOW '{text}' 不是 ISO 日期或时间，例如 2024-06-01 或 2024-06-01T10:00"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


def parse_day(text: str, what: str = "日期") -> date:
    """A calendar day YYYY-MM-DD (Asia/Shanghai), or one clear line."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{what} '{text.strip()}' 应为 YYYY-MM-DD (not a date)") from None


def on_day(day: date) -> datetime:
    """09:00 Asia/Shanghai on `day`: the instant a bare date stands for (as in CAMPAIGN_NOW)."""
    return datetime.combine(day, time(9, 0), SHANGHAI)


@lru_cache(maxsize=1024)  # pure; a batch reads the same stored instants for many participations
def parse_stored(text: str) -> datetime:
    """A stored UTC ISO instant (`utc_iso`) back to an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@lru_cache(maxsize=256)  # pure
def local_date(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


@lru_cache(maxsize=256)  # pure; one command writes the same instants many times
def utc_iso(moment: datetime) -> str:
    """Canonical stored form: UTC, seconds precision is not enough for audits, keep micros."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
