"""One scheduler tick: the year-end close; then every alert due as of the campaign clock, once; delivery.

Alerts are recorded (notices with a unique natural key) and committed before anything is sent;
delivery runs after the commit and fails softly. Ticking again, or after days of downtime, sends
each alert at most once.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlmodel import Session

from models.db import UnitOfWork
from models.tables import Enterprise, Participation, table
from workflow.clock import utc_iso
from workflow.context import Context
from workflow.domain.alerts import Alert
from workflow.domain.states import ACTIVE
from workflow.errors import CampaignError
from workflow.scheduling import obligations
from workflow.services import deadlines, needs
from workflow.services.actors import SYSTEM
from workflow.services.lifecycle import Request, apply
from workflow.store import campaigns
from workflow.store.campaigns import CampaignRef
from workflow.store.ledger import Entry, Ledger, record_refusal
from workflow.store.participations import Direct

log = logging.getLogger("campaign.scheduler")
TICK_LOCK = 727_3001  # PostgreSQL: one tick at a time per database
SOURCES = (deadlines.due_alerts, needs.due_alerts, obligations.evaluation_alerts,
           obligations.certify_alerts)
CLOSE_REASON = "行动结束，年终关闭 (campaign ended)"
ENQUEUE_CHUNK = 2000  # alerts rendered and inserted at a time (same transaction): bounds the tick's memory
_P, _E = table(Participation).c, table(Enterprise).c


def collect(s: Session, camp: CampaignRef, today: date) -> tuple[list[Alert], set[date]]:
    """The alerts due today (latest of each series) and the days later alerts fall due."""
    found: list[Alert] = []
    wake: set[date] = set()
    for source in SOURCES:
        more, days = source(s, camp, today)
        found += more
        wake |= days
    if today <= camp.plan.end:
        wake.add(camp.plan.end + timedelta(days=1))  # the year-end close
    return found, wake


def wake_days(ctx: Context) -> list[date]:
    """Every future day on which some alert or the year-end close falls due (for the scheduler)."""
    days: set[date] = set()
    with UnitOfWork(ctx.engine) as uow:
        for camp in campaigns.every(uow.session, ctx):
            days |= collect(uow.session, camp, ctx.today)[1]
    return sorted(d for d in days if d > ctx.today)


def _enqueue(s: Session, ctx: Context, camp: CampaignRef, today: date) -> list[dict[str, Any]]:
    from notifications import Item, enqueue_many

    stamp, made = utc_iso(ctx.now()), list[dict[str, Any]]()
    if today > camp.plan.end + timedelta(days=max(camp.plan.overdue_repeat_days, 1)):
        return made  # a campaign long over sends no catch-up alerts (its year-end close still runs)
    common = {"authority": camp.plan.authority, "campaign": camp.plan.name}
    alerts = collect(s, camp, today)[0]
    for n in range(0, len(alerts), ENQUEUE_CHUNK):  # rendered rows held for one chunk at a time
        part = alerts[n:n + ENQUEUE_CHUNK]
        ids = enqueue_many(s, [Item(a.kind, a.key, a.city, a.code, a.due, {**common, **a.context}) for a in part],
                           created_at=stamp, simulation=ctx.simulation, settings=ctx.settings)
        for a, nid in zip(part, ids, strict=True):
            if nid is not None:
                made.append({"id": nid, "kind": a.kind, "key": a.key, "city": a.city, "code": a.code,
                             "due": a.due.isoformat() if a.due else None})
    if made:
        Ledger(s, ctx).append(Entry(campaign_year=camp.year, event="scheduler_alerts", actor=SYSTEM.name,
                                    role="system", payload={"as_of": today.isoformat(),
                                                   "notices": [m["key"] for m in made]}))
    return made


def close_year(ctx: Context, camp: CampaignRef) -> tuple[int, list[str]]:
    """The day after the campaign's end: every open participation is closed (not_achieved)."""
    refused: list[str] = []
    with UnitOfWork(ctx.engine) as uow:
        s = uow.session
        codes = s.execute(select(_E.code).join(table(Participation), _P.enterprise_id == _E.id)
                          .where(_P.campaign_id == camp.id, _P.state.in_(ACTIVE)).order_by(_E.code)).scalars().all()
        rows, ledger, closed = Direct(s, camp.id), Ledger(s, ctx), 0
        for code in codes:
            try:
                apply(rows, ledger, ctx, camp, SYSTEM, Request(code=code, event="close", reason=CLOSE_REASON))
                closed += 1
            except CampaignError as exc:
                refused.append(f"{code}: {exc}")
        uow.commit()
    for line in refused:
        record_refusal(ctx, actor=SYSTEM.name, code=line[:18], event="close", reason=line)
    return closed, refused


def deliver(ctx: Context, first: list[int] | None = None) -> dict[str, Any]:
    """Deliver every committed notice that is due (`first`, those just made, by id before the rest); a
    failure is logged and retried later, never raised."""
    from notifications import deliver_pending

    try:
        return deliver_pending(ctx.engine, home=ctx.home, now=ctx.now(), settings=ctx.settings, first=first or ())
    except Exception as exc:
        log.exception("delivery failed")
        return {"error": f"{type(exc).__name__}: {exc}"}


def tick(ctx: Context, *, send: bool = True) -> dict[str, Any]:
    """Do all the work due as of the campaign clock, once."""
    today = ctx.today
    with UnitOfWork(ctx.engine) as uow:
        camps = campaigns.every(uow.session, ctx)
    closed, refused = 0, list[str]()
    for camp in camps:  # the year-end close first: what it closes is owed no alert (ready to certify …)
        if today > camp.plan.end:
            n, r = close_year(ctx, camp)
            closed, refused = closed + n, refused + r
    with UnitOfWork(ctx.engine) as uow:
        s = uow.session
        if s.connection().dialect.name == "postgresql":
            s.connection().execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": TICK_LOCK})
        made = [n for camp in camps for n in _enqueue(s, ctx, camp, today)]
        uow.commit()
    from workflow.store.witness import daily

    checkpoint = daily(ctx)  # after the day's work, so it covers it; None without CAMPAIGN_CHECKPOINT_KEY
    return {"as_of": today.isoformat(), "created": len(made), "checkpoint": checkpoint,
            "by_kind": dict(Counter(n["kind"] for n in made)), "notices": made,
            "closed": closed, "close_refused": refused,
            "delivery": deliver(ctx, [n["id"] for n in made]) if send else None}
