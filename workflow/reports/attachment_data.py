"""Read-side queries behind the attachments: participations, audited events, evaluations,
equipment updates. Plain dicts out, one query each, filtered by city."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, TypedDict, cast

from sqlalchemy import select
from sqlmodel import Session

from models.exports import EquipmentUpdate
from models.tables import AuditEntry, City, Enterprise, Evaluation, Participation
from workflow.clock import local_date
from workflow.store.campaigns import CampaignRef

_E = Enterprise.__table__  # type: ignore[attr-defined]
_P = Participation.__table__  # type: ignore[attr-defined]
_C = City.__table__  # type: ignore[attr-defined]
_A = AuditEntry.__table__  # type: ignore[attr-defined]
_EV = Evaluation.__table__  # type: ignore[attr-defined]
_U = EquipmentUpdate.__table__  # type: ignore[attr-defined]

_PART_COLS = (_P.c.id.label("pid"), _E.c.code, _E.c.name, _C.c.name.label("city"), _E.c.county,
              _E.c.industry, _E.c.ule, _P.c.state, _P.c.starting_grade, _P.c.target_grade,
              _P.c.achieved_grade, _P.c.enrolled_late, _P.c.failures)
# Payload keys written by the engine itself, never shown as a description.
_META = frozenset({"late", "override_window", "consent", "grade", "failures", "publicity_start",
                   "publicity_end", "achieved_grade", "pre_assessed", "plan_submitted",
                   "starting_grade", "target_grade"})
KEY_ZH = {"summary": "概要", "measures": "措施", "completion_date": "完成时间", "findings": "发现问题",
          "progress": "进展", "result": "评估结论", "conclusion": "评估结论", "issues": "存在问题",
          "note": "备注", "remarks": "备注", "investment": "投资（万元）"}


class PartRow(TypedDict):
    """A participation in the campaign with its enterprise's master data."""

    pid: int
    code: str
    name: str
    city: str
    county: str
    industry: str
    ule: str
    state: str
    starting_grade: str
    target_grade: str
    achieved_grade: str | None
    enrolled_late: bool
    failures: int


class _Audited(TypedDict):
    actor: str
    payload: dict[str, Any]  # decoded
    effective_at: str
    day: date  # effective_at's Asia/Shanghai day


class EventRow(_Audited):
    seq: int
    code: str
    city: str
    event: str


class EvaluationRow(PartRow, _Audited):
    month: str


class EquipmentRow(PartRow):
    uid: int
    project: str
    equipment: str
    investment: float | None
    completed: date | None
    funding: str


class EnterpriseRow(TypedDict):
    """An enterprise with its participation in the campaign (those keys None without one)."""

    code: str
    name: str
    city: str
    county: str
    industry: str
    industry_detail: str
    grade: str
    rating_doc: str
    livelihood: bool
    pid: int | None
    state: str | None
    starting_grade: str | None
    starting_rating_doc: str | None
    target_grade: str | None
    achieved_grade: str | None


class LatestEvent(TypedDict):
    seq: int
    code: str
    event: str
    payload: dict[str, Any]
    effective_at: str
    day: date


def day(effective_at: str) -> date:
    """A stored UTC instant → its Asia/Shanghai calendar day."""
    return local_date(datetime.fromisoformat(effective_at.replace("Z", "+00:00")))


def _joined(camp: CampaignRef, cities: list[str]) -> Any:
    return (select(*_PART_COLS).join(_E, _E.c.id == _P.c.enterprise_id)
            .join(_C, _C.c.id == _E.c.city_id)
            .where(_P.c.campaign_id == camp.id, _C.c.name.in_(cities)))


def participations(s: Session, camp: CampaignRef, cities: list[str]) -> list[PartRow]:
    rows = s.connection().execute(_joined(camp, cities).order_by(_C.c.id, _E.c.code))
    return [cast(PartRow, dict(r._mapping)) for r in rows]


def audit_events(s: Session, camp: CampaignRef, cities: list[str],
                 events: tuple[str, ...]) -> list[EventRow]:
    """Audited events of the campaign in the cities, in chain order, payload decoded."""
    rows = s.connection().execute(
        select(_A.c.seq, _A.c.code, _A.c.city, _A.c.event, _A.c.actor, _A.c.payload, _A.c.effective_at)
        .where(_A.c.campaign_year == camp.year, _A.c.event.in_(events), _A.c.city.in_(cities))
        .order_by(_A.c.seq))
    return [cast(EventRow, {**dict(r._mapping), "payload": json.loads(r.payload), "day": day(r.effective_at)})
            for r in rows]


def evaluations(s: Session, camp: CampaignRef, cities: list[str], month: str) -> list[EvaluationRow]:
    q = (_joined(camp, cities).add_columns(_EV.c.month, _A.c.actor, _A.c.payload, _A.c.effective_at)
         .join(_EV, _EV.c.participation_id == _P.c.id).join(_A, _A.c.seq == _EV.c.audit_seq)
         .where(_EV.c.month == month).order_by(_C.c.id, _E.c.code))
    return [cast(EvaluationRow, {**dict(r._mapping), "payload": json.loads(r.payload), "day": day(r.effective_at)})
            for r in s.connection().execute(q)]


def equipment(s: Session, camp: CampaignRef, cities: list[str]) -> list[EquipmentRow]:
    q = (_joined(camp, cities).add_columns(_U.c.id.label("uid"), _U.c.project, _U.c.equipment,
                                           _U.c.investment, _U.c.completed, _U.c.funding)
         .join(_U, _U.c.participation_id == _P.c.id).order_by(_C.c.id, _E.c.code, _U.c.id))
    return [cast(EquipmentRow, dict(r._mapping)) for r in s.connection().execute(q)]


def describe(payload: dict[str, Any], *, skip: tuple[str, ...] = ()) -> str:
    """The free-text keys of a payload as one readable line: '进展：…；评估结论：…'."""
    parts = [f"{KEY_ZH.get(k, k)}：{v}" for k, v in payload.items()
             if k not in _META and k not in skip and v not in (None, "")]
    return "；".join(parts)


_ENT_COLS = (_E.c.code, _E.c.name, _C.c.name.label("city"), _E.c.county, _E.c.industry,
             _E.c.industry_detail, _E.c.grade, _E.c.rating_doc, _E.c.livelihood,
             _P.c.id.label("pid"), _P.c.state, _P.c.starting_grade, _P.c.starting_rating_doc,
             _P.c.target_grade, _P.c.achieved_grade)


def enterprises(s: Session, camp: CampaignRef, cities: list[str], *,
                grades: tuple[str, ...] | None = None) -> list[EnterpriseRow]:
    """Every enterprise of the cities (or only those now at `grades`) with its participation in the
    campaign, if any (participation keys None otherwise); ordered by city, county, code."""
    q = (select(*_ENT_COLS).select_from(_E).join(_C, _C.c.id == _E.c.city_id)
         .outerjoin(_P, (_P.c.enterprise_id == _E.c.id) & (_P.c.campaign_id == camp.id))
         .where(_C.c.name.in_(cities)))
    if grades is not None:
        q = q.where(_E.c.grade.in_(grades))
    rows = s.connection().execute(q.order_by(_C.c.id, _E.c.county, _E.c.code))
    return [cast(EnterpriseRow, {**dict(r._mapping), "livelihood": bool(r.livelihood)}) for r in rows]


def latest_events(s: Session, camp: CampaignRef, codes: list[str],
                  events: tuple[str, ...]) -> dict[str, LatestEvent]:
    """The latest audited entry among `events` of each code in the campaign, payload decoded."""
    out: dict[str, LatestEvent] = {}
    for i in range(0, len(codes), 500):
        rows = s.connection().execute(
            select(_A.c.seq, _A.c.code, _A.c.event, _A.c.payload, _A.c.effective_at)
            .where(_A.c.campaign_year == camp.year, _A.c.event.in_(events),
                   _A.c.code.in_(codes[i:i + 500])).order_by(_A.c.seq))
        for r in rows:
            out[r.code] = cast(LatestEvent, {**dict(r._mapping), "payload": json.loads(r.payload),
                                             "day": day(r.effective_at)})
    return out
