"""我的待办 and the enterprise list of the web workspace: read-only, scoped to the acting person.

A task is a participation whose next step is the person's (workflow.domain.next_steps: the machine,
the matrix's owner of each event and the participation's progress), in their scope
(workflow.store.scope), not an enterprise they declared a conflict with, nor one separation of duties
keeps them from reviewing. One query per role the person holds (usually one), whatever the number of
participations; the steps, due dates and urgency are worked out in Python on the rows read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, cast, exists, func, literal, select
from sqlmodel import Session

from models.db import UnitOfWork
from models.tables import AuditEntry, City, Enterprise, Evaluation, Participation, table
from workflow.context import Context
from workflow.domain import next_steps
from workflow.domain.plan import Plan
from workflow.domain.states import EVENTS, STATE_ZH, STATES, UNENROLLED
from workflow.errors import InvalidInput
from workflow.services import permissions
from workflow.services.actors import ActorRecord, find, lookup
from workflow.store import scope
from workflow.store.campaigns import CampaignRef, campaign

STATE_LABELS: dict[str, str] = dict(STATE_ZH)  # state → its Chinese name, for the filters the pages draw
_E, _P, _C, _EV, _AU = (table(m).c for m in (Enterprise, Participation, City, Evaluation, AuditEntry))
MAX_PER_PAGE = 200


@dataclass(frozen=True)
class TaskFilter:
    city: str | None = None
    state: str | None = None
    industry: str | None = None
    overdue_only: bool = False
    q: str | None = None  # name or credit-code substring


@dataclass(frozen=True)
class Task:
    code: str
    name: str
    city: str
    industry: str
    state: str
    state_label: str
    step: str  # the event that is this person's next step
    step_label: str
    due: date | None
    days_left: int | None
    urgency: str  # "green" | "yellow" (<= 3 days) | "red" (overdue) | "none"


@dataclass(frozen=True)
class TaskPage:
    items: list[Task]
    total: int
    page: int
    per_page: int
    counts: dict[str, int]  # by urgency: {"red": n, "yellow": n, "green": n, "all": n}


@dataclass(frozen=True)
class EnterpriseRow:
    code: str
    name: str
    city: str
    industry: str
    grade: str
    state: str | None
    state_label: str
    days_left: int | None


@dataclass(frozen=True)
class EnterprisePage:
    items: list[EnterpriseRow]
    total: int
    page: int
    per_page: int
    sort: str


def owners() -> dict[str, tuple[str, ...]]:
    """Each lifecycle event's roles from the permission matrix, the owner first."""
    return {e: permissions.roles_for(e) for e in EVENTS}


def me(session: Session, name: str | None) -> tuple[int, ActorRecord]:
    """The acting person's id and record; unknown or inactive actors are refused (as every command)."""
    found = find(session, name or "") if name else None
    if found is None or not found[1].active:
        lookup(session, name)  # raises the one refusal of every command
        raise AssertionError("unreachable")
    return found


def _bounds(page: int, per_page: int) -> tuple[int, int]:
    return max(1, int(page)), min(MAX_PER_PAGE, max(1, int(per_page)))


def _city_name(plan: Plan, city: str) -> str:
    raw = city.strip()
    return raw if raw in plan.cities or raw + "市" not in plan.cities else raw + "市"


def _state(state: str | None) -> str | None:
    if state is None or not state.strip():
        return None
    s = state.strip()
    if s not in STATES and s != UNENROLLED:
        raise InvalidInput(f"未知状态 '{s}'，可选：{', '.join((UNENROLLED, *STATES))} (unknown state)")
    return s


def _progress_columns(camp: CampaignRef, today: date) -> list[Any]:
    """The participation's Progress, in its field order (the evaluations only read in tracking)."""
    this_month = today.strftime("%Y-%m")
    of_cycle = and_(_EV.participation_id == _P.id, _EV.cycle == _P.cycle)
    tracking = _P.state == "tracking"
    return [_P.state, _P.failures, _P.pre_assessed, _P.plan_submitted,
            case((tracking, exists(select(_EV.id).where(of_cycle))), else_=False).label("evaluated"),
            case((tracking, exists(select(_EV.id).where(of_cycle, _EV.month == this_month))),
                 else_=False).label("evaluated_now"),
            _P.publicity_start, _P.publicity_end]


_PROGRESS = len(next_steps.Progress._fields)


def _progress(r: Any, at: int) -> next_steps.Progress:
    """The Progress read from row `r`, whose progress columns start at index `at`."""
    return next_steps.Progress(*r[at:at + _PROGRESS])


def _filters(plan: Plan, *, city: str | None, state: str | None, industry: str | None, q: str | None
             ) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if city and city.strip():
        out.append(_C.name == _city_name(plan, city))
    if industry and industry.strip():
        out.append(_E.industry == industry.strip())
    if q and q.strip():
        text = q.strip()
        out.append(_E.name.contains(text, autoescape=True) | _E.code.contains(text.upper(), autoescape=True))
    if state is not None:
        out.append(_P.state.is_(None) if state == UNENROLLED else _P.state == state)
    return out


def _separation(role: str, actor: ActorRecord, actor_id: int, year: int) -> list[ColumnElement[bool]]:
    """Separation of duties over a list (permissions._separation, for one enterprise): the
    enterprise's expert (ever) and whoever last submitted it for acceptance do not review that
    acceptance; whoever passed its city acceptance does not recheck it."""
    of_code = and_(_AU.code == _E.code, _AU.campaign_year == year)
    if role == "city_reviewer":
        submitter = (select(_AU.actor).where(of_code, _AU.event == "submit_for_acceptance")
                     .order_by(_AU.seq.desc()).limit(1).scalar_subquery())
        return [~scope.assigned(actor_id, active=False),
                func.coalesce(submitter, cast(literal(""), String)) != actor.name]
    if role == "province_reviewer":
        return [~exists(select(_AU.seq).where(of_code, _AU.event == "pass_acceptance", _AU.actor == actor.name))]
    return []


def _days(due: date | None, today: date) -> int | None:
    return None if due is None else (due - today).days


def my_tasks(ctx: Context, flt: TaskFilter = TaskFilter(), *, page: int = 1, per_page: int = 50) -> TaskPage:
    """ctx.actor's tasks by role and scope, sorted by due date (overdue first), then code. `counts`
    are over the filter without `overdue_only` (the navigation badge and the filter's own count)."""
    page, per_page = _bounds(page, per_page)
    state = _state(flt.state)
    today = ctx.today
    owned = owners()
    by_role = next_steps.steps_by_role(owned)
    with UnitOfWork(ctx.engine) as uow:
        s = uow.session
        actor_id, actor = me(s, ctx.actor)
        camp = campaign(s, ctx)
        found: dict[tuple[str, str], tuple[date | None, str, str, Any, int | None]] = {}
        for role in dict.fromkeys(actor.roles):
            steps = by_role.get(role)
            states = [st for st in (steps or {}) if state is None or st == state]
            if not steps or not states:
                continue
            where = [_P.campaign_id == camp.id, _P.state.in_(states),
                     scope.in_role(actor, actor_id, role, _P.enterprise_id), ~scope.conflicted(actor_id),
                     *_separation(role, actor, actor_id, camp.year),
                     *_filters(camp.plan, city=flt.city, state=None, industry=flt.industry, q=flt.q)]
            rows = s.execute(
                select(_E.code, _E.name, _C.name.label("city"), _E.industry, *_progress_columns(camp, today))
                .select_from(table(Participation)).join(table(Enterprise), _E.id == _P.enterprise_id)
                .join(table(City), _C.id == _E.city_id).where(*where)).all()
            # The step and its due date follow from the progress columns alone, and thousands of rows share
            # a few progress tuples: work each tuple out once (a city's list runs to tens of thousands).
            known: dict[tuple[Any, ...], tuple[str | None, date | None, int | None]] = {}
            for r in rows:
                key = tuple(r[4:4 + _PROGRESS])
                hit = known.get(key)
                if hit is None:
                    p = next_steps.Progress(*key)
                    step = next_steps.next_step(steps[p.state], p, today)
                    due = next_steps.due(camp.plan, step, p, today) if step is not None else None
                    hit = known[key] = (step, due, _days(due, today))
                step = hit[0]
                if step is None or (r[0], step) in found:
                    continue
                found[(r[0], step)] = (hit[1], r[0], step, r, hit[2])
    ordered = sorted(found.values(), key=lambda t: (t[0] is None, t[0] or date.max, t[1], t[2]))
    urgencies = [next_steps.urgency(t[4]) for t in ordered]
    counts = {u: urgencies.count(u) for u in ("red", "yellow", "green")}
    counts["all"] = len(ordered)
    if flt.overdue_only:
        ordered = [t for t, u in zip(ordered, urgencies, strict=True) if u == "red"]
    start = (page - 1) * per_page
    labels = {step: next_steps.step_label(step, owned) for step in {t[2] for t in ordered[start:start + per_page]}}
    items = [Task(r[0], r[1], r[2], r[3], r[4], STATE_ZH[r[4]], step, labels[step], due, days,
                  next_steps.urgency(days)) for due, _, step, r, days in ordered[start:start + per_page]]
    return TaskPage(items, len(ordered), page, per_page, counts)


SORTS = ("code", "name", "city", "state", "days_left")


def enterprises(ctx: Context, *, q: str | None = None, city: str | None = None, state: str | None = None,
                sort: str = "code", page: int = 1, per_page: int = 50) -> EnterprisePage:
    """The enterprises in ctx.actor's scope, with their participation's state and the days left to
    its next step (the earliest pending forward step, whoever owns it). `sort` in SORTS, "-" first
    for descending; `state` "unenrolled" lists those not enrolled in the campaign."""
    key = (sort or "code").strip()
    desc = key.startswith("-")
    column = key.lstrip("-")
    if column not in SORTS:
        raise InvalidInput(f"未知排序 '{sort}'，可选：{', '.join(SORTS)}（前加 - 为倒序）(unknown sort)")
    page, per_page = _bounds(page, per_page)
    wanted = _state(state)
    today = ctx.today
    with UnitOfWork(ctx.engine) as uow:
        s = uow.session
        actor_id, actor = me(s, ctx.actor)
        camp = campaign(s, ctx)
        joined = (table(Enterprise).join(table(City), _C.id == _E.city_id)
                  .outerjoin(table(Participation), and_(_P.enterprise_id == _E.id, _P.campaign_id == camp.id)))
        where = [scope.visible(actor, actor_id),
                 *_filters(camp.plan, city=city, state=wanted, industry=None, q=q)]
        total = int(s.execute(select(func.count()).select_from(joined).where(*where)).scalar_one())
        base = (select(_E.code, _E.name, _C.name.label("city"), _E.industry, _E.grade,
                       *_progress_columns(camp, today)).select_from(joined).where(*where))
        start = (page - 1) * per_page
        if column == "days_left":  # worked out in Python: over every row in scope
            rows = [_row(camp.plan, r, today) for r in s.execute(base).all()]
            dated = sorted((r for r in rows if r.days_left is not None), key=lambda r: (r.days_left, r.code),
                           reverse=desc)
            items = [*dated, *(r for r in rows if r.days_left is None)][start:start + per_page]  # undated last
        else:
            order: Any = {"code": _E.code, "name": _E.name, "city": _C.name,
                          "state": case({st: i for i, st in enumerate(STATES)}, value=_P.state, else_=-1)}[column]
            order = order.desc() if desc else order.asc()
            items = [_row(camp.plan, r, today) for r in
                     s.execute(base.order_by(order, _E.code).offset(start).limit(per_page)).all()]
    return EnterprisePage(items, total, page, per_page, key)


def _row(plan: Plan, r: Any, today: date) -> EnterpriseRow:
    days = None
    if r.state is not None:
        p = _progress(r, 5)
        step = next_steps.next_step(next_steps.forward(p.state), p, today)
        days = _days(next_steps.due(plan, step, p, today), today) if step else None
    return EnterpriseRow(r.code, r.name, r.city, r.industry, r.grade, r.state,
                         STATE_ZH[r.state if r.state is not None else UNENROLLED], days)
