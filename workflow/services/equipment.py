"""Equipment-update records (附件3 开展设备更新企业名单): record (audited) and list."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import TypedDict, cast

from sqlalchemy import insert, select
from sqlmodel import Session

from models.db import UnitOfWork
from models.exports import EquipmentUpdate
from models.tables import City, Enterprise, Participation
from workflow.clock import utc_iso
from workflow.context import Context
from workflow.domain import creditcode
from workflow.errors import InvalidInput, NotFound, Refused
from workflow.services import permissions
from workflow.services.actors import city_id, lookup
from workflow.store.campaigns import campaign
from workflow.store.ledger import Entry, Ledger, audited

EVENT = "record_equipment_update"
CLOSED = ("withdrawn", "disqualified")
MAX_INVESTMENT = 10_000_000.0  # 万元: a typo guard, not a policy

_E = Enterprise.__table__  # type: ignore[attr-defined]
_P = Participation.__table__  # type: ignore[attr-defined]
_C = City.__table__  # type: ignore[attr-defined]
_U = EquipmentUpdate.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Update:
    code: str
    project: str
    equipment: str
    investment: str | None = None  # 万元, as typed
    completed: str | None = None  # YYYY-MM-DD
    funding: str = ""


class _Cleaned(TypedDict):
    project: str
    equipment: str
    investment: float | None  # 万元
    completed: date | None
    funding: str


class _Recorded(TypedDict):
    project: str
    equipment: str
    investment: float | None
    completed: str | None  # ISO date
    funding: str


class Recorded(_Recorded):
    id: int | None
    code: str
    city: str
    seq: int


class EquipmentRow(_Recorded):
    id: int
    code: str
    name: str
    city: str
    county: str
    industry: str
    state: str
    actor: str
    recorded_at: str
    audit_seq: int


def _clean(u: Update) -> _Cleaned:
    project, equipment = u.project.strip(), u.equipment.strip()
    if not project:
        raise InvalidInput("--project 项目名称不能为空")
    if not equipment:
        raise InvalidInput("--equipment 更新设备不能为空")
    investment = None
    if u.investment not in (None, ""):
        try:
            investment = float(str(u.investment).strip())
        except ValueError:
            raise InvalidInput(f"--investment 应为数字（万元），收到 '{u.investment}'") from None
        if not math.isfinite(investment) or investment < 0 or investment > MAX_INVESTMENT:
            raise InvalidInput(f"--investment 应为 0 至 {MAX_INVESTMENT:.0f} 万元之间，收到 '{u.investment}'")
        investment = round(investment, 2)
    completed = None
    if u.completed:
        try:
            completed = date.fromisoformat(u.completed.strip())
        except ValueError:
            raise InvalidInput(f"--completed 应为 YYYY-MM-DD，收到 '{u.completed}'") from None
    return {"project": project, "equipment": equipment, "investment": investment,
            "completed": completed, "funding": u.funding.strip()}


def record(ctx: Context, u: Update) -> Recorded:
    """Store one equipment update on the participation and its audit entry, together."""

    def work(s: Session) -> Recorded:
        code = creditcode.validate(u.code)
        clean = _clean(u)
        actor = lookup(s, ctx.actor)
        camp = campaign(s, ctx)
        part = s.connection().execute(
            select(_P.c.id, _P.c.state, _C.c.name.label("city"))
            .join(_E, _E.c.id == _P.c.enterprise_id).join(_C, _C.c.id == _E.c.city_id)
            .where(_E.c.code == code, _P.c.campaign_id == camp.id)).one_or_none()
        if part is None:
            raise NotFound(f"企业 {code} 未纳入 {camp.year} 年培育清单，不能登记设备更新 (not enrolled)", code=code)
        role = permissions.authorize(s, actor, EVENT, city=part.city, code=code)
        if part.state in CLOSED:
            raise Refused(f"企业 {code} 已{'退出' if part.state == 'withdrawn' else '取消评级资格'}，"
                          f"不能登记设备更新 (state {part.state})", rule="state", code=code)
        payload: _Recorded = {**clean, "completed": clean["completed"].isoformat() if clean["completed"] else None}
        seq, _ = Ledger(s, ctx).append(Entry(code=code, campaign_year=camp.year, city=part.city, event=EVENT,
                                             actor=actor.name, role=role, payload=payload))
        row = s.connection().execute(insert(_U).values(
            participation_id=part.id, actor=actor.name, recorded_at=utc_iso(ctx.now()),
            audit_seq=seq, **clean))
        key = row.inserted_primary_key
        return {"id": key[0] if key else None, "code": code, "city": part.city, "seq": seq, **payload}

    return audited(ctx, EVENT, u.code, work)


def listing(ctx: Context, *, city: str | None = None) -> list[EquipmentRow]:
    """Equipment updates of the current campaign, by city then enterprise then entry."""
    with UnitOfWork(ctx.engine) as uow:
        s = uow.session
        camp = campaign(s, ctx)
        q = (select(_U.c.id, _E.c.code, _E.c.name, _C.c.name.label("city"), _E.c.county,
                    _E.c.industry, _P.c.state, _U.c.project, _U.c.equipment, _U.c.investment,
                    _U.c.completed, _U.c.funding, _U.c.actor, _U.c.recorded_at, _U.c.audit_seq)
             .join(_P, _P.c.id == _U.c.participation_id).join(_E, _E.c.id == _P.c.enterprise_id)
             .join(_C, _C.c.id == _E.c.city_id).where(_P.c.campaign_id == camp.id))
        if city:
            q = q.where(_C.c.name == city_id(s, city)[1])
        rows = s.connection().execute(q.order_by(_C.c.id, _E.c.code, _U.c.id)).all()
    out = []
    for r in rows:
        d = dict(r._mapping)
        d["completed"] = d["completed"].isoformat() if d["completed"] else None
        out.append(cast(EquipmentRow, d))
    return out
