"""When an event takes effect (pure): now, or an earlier day a province admin gives for a decision
taken on paper; never before the participation's previous event, never in the future."""

from __future__ import annotations

from datetime import date, datetime

from workflow.clock import SHANGHAI, local_date, on_day
from workflow.errors import Refused

RULE = "生效时间"


def _shown(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def after_previous(at: datetime, previous: datetime | None, code: str) -> datetime:
    """`at`, unless it falls before the participation's previous event (then Refused, with both times)."""
    if previous is not None and at < previous:
        raise Refused(f"{RULE}：{_shown(at)} 早于企业 {code} 上一事件的生效时间 {_shown(previous)}；"
                      "事件不能记在同一参与的上一事件之前 (effective before the previous event)", rule=RULE)
    return at


def on_paper(day: date, now: datetime, previous: datetime | None, code: str) -> datetime:
    """The instant a decision taken on paper on `day` is recorded at: 09:00 that day, kept between
    the previous event and now (so a same-day entry still follows the one before it)."""
    if day > local_date(now):
        raise Refused(f"{RULE}：生效日期 {day} 晚于今天 {local_date(now)}，不能登记未来的生效日期 "
                      "(effective date in the future)", rule=RULE)
    if previous is not None and day < local_date(previous):
        raise Refused(f"{RULE}：生效日期 {day} 早于企业 {code} 上一事件的日期 {local_date(previous)}；"
                      "事件不能记在同一参与的上一事件之前 (effective before the previous event)", rule=RULE)
    at = min(on_day(day), now)
    return at if previous is None or at >= previous else previous
