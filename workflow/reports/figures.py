"""Where the campaign stands: targets per reporting unit and the funnel of participations.

Counting "new" follows docs/rules.md#targets (`grades.counts_as_new`). Plain dicts out.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any, NotRequired, TypedDict

from sqlalchemy import func, select
from sqlmodel import Session

from models.db import UnitOfWork
from models.tables import City, Enterprise, Participation
from workflow.context import Context
from workflow.domain import grades
from workflow.domain.plan import Plan
from workflow.domain.states import ACTIVE, STATE_ZH, STATES
from workflow.services.actors import city_id
from workflow.store.campaigns import CampaignRef, campaign

_E = Enterprise.__table__  # type: ignore[attr-defined]
_P = Participation.__table__  # type: ignore[attr-defined]
_C = City.__table__  # type: ignore[attr-defined]
STAGES = (*ACTIVE, "certified")  # the funnel, in order
EXITS = ("withdrawn", "disqualified", "not_achieved")


class TargetLine(TypedDict):
    """A reporting unit's figures; the province's line has `city_targets` and no `city`."""

    city: NotRequired[str]
    target: int
    achieved: int  # certified and counted as new
    in_pipeline: int
    gap: int
    progress: float | None  # achieved / target; None without a target
    certified: int
    participations: int
    by_state: dict[str, int]
    city_targets: NotRequired[int]  # the province: what the city targets add up to


class Targets(TypedDict):
    year: int
    name: str
    as_of: str
    province: TargetLine
    cities: list[TargetLine]


class Stage(TypedDict):
    state: str
    zh: str
    count: int  # there now
    reached: int  # there now or further on


class CityStates(TypedDict):
    city: str
    total: int
    by_state: dict[str, int]


# "from" is a keyword: the functional form
Transition = TypedDict("Transition", {"from": str, "to": str, "count": int, "counted": bool})


class Funnel(TypedDict):
    year: int
    as_of: str
    city: str | None
    stages: list[Stage]
    exits: dict[str, int]
    total: int
    by_city: list[CityStates]
    transitions: list[Transition]


class Phase(TypedDict):
    key: str
    title: str
    opens: date
    closes: date


class DueDate(TypedDict):
    kind: str
    label: str
    title: str
    period: str
    due: date


class Calendar(TypedDict):
    start: date
    end: date
    phases: list[Phase]
    dues: list[DueDate]


class Overview(Calendar):
    targets: Targets
    funnel: Funnel


def _groups(s: Session, ctx: Context, city: str | None) -> tuple[CampaignRef, str | None, list[Any]]:
    """(campaign, resolved city, rows of city, state, starting, achieved, count): one query."""
    camp = campaign(s, ctx)
    name = city_id(s, city)[1] if city else None
    rows = s.connection().execute(
        select(_C.c.name, _P.c.state, _P.c.starting_grade, _P.c.achieved_grade, func.count())
        .join(_E, _E.c.id == _P.c.enterprise_id).join(_C, _C.c.id == _E.c.city_id)
        .where(_P.c.campaign_id == camp.id)
        .group_by(_C.c.name, _P.c.state, _P.c.starting_grade, _P.c.achieved_grade)).all()
    return camp, name, list(rows)


def _read(ctx: Context, city: str | None) -> tuple[CampaignRef, str | None, list[Any]]:
    with UnitOfWork(ctx.engine) as uow:
        return _groups(uow.session, ctx, city)


def _line(city: str, target: int, states: Counter[str], achieved: int) -> TargetLine:
    in_pipeline = sum(states[s] for s in ACTIVE)
    return {"city": city, "target": target, "achieved": achieved, "in_pipeline": in_pipeline,
            "gap": max(target - achieved, 0),
            "progress": round(achieved / target, 4) if target else None,
            "certified": states["certified"], "participations": sum(states.values()),
            "by_state": {s: states[s] for s in STATES}}


def targets(ctx: Context, city: str | None = None) -> Targets:
    """Per reporting unit: target, achieved (counted as new), in the pipeline, by state, gap;
    and the province against its own target (600, not the 630 the city targets add up to)."""
    return _targets(ctx, *_read(ctx, city))


def _targets(ctx: Context, camp: CampaignRef, name: str | None, rows: list[Any]) -> Targets:
    states: dict[str, Counter[str]] = {c: Counter() for c in camp.plan.cities}
    achieved: Counter[str] = Counter()
    for c, state, starting, got, n in rows:
        states.setdefault(c, Counter())[state] += n
        if state == "certified" and grades.counts_as_new(got, starting):
            achieved[c] += n
    lines = [_line(c, camp.plan.cities.get(c, 0), states[c], achieved[c]) for c in states]
    total: Counter[str] = sum(states.values(), Counter())
    province = _line("全省", camp.plan.province_target, total, sum(achieved.values()))
    province["city_targets"] = sum(camp.plan.cities.values())
    province.pop("city")
    return {"year": camp.year, "name": camp.plan.name, "as_of": ctx.today.isoformat(),
            "province": province,
            "cities": [x for x in lines if name is None or x["city"] == name]}


def funnel(ctx: Context, city: str | None = None) -> Funnel:
    """Participations by stage (now, and reached so far), by city, and grade transitions."""
    return _funnel(ctx, *_read(ctx, city))


def _funnel(ctx: Context, camp: CampaignRef, name: str | None, rows: list[Any]) -> Funnel:
    by_city: dict[str, Counter[str]] = {c: Counter() for c in camp.plan.cities if name in (None, c)}
    moves: Counter[tuple[str, str]] = Counter()
    for c, state, starting, got, n in rows:
        if name not in (None, c):
            continue
        by_city.setdefault(c, Counter())[state] += n
        if state == "certified" and got:
            moves[(starting, got)] += n
    total: Counter[str] = sum(by_city.values(), Counter())
    stages: list[Stage] = [{"state": s, "zh": STATE_ZH[s], "count": total[s],
               "reached": sum(total[t] for t in STAGES[i:])} for i, s in enumerate(STAGES)]
    return {"year": camp.year, "as_of": ctx.today.isoformat(), "city": name, "stages": stages,
            "exits": {s: total[s] for s in EXITS}, "total": sum(total.values()),
            "by_city": [{"city": c, "total": sum(v.values()), "by_state": {s: v[s] for s in STATES}}
                        for c, v in by_city.items()],
            "transitions": [{"from": a, "to": b, "count": n, "counted": grades.counts_as_new(b, a)}
                            for (a, b), n in sorted(moves.items(), key=lambda kv: (-kv[1], kv[0]))]}


def overview(ctx: Context) -> Overview:
    """What the dashboard shows of the whole province: targets, funnel and calendar, from one
    grouped query in one transaction."""
    with UnitOfWork(ctx.engine) as uow:
        camp, name, rows = _groups(uow.session, ctx, None)
    return {"targets": _targets(ctx, camp, name, rows), "funnel": _funnel(ctx, camp, name, rows),
            **_calendar(camp.plan)}


def _calendar(plan: Plan) -> Calendar:
    """The year's phases and the deliverables' due dates, for the timeline."""
    phases: list[Phase] = [{"key": p.key, "title": p.title, "opens": p.opens, "closes": p.closes} for p in plan.phases]
    dues: list[DueDate] = [{"kind": d.kind, "label": d.attachment or d.title, "title": d.title, "period": x.period,
             "due": x.due} for d in plan.deliverables.values() for x in d.dues]
    return {"start": plan.start, "end": plan.end, "phases": phases,
            "dues": sorted(dues, key=lambda d: (d["due"], d["kind"]))}
