"""Create the schema and load a campaign calendar (idempotent)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TypedDict

from sqlalchemy import select
from sqlmodel import Session

from models.db import create_schema
from models.tables import Campaign, City, CityTarget, table
from workflow.context import Context
from workflow.domain.plan import DEFAULT_CALENDAR, Plan, default_text, load_file, parse
from workflow.errors import Refused
from workflow.services import permissions
from workflow.services.actors import SYSTEM, ActorRecord, count, lookup
from workflow.store import simulation
from workflow.store.ledger import Entry, Ledger, refusals_recorded


class Initialised(TypedDict):
    year: int
    created: bool  # False: the calendar was loaded before
    cities: int
    simulation: bool


def init(ctx: Context, calendar: str | Path | None = None, *, simulation_db: bool = False) -> Initialised:
    """Upgrade the schema and load the calendar's campaign year. `simulation_db`: mark a database
    with no audit entry yet as a simulation (a database with entries keeps what it is). Refusals
    are recorded (reading the calendar and creating the schema come before the unit of work)."""
    with refusals_recorded(ctx, "campaign_init", None):
        plan, text, source = _calendar(calendar)
        _check_kind(ctx, simulation_db)
        create_schema(ctx.engine)
        with ctx.uow(ctx.engine) as uow:
            result = _load(uow.session, ctx, plan, text, source, simulation_db)
            uow.commit()
            return result


def _calendar(calendar: str | Path | None) -> tuple[Plan, str, str]:
    """The plan, the calendar's text and where it came from (the shipped calendar by default)."""
    if calendar is None:
        text = default_text()
        return parse(text, source=DEFAULT_CALENDAR), text, DEFAULT_CALENDAR
    plan, text = load_file(calendar)
    return plan, text, str(calendar)


def _check_kind(ctx: Context, simulation_db: bool) -> None:
    """A real database never becomes a simulation; a clock override needs one (nothing written yet)."""
    kind = simulation.kind(ctx.engine)
    if simulation_db and kind == simulation.REAL:
        raise Refused("该数据库已有真实记录，不能改为模拟数据库；请用新的数据库运行 campaign init --simulation "
                      "(a real database cannot become a simulation)", rule="simulation")
    if ctx.clock_override and kind != simulation.SIMULATION and not simulation_db:
        raise simulation.refused()


def _acting(s: Session, ctx: Context) -> tuple[str, str]:
    """Who loads a calendar: anyone while no actor exists (bootstrap), then only a province admin."""
    if count(s) == 0:
        return ctx.actor or SYSTEM.name, "system" if not ctx.actor else "operator"
    actor: ActorRecord = lookup(s, ctx.actor)
    return actor.name, permissions.authorize_role(actor, "calendar_load")


def _load(s: Session, ctx: Context, plan: Plan, text: str, source: str, simulation_db: bool) -> Initialised:
    existing = s.execute(select(Campaign).where(table(Campaign).c.year == plan.year)).scalar_one_or_none()
    if existing is not None:
        if existing.calendar == text:
            return {"year": plan.year, "created": False, "cities": len(plan.cities),
                    "simulation": simulation.kind(ctx.engine) == simulation.SIMULATION}
        raise Refused(f"{plan.year} 年的行动已用另一份日历初始化；已载入的日历不能被覆盖 "
                      "(calendar differs from the one loaded)", rule="calendar")
    name, role = _acting(s, ctx)
    ledger = Ledger(s, ctx)
    if simulation_db and ledger.head()[0] == 0:
        ctx.simulation = True  # the first entry of the chain says so
        ledger.append(Entry(campaign_year=plan.year, event=simulation.EVENT, actor=name, role=role,
                            reason="模拟数据库：时间可由 CAMPAIGN_NOW 设定，所有输出标注“模拟” (simulation)",
                            payload={}))
    camp = Campaign(year=plan.year, name=plan.name, start=plan.start, end=plan.end, calendar=text)
    s.add(camp)
    s.flush()
    known = {c.name: c for c in s.execute(select(City)).scalars()}
    for city_name, target in plan.cities.items():
        city = known.get(city_name)
        if city is None:
            city = City(name=city_name)
            s.add(city)
            s.flush()
        s.add(CityTarget(campaign_id=_key(camp.id), city_id=_key(city.id), target=target))
    ledger.append(Entry(campaign_year=plan.year, event="campaign_init", actor=name, role=role,
                        payload={"calendar": source, "sha256": hashlib.sha256(text.encode()).hexdigest(),
                                 "cities": len(plan.cities)}))
    return {"year": plan.year, "created": True, "cities": len(plan.cities), "simulation": ctx.simulation}


def _key(value: int | None) -> int:
    """A key the database assigned at flush; None would mean the flush did not run."""
    if value is None:
        raise RuntimeError("a row was used before the database gave it a key")
    return value
