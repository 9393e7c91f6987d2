"""The plain contender of issue 16: the same lifecycle written plainly with `transitions` and SQLModel,
as a careful developer would without this engine. One Session per event (interactive) or per event
type (batch), a `Machine` bound to a small wrapper around the participation, the actor's role checked
against a table, the audit head read from the last row and the new row chained to it (sha256 over a
compact form). It writes the same rows as the engine on the engine's own tables: the participation
(inserted at enrolment, else its state and version), an evaluation row per monthly evaluation, and one
audit entry per event. It keeps fewer checks than the engine (no windows, no city scope, no expert
assignment, no separation of duties, no conflict of interest): it is a floor for "a state machine on
an ORM", not an equal.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from transitions import Machine

from models.tables import Actor, AuditEntry, Campaign, Enterprise, Evaluation, Participation
from workflow.domain.decide import Request
from workflow.domain.matrix import MATRIX
from workflow.domain.states import EVENTS, STATES, UNENROLLED

_DUMPS = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
_SEP = "\x1f"


class Holder:
    """What the machine is bound to: the participation's state, nothing else."""

    def __init__(self, state: str) -> None:
        self.state = state


def _machine() -> Machine:
    return Machine(model=None, states=[UNENROLLED, *STATES],
                   transitions=[{"trigger": e.name, "source": list(e.sources), "dest": e.dest}
                                for e in EVENTS.values()],
                   initial=UNENROLLED, auto_transitions=False)


class Plain:
    """The contender: `advance` one event per Session, or `advance_many` in one."""

    def __init__(self, engine: Engine, now: str) -> None:
        self.engine = engine
        self.now = now
        self.machine = _machine()

    def _one(self, s: Session, actor: Actor, camp: Campaign, req: Request) -> None:
        roles = actor.roles.split(",")
        allowed = MATRIX[req.event].roles if req.event in MATRIX else ("province_admin", "city_coordinator")
        role = next((r for r in roles if r in allowed), None)
        if role is None:
            raise PermissionError(f"{actor.name} may not {req.event}")
        ent = s.exec(select(Enterprise).where(Enterprise.code == req.code)).one()
        part = s.exec(select(Participation).where(Participation.enterprise_id == ent.id,
                                                  Participation.campaign_id == camp.id)).first()
        holder = Holder(part.state if part else UNENROLLED)
        self.machine.add_model(holder, initial=holder.state)
        try:
            source = holder.state
            getattr(holder, req.event)()  # raises MachineError for a transition it has not
        finally:
            self.machine.remove_model(holder)
        if part is None:
            part = Participation(enterprise_id=ent.id or 0, campaign_id=camp.id or 0, state=holder.state,
                                 starting_grade=ent.grade, starting_rating_doc=ent.rating_doc,
                                 target_grade=req.target_grade or "", consent_ref=req.consent or "",
                                 updated_at=self.now)
            s.add(part)
        else:
            part.state = holder.state
            part.version += 1
            part.updated_at = self.now
        s.flush()
        head = s.exec(select(AuditEntry).order_by(col(AuditEntry.seq).desc()).limit(1)).first()
        seq, prev = (head.seq + 1, head.hash) if head else (1, "0" * 64)
        payload = _DUMPS({k: v for k, v in (("month", req.month), *req.data.items()) if v})
        fields = (seq, prev, req.code, camp.year, None, req.event, source, holder.state, actor.name, role,
                  req.reason, payload, self.now, self.now)
        digest = hashlib.sha256(_SEP.join(map(str, fields)).encode()).hexdigest()
        s.add(AuditEntry(seq=seq, prev_hash=prev, hash=digest, code=req.code, campaign_year=camp.year,
                         event=req.event, from_state=source, to_state=holder.state, actor=actor.name, role=role,
                         reason=req.reason, payload=payload, effective_at=self.now, recorded_at=self.now))
        if req.event == "record_evaluation" and req.month:
            s.add(Evaluation(participation_id=part.id or 0, cycle=part.cycle, month=req.month,
                             recorded_at=self.now, audit_seq=seq))
        s.flush()

    def _context(self, s: Session, actor_name: str) -> tuple[Actor, Campaign]:
        actor = s.exec(select(Actor).where(Actor.name == actor_name)).one()
        camp = s.exec(select(Campaign).order_by(col(Campaign.year).desc())).first()
        if camp is None:
            raise LookupError("no campaign")
        return actor, camp

    def advance(self, actor_name: str, req: Request) -> None:
        """One event, one Session, one commit."""
        with Session(self.engine) as s:
            actor, camp = self._context(s, actor_name)
            self._one(s, actor, camp, req)
            s.commit()

    def advance_many(self, actor_name: str, reqs: Iterable[Request]) -> None:
        """Every event in one Session and one commit."""
        with Session(self.engine) as s:
            actor, camp = self._context(s, actor_name)
            for req in reqs:
                self._one(s, actor, camp, req)
            s.commit()


def run(engine: Engine, now: str, actor: str, reqs: list[Request], *, batch: bool) -> Any:
    plain = Plain(engine, now)
    if batch:
        return plain.advance_many(actor, reqs)
    for r in reqs:
        plain.advance(actor, r)
    return None
