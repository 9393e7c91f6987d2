"""Which campaign a command acts on: the one loader (`campaign`), every loaded campaign (`every`), and
the working-day calendar; plans parsed once per process, with working-day errors that name the
calendar file to fill in."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from models.db import UnitOfWork, schema_exists
from models.tables import AuditEntry, Campaign, table
from workflow.context import Context
from workflow.domain.plan import DEFAULT_CALENDAR, Plan, default_text, load_file, parse
from workflow.domain.workdays import WorkCalendar
from workflow.errors import NotFound

_AU, _CA = table(AuditEntry).c, table(Campaign).c


@dataclass(frozen=True)
class CampaignRef:
    id: int
    year: int
    plan: Plan


@lru_cache(maxsize=8)
def _parse_cached(text: str, source: str) -> Plan:
    return parse(text, source=source)


_ALL = select(_CA.id, _CA.year, _CA.calendar).order_by(_CA.year)  # what `chosen` picks from


def _current(session: Session, ctx: Context) -> CampaignRef:
    return chosen(session, ctx, session.connection().execute(_ALL).all())


def chosen(session: Session, ctx: Context, rows: Sequence[Any]) -> CampaignRef:
    """The campaign a command acts on among `rows` (id, year, calendar; by year): ctx.year's, else
    this year's, else the latest; its plan parsed once per process and naming its calendar file."""
    return _named(session, _pick(ctx, rows))


def _pick(ctx: Context, rows: Sequence[Any]) -> CampaignRef:
    if not rows:
        raise NotFound("数据库中没有行动计划，请先运行 campaign init (no campaign)")
    by_year = {int(r[1]): r for r in rows}
    if ctx.year is not None:
        row = by_year.get(ctx.year)
        if row is None:
            raise NotFound(f"没有 {ctx.year} 年的行动，已有：{', '.join(map(str, by_year))}")
    else:
        row = by_year.get(ctx.today.year, rows[-1])
    return CampaignRef(int(row[0]), int(row[1]), _parse_cached(row[2], f"campaign {row[1]}"))



def _file(session: Session, year: int) -> str:
    """The calendar file `campaign init` loaded this year from (recorded in its audit entry)."""
    payload = session.execute(
        select(_AU.payload).where(_AU.event == "campaign_init", _AU.campaign_year == year)
        .order_by(_AU.seq).limit(1)).scalar_one_or_none()
    name = json.loads(payload).get("calendar") if payload else None
    return f"{name or DEFAULT_CALENDAR}（{year} 年行动已载入的日历，见 campaign calendar show）"


_NAMED: dict[tuple[str, int, int], tuple[Plan, Plan]] = {}  # (parsed plan, plan naming its file)


def _named(session: Session, ref: CampaignRef) -> CampaignRef:
    if not ref.plan.workcal.source.startswith("campaign "):
        return ref
    key = (str(session.connection().engine.url), ref.year, id(ref.plan))
    hit = _NAMED.get(key)
    if hit is None or hit[0] is not ref.plan:
        cal = dataclasses.replace(ref.plan.workcal, source=_file(session, ref.year))
        hit = _NAMED[key] = (ref.plan, dataclasses.replace(ref.plan, workcal=cal))
    return CampaignRef(ref.id, ref.year, hit[1])


def campaign(session: Session, ctx: Context) -> CampaignRef:
    """The campaign a command acts on (ctx.year, else the current one)."""
    return _current(session, ctx)


def every(session: Session, ctx: Context) -> list[CampaignRef]:
    """Every loaded campaign, or only ctx.year's when one was chosen (one query; plans cached as
    `campaign` caches them, so both give the same Plan)."""
    rows = session.connection().execute(_ALL).all()
    if ctx.year is not None and ctx.year not in {int(r[1]) for r in rows}:
        raise NotFound(f"没有 {ctx.year} 年的行动，已有：{', '.join(str(r[1]) for r in rows)}")
    return [_named(session, CampaignRef(int(cid), int(year), _parse_cached(text, f"campaign {year}")))
            for cid, year, text in rows if ctx.year is None or year == ctx.year]


def workcal(ctx: Context, calendar_file: str | None = None) -> WorkCalendar:
    """Working days from a given file, else the loaded campaign's calendar, else the shipped one."""
    if calendar_file:
        return load_file(calendar_file)[0].workcal
    url = ctx.engine.url
    exists = url.get_backend_name() != "sqlite" or bool(url.database and Path(url.database).is_file())
    if exists and schema_exists(ctx.engine):
        with UnitOfWork(ctx.engine) as uow:
            if uow.session.execute(select(_CA.id).limit(1)).first() is not None:
                return campaign(uow.session, ctx).plan.workcal
    return parse(default_text()).workcal
