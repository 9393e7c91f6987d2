"""Enterprises' needs (需求): open, answer within N working days (5), list, and their alerts."""

from __future__ import annotations

from datetime import date
from typing import Any, TypedDict

from sqlalchemy import insert, select, update
from sqlmodel import Session

from models.db import UnitOfWork
from models.deadlines import EnterpriseNeed
from models.tables import Campaign, City, Enterprise, table
from workflow.clock import utc_iso
from workflow.context import Context
from workflow.domain import alerts, creditcode
from workflow.errors import InvalidInput, NotFound, Refused
from workflow.services import permissions
from workflow.services.actors import city_id, lookup
from workflow.store import campaigns
from workflow.store.campaigns import CampaignRef
from workflow.store.ledger import Entry, Ledger, audited

_ND, _E, _C, _CA = table(EnterpriseNeed).c, table(Enterprise).c, table(City).c, table(Campaign).c
MAX_ID = 2**63 - 1  # the largest key either database stores


class _Opened(TypedDict):  # the open_request audit payload
    request: int
    subject: str
    received: str  # ISO dates
    due: str
    workdays: int


class NeedOpened(_Opened):
    id: int
    code: str
    enterprise: str
    city: str


class _Answered(TypedDict):  # the answer_request audit payload
    request: int
    due: str
    answered_on: str
    late: bool
    text: str


class NeedAnswered(_Answered):
    id: int
    code: str
    city: str
    days_late: int


class NeedRow(TypedDict):
    id: int
    code: str
    enterprise: str
    city: str
    subject: str
    received: str
    due: str
    status: str  # open, overdue, answered, late
    answered_on: str | None
    answered_by: str | None
    days_left: int | None  # open only
    days_overdue: int | None  # overdue only


def open_need(ctx: Context, code: str, subject: str, received: date | None = None) -> NeedOpened:
    """Record a need received today (or on `received`); due the N-th working day after receipt."""

    def work(s: Session) -> NeedOpened:
        code_ = creditcode.validate(code)
        actor = lookup(s, ctx.actor)
        camp = campaigns.campaign(s, ctx)
        ent = s.execute(select(_E.id, _E.name, _C.name).join(table(City), _C.id == _E.city_id)
                        .where(_E.code == code_)).one_or_none()
        if ent is None:
            raise NotFound(code=code_)
        if not subject.strip():
            raise InvalidInput("请用 --subject 写明企业的需求")
        day = received or ctx.today
        if day > ctx.today:
            raise InvalidInput(f"收到日期 {day} 晚于今天 {ctx.today}")
        role = permissions.authorize(s, actor, "open_request", city=ent[2], code=code_)
        due = camp.plan.workcal.nth_workday_after(day, camp.plan.request_reply_workdays)
        rid = s.connection().execute(insert(table(EnterpriseNeed)).values(
            campaign_id=camp.id, enterprise_id=ent[0], subject=subject.strip(), received=day, due=due,
            opened_by=actor.name, opened_at=utc_iso(ctx.now()))).inserted_primary_key[0]  # type: ignore[index]
        payload: _Opened = {"request": int(rid), "subject": subject.strip(), "received": day.isoformat(),
                   "due": due.isoformat(), "workdays": camp.plan.request_reply_workdays}
        Ledger(s, ctx).append(Entry(code=code_, campaign_year=camp.year, city=ent[2], event="open_request",
                                    actor=actor.name, role=role, payload=payload))
        return {"id": int(rid), "code": code_, "enterprise": ent[1], "city": ent[2], **payload}

    return audited(ctx, "open_request", code, work)


def answer(ctx: Context, request_id: int, text: str) -> NeedAnswered:
    """Answer a request; after its due date the answer is recorded as late."""

    def work(s: Session) -> NeedAnswered:
        actor = lookup(s, ctx.actor)
        if not 0 < request_id <= MAX_ID:  # a number no row can have (and SQLite cannot even bind)
            raise NotFound(f"需求 {request_id} 不存在 (no such request)", key=request_id)
        r = s.execute(select(_ND.id, _ND.due, _ND.answered_on, _CA.year, _E.code, _C.name)
                      .join(table(Enterprise), _E.id == _ND.enterprise_id).join(table(City), _C.id == _E.city_id)
                      .join(table(Campaign), _CA.id == _ND.campaign_id).where(_ND.id == request_id)).one_or_none()
        if r is None:
            raise NotFound(f"需求 {request_id} 不存在 (no such request)", key=request_id)
        if not text.strip():
            raise InvalidInput("请用 --text 写明答复内容")
        role = permissions.authorize(s, actor, "answer_request", city=r[5], code=r[4])
        today = ctx.today
        late = today > r[1]
        done = s.connection().execute(update(table(EnterpriseNeed))
                                      .where(_ND.id == request_id, _ND.answered_on.is_(None))
                                      .values(answer=text.strip(), answered_on=today, answered_by=actor.name,
                                              answered_at=utc_iso(ctx.now()), late=late))
        if done.rowcount != 1:
            raise Refused(f"需求 {request_id} 已于 {r[2]} 答复 (already answered)", rule="answered")
        payload: _Answered = {"request": request_id, "due": r[1].isoformat(), "answered_on": today.isoformat(),
                   "late": late, "text": text.strip()}
        Ledger(s, ctx).append(Entry(code=r[4], campaign_year=int(r[3]), city=r[5], event="answer_request",
                                    actor=actor.name, role=role, payload=payload))
        return {"id": request_id, "code": r[4], "city": r[5], **payload,
                "days_late": max(0, (today - r[1]).days)}

    return audited(ctx, "answer_request", None, work)


def _rows(s: Session, camp: CampaignRef, *, open_only: bool = False) -> list[Any]:
    q = (select(_ND.id, _E.code, _E.name, _C.name.label("city"), _ND.subject, _ND.received, _ND.due,
                _ND.answered_on, _ND.late, _ND.answered_by)
         .join(table(Enterprise), _E.id == _ND.enterprise_id).join(table(City), _C.id == _E.city_id)
         .where(_ND.campaign_id == camp.id).order_by(_ND.id))
    if open_only:
        q = q.where(_ND.answered_on.is_(None))
    return list(s.execute(q).all())


def status(answered_on: date | None, late: bool | None, due: date, today: date) -> str:
    if answered_on is not None:
        return "late" if late else "answered"
    return "overdue" if today > due else "open"


def listing(ctx: Context, *, overdue: bool = False, city: str | None = None) -> list[NeedRow]:
    today = ctx.today
    with UnitOfWork(ctx.engine) as uow:
        camp = campaigns.campaign(uow.session, ctx)
        name = city_id(uow.session, city)[1] if city else None  # an unknown city is an error, not no rows
        rows = _rows(uow.session, camp)
    out: list[NeedRow] = []
    for r in rows:
        st = status(r.answered_on, r.late, r.due, today)
        if (overdue and st != "overdue") or (name and r.city != name):
            continue
        out.append({"id": r.id, "code": r.code, "enterprise": r.name, "city": r.city, "subject": r.subject,
                    "received": r.received.isoformat(), "due": r.due.isoformat(), "status": st,
                    "answered_on": r.answered_on.isoformat() if r.answered_on else None,
                    "answered_by": r.answered_by,
                    "days_left": (r.due - today).days if st == "open" else None,
                    "days_overdue": (today - r.due).days if st == "overdue" else None})
    return out


def due_alerts(s: Session, camp: CampaignRef, today: date) -> tuple[list[alerts.Alert], set[date]]:
    """The reminder or overdue notice each unanswered request owes today, and future alert days."""
    plan, found, wake = camp.plan, [], set()
    for r in _rows(s, camp, open_only=True):
        points = alerts.series(r.due, plan.reminder_days, plan.overdue_repeat_days, plan.end, after=r.received)
        wake.update(alerts.future(points, today))
        p = alerts.latest(points, today)
        if p is None:
            continue
        ctx: dict[str, Any] = {"city": r.city, "code": r.code, "enterprise_name": r.name, "request": r.subject,
                               "received": r.received.isoformat(), "due": r.due.isoformat(),
                               "reply_workdays": plan.request_reply_workdays}
        ctx.update({"days_overdue": (today - r.due).days} if p.overdue else {"days_left": (r.due - today).days})
        kind = "request_overdue" if p.overdue else "request_due"
        found.append(alerts.Alert(kind, f"{kind}:{r.id}:{r.city}:{r.due.isoformat()}:{p.tag}",
                                  r.city, r.code, r.due, ctx))
    return found, wake
