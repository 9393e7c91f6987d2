"""Notices that events cause (公示, 认定结果, 取消评级资格), put in the outbox in the same
transaction as the events, so they are delivered by the existing channels or not at all.

Called by the lifecycle after a command's events are applied and its held-back audit rows are
flushed, before the commit: `emit(session, ctx, camp, done)` where `done` lists the results of
`lifecycle.apply` (dicts with at least "code", "event", "seq"; the audit entry `seq` holds the rest).

One command makes one 公示 and one 认定结果 notice per city (a batch of 30 publicised together is
one notice listing 30), and one 取消评级资格 notice per enterprise, to its city and (the kind says
so) to the province. Keys carry the first audit seq of the group, so the same events never make
a notice twice. Every number and date comes from the audit entries, the rows and the calendar.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, select
from sqlmodel import Session

from models.tables import AuditEntry, Enterprise, Participation, table
from workflow.clock import utc_iso
from workflow.context import Context
from workflow.store.campaigns import CampaignRef

EVENTS = ("publicize", "certify", "disqualify")
POSITIVE_LIST = frozenset({"A", "引领性"})  # 正面清单: 无打扰监管 (plan §二(六))
_AU, _E, _P = table(AuditEntry).c, table(Enterprise).c, table(Participation).c


@dataclass(frozen=True)
class Happened:
    """One applied event with what its notice names (plain values)."""

    seq: int
    event: str
    from_state: str | None
    code: str
    city: str
    reason: str
    payload: dict[str, Any]
    name: str
    industry: str
    grade_now: str  # the enterprise's grade after the event
    starting_grade: str
    target_grade: str
    achieved_grade: str | None


def emit(session: Session, ctx: Context, camp: CampaignRef, done: Sequence[Mapping[str, Any]]) -> None:
    """Enqueue, in the caller's transaction, the notices the applied events call for."""
    seqs = [int(d["seq"]) for d in done if d.get("event") in EVENTS]
    if not seqs:
        return
    from notifications import Item, enqueue_many

    found = _load(session, camp, seqs)
    common = {"authority": camp.plan.authority, "campaign": camp.plan.name}
    happened = [found[s] for s in seqs if s in found]
    items = [Item(kind, key, city, code, due, {**common, **context})
             for kind, key, city, code, due, context in notices(camp, ctx.today, happened)]
    if items:
        enqueue_many(session, items, created_at=utc_iso(ctx.now()), simulation=ctx.simulation,
                     settings=ctx.settings)


_ENTRIES = (select(_AU.seq, _AU.event, _AU.from_state, _AU.code, _AU.city, _AU.reason, _AU.payload)
            .where(_AU.seq.in_(bindparam("seqs", expanding=True))))
_ROWS = (select(_E.code, _E.name, _E.industry, _E.grade, _P.starting_grade, _P.target_grade, _P.achieved_grade)
         .join(table(Participation), (_P.enterprise_id == _E.id) & (_P.campaign_id == bindparam("cid")))
         .where(_E.code.in_(bindparam("codes", expanding=True))))


def _load(session: Session, camp: CampaignRef, seqs: list[int], chunk: int = 500) -> dict[int, Happened]:
    conn = session.connection()
    entries: list[Any] = []
    for n in range(0, len(seqs), chunk):
        entries += conn.execute(_ENTRIES, {"seqs": seqs[n:n + chunk]}).all()
    codes = sorted({str(e.code) for e in entries})
    rows: dict[str, Any] = {}
    for n in range(0, len(codes), chunk):
        for r in conn.execute(_ROWS, {"cid": camp.id, "codes": codes[n:n + chunk]}).all():
            rows[r.code] = r
    out = {}
    for e in entries:
        if e.code not in rows:
            continue
        r = rows[e.code]
        out[int(e.seq)] = Happened(int(e.seq), e.event, e.from_state, e.code, e.city or "", e.reason or "",
                                   json.loads(e.payload or "{}"), r.name, r.industry, r.grade,
                                   r.starting_grade, r.target_grade, r.achieved_grade)
    return out


Notice = tuple[str, str, str | None, str | None, date | None, dict[str, Any]]  # kind, key, city, code, due, ctx


def notices(camp: CampaignRef, today: date, happened: list[Happened]) -> list[Notice]:
    """The notices of one command's events (pure): each disqualification, then one 公示 per city
    and period and one 认定结果 per city, in the order their first event came."""
    out: list[Notice] = []
    groups: dict[tuple[Any, ...], dict[str, Happened]] = {}  # an enterprise is listed once per notice
    for h in happened:
        if h.event == "publicize":
            group = ("publicity", h.city, h.payload.get("publicity_start"), h.payload.get("publicity_end"))
            groups.setdefault(group, {})[h.code] = h
        elif h.event == "certify":
            groups.setdefault(("certification_result", h.city), {})[h.code] = h
        elif h.event == "disqualify":
            out.append(_disqualified(camp, today, h))
    for (kind, city, *_), by_code in groups.items():
        members = list(by_code.values())
        key = f"{kind}:{camp.year}:{city}:{min(h.seq for h in members)}"
        if kind == "publicity":
            out.append(_publicity(camp, key, city, members))
        else:
            out.append(_certified(camp, today, key, city, members))
    return out


def _publicity(camp: CampaignRef, key: str, city: str, members: list[Happened]) -> Notice:
    start, end = str(members[0].payload["publicity_start"]), str(members[0].payload["publicity_end"])
    rows = [{"name": h.name, "code": h.code, "industry": h.industry, "grade_from": h.starting_grade,
             "grade_to": h.target_grade} for h in members]
    return ("publicity", key, city, None, date.fromisoformat(end),
            {"city": city, "enterprises": rows, "publicity_start": start, "publicity_end": end,
             "publicity_workdays": camp.plan.publicity_workdays, "objections_to": f"{city}生态环境局",
             "objections_until": end})


def _certified(camp: CampaignRef, today: date, key: str, city: str, members: list[Happened]) -> Notice:
    rows = []
    for h in members:
        grade = str(h.payload.get("achieved_grade") or h.achieved_grade or h.grade_now)
        rows.append({"name": h.name, "code": h.code, "industry": h.industry, "grade_from": h.starting_grade,
                     "grade": grade, "positive_list": grade in POSITIVE_LIST,
                     "control": camp.plan.control_categories.get(grade, "")})
    return ("certification_result", key, city, None, None,
            {"city": city, "enterprises": rows, "certified_on": today.isoformat()})


def _disqualified(camp: CampaignRef, today: date, h: Happened) -> Notice:
    grade_to = str(h.payload.get("grade_to") or h.grade_now)
    certified = (h.payload.get("grade_from") or h.achieved_grade) if h.from_state == "certified" else None
    return ("disqualified", f"disqualified:{camp.year}:{h.code}:{h.seq}", h.city, h.code, None,
            {"city": h.city, "code": h.code, "enterprise_name": h.name, "reason": h.reason,
             "decided_on": today.isoformat(), "grade_to": grade_to, "certified_grade": certified,
             "control": camp.plan.control_categories.get(grade_to, "")})
