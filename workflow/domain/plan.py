"""The campaign plan file (calendar, windows, deliverables, targets): load and validate (pure)."""

from __future__ import annotations

import calendar as _cal
import tomllib
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from workflow.domain import grades, industries
from workflow.domain.states import EVENTS
from workflow.domain.workdays import WorkCalendar, parse_overrides
from workflow.errors import InvalidInput
from workflow.text import months

DEFAULT_CALENDAR = "henan-2024.toml"


@dataclass(frozen=True)
class Window:
    event: str
    opens: date | None = None
    closes: date | None = None
    closes_after_failure: date | None = None
    late_after: date | None = None

    def closes_for(self, failed_before: bool) -> date | None:
        return (self.closes_after_failure or self.closes) if failed_before else self.closes


@dataclass(frozen=True)
class Due:
    period: str  # YYYY-MM
    due: date


@dataclass(frozen=True)
class Deliverable:
    kind: str
    attachment: str
    title: str
    dues: tuple[Due, ...]

    def due_for(self, period: str | None) -> Due:
        if period is None:
            if len(self.dues) == 1:
                return self.dues[0]
            options = "、".join(d.period for d in self.dues)
            raise InvalidInput(f"{self.kind} 有多个报送期次，请用 --period 指定：{options}")
        for d in self.dues:
            if d.period == period:
                return d
        options = "、".join(d.period for d in self.dues)
        raise InvalidInput(f"{self.kind} 没有 {period} 期次，可选：{options}")


@dataclass(frozen=True)
class Phase:
    key: str
    title: str
    opens: date
    closes: date


@dataclass(frozen=True)
class SpotCheckRound:
    key: str
    title: str
    opens: date
    closes: date


@dataclass(frozen=True)
class Plan:
    year: int
    name: str
    authority: str
    start: date
    end: date
    timezone: str
    province_target: int
    publicity_workdays: int
    request_reply_workdays: int
    industries: industries.Vocabulary
    control_categories: dict[str, str]  # grade -> 差异化管控 category in the emission list
    spot_check_rounds: tuple[SpotCheckRound, ...]
    phases: tuple[Phase, ...]
    windows: dict[str, Window]
    deliverables: dict[str, Deliverable]
    reminder_days: tuple[int, ...]
    overdue_repeat_days: int
    cities: dict[str, int]
    workcal: WorkCalendar = field(default_factory=WorkCalendar)
    source: str = ""

    def window(self, event: str) -> Window:
        return self.windows.get(event, Window(event))

    @property
    def ule_industries(self) -> frozenset[str]:
        return self.industries.ule()

    def spot_check_round(self, day: date) -> SpotCheckRound | None:
        return next((r for r in self.spot_check_rounds if r.opens <= day <= r.closes), None)


def default_text() -> str:
    return resources.files("workflow.calendars").joinpath(DEFAULT_CALENDAR).read_text("utf-8")


def load_file(path: str | Path) -> tuple[Plan, str]:
    p = Path(path)
    try:
        text = p.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"无法读取日历文件 {p}：{exc}") from None
    return parse(text, source=str(p)), text


def parse(text: str, *, source: str = DEFAULT_CALENDAR) -> Plan:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"日历文件 {source} 不是有效的 TOML：{exc}") from None
    try:
        return _build(raw, source)
    except InvalidInput as exc:
        raise InvalidInput(f"日历文件 {source}：{exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"日历文件 {source}：缺少或错误的字段 {exc}") from None


def _date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    raise InvalidInput(f"{where} 应为日期 (YYYY-MM-DD)，收到 {value!r}")


def _opt_date(table: dict[str, Any], key: str, where: str) -> date | None:
    return _date(table[key], f"{where}.{key}") if key in table else None


def _month_end(year: int, month: int) -> date:
    return date(year, month, _cal.monthrange(year, month)[1])


def _dues(item: dict[str, Any], where: str) -> tuple[Due, ...]:
    if "monthly" in item:
        first, last = (str(item["monthly"][k]) for k in ("from", "to"))
        return tuple(Due(f"{y:04d}-{m:02d}", _month_end(y, m)) for y, m in months(first, last))
    dates = [_date(d, f"{where}.due") for d in item["due"]]
    if not dates:
        raise InvalidInput(f"{where}.due 不能为空")
    periods = [f"{d.year:04d}-{d.month:02d}" for d in dates]
    if len(set(periods)) != len(periods):
        raise InvalidInput(f"{where}.due 同一月份只能有一个截止日")
    return tuple(Due(p, d) for p, d in zip(periods, dates, strict=True))


def _defaults() -> dict[str, Any]:
    """The shipped calendar's vocabulary, categories and rounds, for a stored calendar written
    before they were part of the file (campaigns created before 0003)."""
    return tomllib.loads(default_text())


def _categories(raw: dict[str, Any]) -> dict[str, str]:
    cats = {grades.normalise(str(k)): str(v) for k, v in raw.items()}
    missing = [g for g in grades.ALL if g not in cats]
    if missing:
        raise InvalidInput(f"[control_categories] 缺少等级 {'、'.join(missing)}")
    return cats


def _rounds(raw: list[dict[str, Any]]) -> tuple[SpotCheckRound, ...]:
    out = []
    for i, r in enumerate(raw):
        where = f"spot_check_rounds[{i}]"
        rnd = SpotCheckRound(str(r["key"]), str(r["title"]), _date(r["opens"], f"{where}.opens"),
                             _date(r["closes"], f"{where}.closes"))
        if rnd.opens > rnd.closes:
            raise InvalidInput(f"{where}: opens {rnd.opens} 晚于 closes {rnd.closes}")
        out.append(rnd)
    return tuple(out)


def _build(raw: dict[str, Any], source: str) -> Plan:
    if raw.get("format") != 1:
        raise InvalidInput("format 应为 1")
    c = raw["campaign"]
    start, end = _date(c["start"], "campaign.start"), _date(c["end"], "campaign.end")
    if start > end:
        raise InvalidInput("campaign.start 晚于 campaign.end")
    windows: dict[str, Window] = {}
    for event, w in raw.get("windows", {}).items():
        if event not in EVENTS:
            raise InvalidInput(f"[windows.{event}] 不是已知事件；已知：{', '.join(EVENTS)}")
        where = f"windows.{event}"
        win = Window(event, *(_opt_date(w, k, where) for k in
                              ("opens", "closes", "closes_after_failure", "late_after")))
        if win.opens and win.closes and win.opens > win.closes:
            raise InvalidInput(f"{where}: opens {win.opens} 晚于 closes {win.closes}")
        windows[event] = win
    deliverables = {}
    for i, item in enumerate(raw.get("deliverables", [])):
        kind = str(item["kind"])
        deliverables[kind] = Deliverable(kind, str(item.get("attachment", "")), str(item["title"]),
                                         _dues(item, f"deliverables[{i}] ({kind})"))
    cities = {str(x["name"]): int(x["target"]) for x in raw["cities"]}
    if not cities:
        raise InvalidInput("[[cities]] 不能为空")
    phases = tuple(Phase(str(p["key"]), str(p["title"]), _date(p["opens"], "phases.opens"),
                         _date(p["closes"], "phases.closes")) for p in raw.get("phases", []))
    rem = raw.get("reminders", {})
    if "industries" not in raw:
        raw = {**_defaults(), **raw}
    return Plan(
        year=int(c["year"]), name=str(c["name"]), authority=str(c.get("authority", "")),
        start=start, end=end, timezone=str(c.get("timezone", "Asia/Shanghai")),
        province_target=int(c.get("province_target", sum(cities.values()))),
        publicity_workdays=int(c.get("publicity_workdays", 5)),
        request_reply_workdays=int(c.get("request_reply_workdays", 5)),
        industries=industries.parse(raw["industries"]),
        control_categories=_categories(raw.get("control_categories", {})),
        spot_check_rounds=_rounds(raw.get("spot_check_rounds", [])),
        phases=phases, windows=windows, deliverables=deliverables,
        reminder_days=tuple(int(d) for d in rem.get("before_days", [7, 3, 1])),
        overdue_repeat_days=int(rem.get("overdue_repeat_days", 7)),
        cities=cities,
        workcal=WorkCalendar(parse_overrides(raw.get("workdays", {})), source),
        source=source,
    )
