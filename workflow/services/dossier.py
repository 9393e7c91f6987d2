"""The enterprise page of the web workspace: master data, the six phases, the events the person may
try now (each with the fields it needs), the history from the audit chain with each entry's hash
checked, and the last full verify. Read-only; the write is `workflow.api.advance` with the Request
`request_from_form` builds, carrying the participation's version the page showed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select
from sqlmodel import Session

from models.db import UnitOfWork
from models.tables import AuditEntry, City, Enterprise, Participation, table
from workflow.clock import SHANGHAI, parse_stored
from workflow.context import Context
from workflow.domain import forms, rules
from workflow.domain.audit import FIELDS, FORMAT, GENESIS, entry_hash
from workflow.domain.decide import Evidence, Request, evidence_of
from workflow.domain.forms import Action, FieldSpec
from workflow.domain.plan import Plan
from workflow.domain.states import ACTIVE, EVENTS, STATE_ZH, UNENROLLED
from workflow.errors import NotFound, Refused
from workflow.services import permissions
from workflow.services.actors import ActorRecord
from workflow.services.tasks import me
from workflow.store import scope, verify_runs
from workflow.store.campaigns import campaign

__all__ = ["Action", "Dossier", "FieldSpec", "HistoryLine", "Phase", "dossier", "event_label", "request_from_form"]

_E, _P, _C, _AU = (table(m).c for m in (Enterprise, Participation, City, AuditEntry))
_AUDIT = table(AuditEntry)


@dataclass(frozen=True)
class HistoryLine:
    seq: int
    event: str
    event_label: str
    from_state: str | None
    to_state: str | None
    actor: str
    role: str
    at: str  # Asia/Shanghai "YYYY-MM-DD HH:MM" (when it took effect)
    reason: str
    hash: str
    ok: bool  # the entry's stored hash matches its recomputed hash and links to the entry before it
    evidence: tuple[Evidence, ...] = ()  # the files its payload names (workflow.services.evidence)


@dataclass(frozen=True)
class Phase:
    key: str
    label: str
    status: str  # "done" | "current" | "todo"


@dataclass(frozen=True)
class Dossier:
    code: str
    name: str
    city: str
    county: str
    industry: str
    industry_detail: str
    grade: str
    rating_doc: str
    ule: str
    livelihood: bool
    state: str | None
    state_label: str
    version: int | None
    cycle: int | None
    target_grade: str | None
    achieved_grade: str | None
    phases: tuple[Phase, ...]  # the six phases 培育 帮扶 跟踪 验收 省级复核 认定
    actions: tuple[Action, ...]  # events ctx.actor may try now (matrix + scope + window open)
    history: tuple[HistoryLine, ...]  # this enterprise's audit entries, oldest first
    chain_ok: bool  # all of this enterprise's entries match their hashes
    last_verify: tuple[str, bool] | None  # (time Asia/Shanghai, ok) of the last full `audit verify`, if recorded


def _local(stored: str) -> str:
    return parse_stored(stored).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def event_label(event: str) -> str:
    """The Chinese name of an event (a lifecycle event or another audited action; itself when unknown)."""
    spec = EVENTS.get(event)
    if spec is not None:
        return spec.zh
    p = permissions.MATRIX.get(event)
    return p.zh if p is not None else event


def _history(session: Session, code: str) -> tuple[HistoryLine, ...]:
    """The enterprise's entries, each checked: its hash recomputed from its fields (docs/rules.md#audit-log)
    and its prev_hash equal to the stored hash of the entry before it in the chain."""
    conn = session.connection()
    rows = conn.execute(select(*(_AU[f] for f in FIELDS), _AU.hash, _AU.format)
                        .where(_AU.code == code).order_by(_AU.seq)).all()
    before = {r.seq - 1 for r in rows if r.seq > 1}
    hashes = {int(seq): str(h) for seq, h in conn.execute(select(_AU.seq, _AU.hash).where(_AU.seq.in_(before)))}
    hashes[0] = GENESIS
    lines = []
    for r in rows:
        values = tuple(r[:len(FIELDS)])
        ok = r.format == FORMAT and entry_hash(values) == r.hash and hashes.get(r.seq - 1) == r.prev_hash
        lines.append(HistoryLine(r.seq, r.event, event_label(r.event), r.from_state, r.to_state, r.actor, r.role,
                                 _local(r.effective_at), r.reason, r.hash, ok,
                                 evidence_of(json.loads(r.payload)) if '"evidence":' in r.payload else ()))
    return tuple(lines)


def _phases(state: str | None, history: tuple[HistoryLine, ...]) -> tuple[Phase, ...]:
    """The six active states as a strip: done before the current one; certified all done; a
    participation that left (withdrawn, disqualified, not achieved) done up to the phase it left from."""
    if state is None:
        return tuple(Phase(s, STATE_ZH[s], "todo") for s in ACTIVE)
    if state == "certified":
        return tuple(Phase(s, STATE_ZH[s], "done") for s in ACTIVE)
    current: str | None = state if state in ACTIVE else None
    if current is not None:
        at = ACTIVE.index(current)
    else:
        left = next((h.from_state for h in reversed(history) if h.to_state == state), None)
        at = ACTIVE.index(left) if left in ACTIVE else 0
    return tuple(Phase(s, STATE_ZH[s], "done" if i < at else "current" if s == current else "todo")
                 for i, s in enumerate(ACTIVE))


def _window_open(plan: Plan, event: str, state: str, failures: int, today: Any) -> bool:
    """The event's window is open today (rules.check_window; `close` by the campaign's end)."""
    facts = rules.Facts(event=event, today=today, state=state, failures=failures, reason="-")
    try:
        if event == "close":
            rules.check(plan, facts)
        else:
            rules.check_window(plan, facts)
    except Refused:
        return False
    return True


def _actions(session: Session, ctx: Context, plan: Plan, actor: ActorRecord, ent: Any, part: Any
             ) -> tuple[Action, ...]:
    """The events advance would not refuse for permission, scope, state or window reasons: each
    from the current state, authorised by the matrix with every check it makes for this enterprise
    (conflict, city, expert assignment, separation of duties), its window open today. The event's own
    guards (a missing pre-assessment, the publicity period) are judged when it is submitted."""
    state = UNENROLLED if part is None else part.state
    failures = 0 if part is None else int(part.failures)
    starting = None if part is None else part.starting_grade
    out = []
    for event, spec in EVENTS.items():
        if state not in spec.sources or not _window_open(plan, event, state, failures, ctx.today):
            continue
        try:
            permissions.authorize(session, actor, event, city=ent.city, code=ent.code)
        except Refused:
            continue
        out.append(forms.action(plan, event, industry=ent.industry, grade=ent.grade, starting_grade=starting))
    return tuple(out)


def dossier(ctx: Context, code: str) -> Dossier:
    """The enterprise page for ctx.actor. NotFound when the code is unknown or outside their scope
    (the same answer: the web says 404 either way)."""
    key = (code or "").strip().upper()
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        s = uow.session
        actor_id, actor = me(s, ctx.actor)
        camp = campaign(s, ctx)
        ent = s.execute(
            select(_E.code, _E.name, _C.name.label("city"), _E.county, _E.industry, _E.industry_detail, _E.grade,
                   _E.rating_doc, _E.ule, _E.livelihood, _P.state, _P.version, _P.cycle, _P.target_grade,
                   _P.achieved_grade, _P.starting_grade, _P.failures)
            .select_from(table(Enterprise)).join(table(City), _C.id == _E.city_id)
            .outerjoin(table(Participation), and_(_P.enterprise_id == _E.id, _P.campaign_id == camp.id))
            .where(_E.code == key, scope.visible(actor, actor_id))).one_or_none()
        if ent is None:
            raise NotFound(code=key)
        part = ent if ent.state is not None else None
        history = _history(s, key)
        actions = _actions(s, ctx, camp.plan, actor, ent, part)
        last = verify_runs.last(s)  # last: on PostgreSQL a failed read ends the transaction
    state = None if part is None else str(ent.state)
    return Dossier(
        code=ent.code, name=ent.name, city=ent.city, county=ent.county or "", industry=ent.industry,
        industry_detail=ent.industry_detail or "", grade=ent.grade, rating_doc=ent.rating_doc or "",
        ule=ent.ule or "", livelihood=bool(ent.livelihood), state=state,
        state_label=STATE_ZH[state if state is not None else UNENROLLED],
        version=None if part is None else int(ent.version), cycle=None if part is None else int(ent.cycle),
        target_grade=None if part is None else ent.target_grade,
        achieved_grade=None if part is None else ent.achieved_grade,
        phases=_phases(state, history), actions=actions, history=history,
        chain_ok=all(h.ok for h in history),
        last_verify=None if last is None else (_local(last[0]), last[1]))


def request_from_form(event: str, form: Mapping[str, str], code: str) -> Request:
    """The advance Request of a submitted event form: the fields the event asks for (FieldSpec.name)
    and the hidden field "version" as the expected version (a change by someone else since the page
    was rendered is then refused as ConcurrentChange). InvalidInput names a missing or malformed field."""
    return forms.request(event, form, code)
