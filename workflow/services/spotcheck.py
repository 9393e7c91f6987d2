"""Fair spot checks (抽查复核): a reproducible draw whose seed, population and selection are audited.

Anyone can re-run a draw from its audit entry: `draw(population, rate, seed)` with the population
sorted by code gives the same selection.
"""

from __future__ import annotations

import math
import random
import secrets
from datetime import date
from typing import TypedDict

from sqlalchemy import insert, select, text
from sqlmodel import Session

from models.access import SpotCheck, SpotCheckPick
from models.tables import City, Enterprise, Participation, table
from workflow.clock import utc_iso
from workflow.context import Context
from workflow.domain.audit import canonical_json
from workflow.domain.plan import Plan, SpotCheckRound
from workflow.errors import InvalidInput, NotFound, Refused
from workflow.services import permissions
from workflow.services.actors import city_id, lookup
from workflow.store.campaigns import campaign
from workflow.store.ledger import Entry, Ledger, audited

_LOCK_KEY = 727_0801  # PostgreSQL advisory lock serialising spot-check draws
METHOD = "random.Random(seed).sample(sorted(population), ceil(rate × len(population)))"
_P, _E, _C, _PK = table(Participation).c, table(Enterprise).c, table(City).c, table(SpotCheckPick).c


class Drawn(TypedDict):
    seed: int
    rate: float
    city: str | None  # None: the province
    round: str
    round_title: str
    population: list[str]  # codes, sorted
    selected: list[str]
    seq: int
    year: int


def check_rate(rate: float) -> None:
    if not 0 < rate <= 1:
        raise InvalidInput(f"--rate 应在 (0, 1] 之间，收到 {rate}")


def size(n: int, rate: float) -> int:
    """How many to draw: the rate of the population, rounded up (at least one of a non-empty one)."""
    check_rate(rate)
    return min(n, math.ceil(round(rate * n, 9)))


def draw(population: list[str], rate: float, seed: int) -> list[str]:
    """The selection, sorted by code (pure and reproducible)."""
    ordered = sorted(population)
    return sorted(random.Random(seed).sample(ordered, size(len(ordered), rate)))


def round_on(plan: Plan, day: date) -> SpotCheckRound:
    """The calendar's spot-check round that `day` falls in; outside every round a draw is refused."""
    found = plan.spot_check_round(day)
    if not plan.spot_check_rounds:
        raise Refused("行动日历没有设置抽查复核轮次 [[spot_check_rounds]]，无法抽样 (no spot-check rounds in the "
                      "calendar)", rule="抽查轮次")
    if found is None:
        rounds = "或 ".join(f"{r.title}（{r.opens} 至 {r.closes}）" for r in plan.spot_check_rounds)
        raise Refused(f"抽查复核只能在 {rounds} 期间抽样，今天是 {day} (outside the spot-check rounds)",
                      rule="抽查轮次")
    return found


def new_seed() -> int:
    return secrets.randbits(48)  # exact in JSON everywhere (< 2**53)


def _population(s: Session, campaign_id: int, city: str | None) -> dict[str, int]:
    """code → participation id of those awaiting recheck and not drawn before."""
    drawn = select(_PK.participation_id)
    q = (select(_E.code, _P.id).join_from(table(Participation), table(Enterprise), _E.id == _P.enterprise_id)
         .join(table(City), _C.id == _E.city_id)
         .where(_P.campaign_id == campaign_id, _P.state == "provincial_recheck", _P.id.not_in(drawn)))
    if city:
        q = q.where(_C.name == city)
    return {str(r[0]): int(r[1]) for r in s.execute(q)}


def sample(ctx: Context, *, rate: float, city: str | None = None, seed: int | None = None) -> Drawn:
    """Draw enterprises awaiting provincial recheck; those drawn need a real recheck."""

    def work(s: Session) -> Drawn:
        check_rate(rate)  # before anything is read: a bad rate is the answer, whatever the population
        actor = lookup(s, ctx.actor)
        cname = city_id(s, city)[1] if city else None
        role = permissions.authorize(s, actor, "spot_check", city=cname, code=None)
        camp = campaign(s, ctx)
        rnd = round_on(camp.plan, ctx.today)
        if s.connection().dialect.name == "postgresql":  # one draw at a time: nobody is drawn twice
            s.connection().execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        pop = _population(s, camp.id, cname)
        if not pop:
            raise NotFound(f"{cname or '全省'}没有待抽查的省级复核企业 (nobody awaiting recheck)")
        chosen_seed = new_seed() if seed is None else seed
        population = sorted(pop)
        selected = draw(population, rate, chosen_seed)
        payload = {"seed": chosen_seed, "rate": rate, "city": cname, "round": rnd.key, "round_title": rnd.title,
                   "population": population, "selected": selected, "method": METHOD}
        seq, _ = Ledger(s, ctx).append(Entry(campaign_year=camp.year, city=cname, event="spot_check",
                                             actor=actor.name, role=role, payload=payload))
        conn = s.connection()
        sid = conn.execute(insert(table(SpotCheck)).values(
            campaign_id=camp.id, city=cname, round=rnd.key, rate=rate, seed=str(chosen_seed),
            population=canonical_json(population), selected=canonical_json(selected), drawn_by=actor.name,
            drawn_at=utc_iso(ctx.now()), audit_seq=seq)).inserted_primary_key[0]  # type: ignore[index]
        conn.execute(insert(table(SpotCheckPick)), [{"spot_check_id": sid, "participation_id": pop[c]}
                                                    for c in selected])
        return {"seed": chosen_seed, "rate": rate, "city": cname, "round": rnd.key, "round_title": rnd.title,
                "population": population, "selected": selected, "seq": seq, "year": camp.year}

    return audited(ctx, "spot_check", None, work)
