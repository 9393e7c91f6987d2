"""Which campaign a command acts on, with its parsed plan (cached per process)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import select
from sqlmodel import Session

from models.tables import Campaign, table
from workflow.context import Context
from workflow.domain.plan import Plan, parse
from workflow.errors import NotFound


@dataclass(frozen=True)
class CampaignRef:
    id: int
    year: int
    plan: Plan


@lru_cache(maxsize=8)
def _parse_cached(text: str, source: str) -> Plan:
    return parse(text, source=source)


def current(session: Session, ctx: Context) -> CampaignRef:
    c = table(Campaign).c
    rows = session.execute(select(c.id, c.year, c.calendar).order_by(c.year)).all()
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
