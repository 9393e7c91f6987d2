"""`campaign advance`: one event, or a batch of them, in one transaction. Each event goes the same
four steps: load the enterprise and its participation, authorise the actor, decide (pure:
`workflow.domain.decide`), write the participation, the audit entry, the grade and the month.
Where it reads and writes is one interface, `Rows`: `Single` for one event (enterprise, participation
and the actor's facts in one statement), `Direct` for the year-end close, `Preloaded` for a batch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, TypedDict

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from workflow.clock import utc_iso
from workflow.context import Context
from workflow.domain import creditcode
from workflow.domain.decide import Decision, Request, decide, decision_doc, reads_months
from workflow.errors import CampaignError, ConcurrentChange, InvalidInput
from workflow.services import announcements, permissions
from workflow.services.accountability import actors_of
from workflow.services.actors import ActorRecord, acting, lookup
from workflow.services.preloaded import Preloaded
from workflow.store.campaigns import CampaignRef, campaign
from workflow.store.held_writes import FlushFailed
from workflow.store.ledger import Entry, Ledger, record_refusal, refusals_recorded
from workflow.store.participations import Direct

__all__ = ["Advanced", "BatchOutcome", "Request", "Rows", "Single", "advance", "advance_batch", "apply"]

_HOLD = 2_000  # rows a batch holds back per executemany


class Rows(Protocol):
    """Where `apply` reads and writes, inside the caller's transaction."""

    session: Session

    @property
    def known(self) -> permissions.Known | None:
        """The actor's permission facts read up front, if any."""

    def load(self, code: str) -> tuple[Any, Any]:
        """(enterprise, its participation or None); NotFound for an unknown code."""

    def months(self, part: Any) -> frozenset[str]:
        """The evaluation months of the participation's current cycle."""

    def insert(self, code: str, ent: Any, values: dict[str, Any]) -> int:
        """A first enrolment; the participation's id."""

    def update(self, code: str, part: Any, values: dict[str, Any]) -> int:
        """Change the participation as read (ConcurrentChange if someone else did since); its id."""

    def set_grade(self, ent: Any, grade: str, doc: str) -> None: ...

    def record_month(self, pid: int, cycle: int, month: str, recorded_at: str, seq: int) -> None: ...

    def flush(self) -> None:
        """Make held-back writes visible to what reads the tables."""


class Single(Direct):
    """`Direct` for one event by `actor`: the enterprise, its participation and the actor's conflict
    and assignments on it come in one statement, and the permission checks use those facts."""

    def __init__(self, session: Session, campaign_id: int, actor: str) -> None:
        super().__init__(session, campaign_id, actor=actor)

    @property
    def known(self) -> permissions.Known | None:
        f = self.facts
        return None if f is None else permissions.Known.of(f.actor, f.code, conflict=f.conflict,
                                                            assigned=f.assigned, ever=f.ever)


class Advanced(TypedDict):
    """One applied event: what `advance` and `apply` return."""

    code: str
    event: str
    from_state: str
    to_state: str
    seq: int
    hash: str
    late: bool
    version: int


class Loaded(NamedTuple):
    code: str
    ent: Any
    part: Any
    months: frozenset[str]
    accountable: list[str] | None  # a disqualification: who acted on the enterprise in the campaign


def apply(rows: Rows, ledger: Ledger, ctx: Context, camp: CampaignRef, actor: ActorRecord,
          req: Request) -> Advanced:
    """One event inside the caller's transaction; a refusal raises before anything is written."""
    seen = _load(rows, ledger, camp, req)
    role = _authorise(rows, actor, req, seen)
    decision = decide(camp.plan, req, seen.code, seen.ent, seen.part, now=ctx.now(), months=seen.months,
                      accountable=seen.accountable)
    return _write(rows, ledger, camp, actor, role, req, seen, decision)


def _load(rows: Rows, ledger: Ledger, camp: CampaignRef, req: Request) -> Loaded:
    code = creditcode.validate(req.code) if len(req.code) == 18 else req.code.strip().upper()
    if len(code) != 18:
        raise InvalidInput(f"统一社会信用代码应为18位：'{req.code}'")
    ent, part = rows.load(code)
    known = rows.known
    from_log = known is None or known.separation is None  # separation of duties reads the log itself
    if req.event == "disqualify" or (req.event in permissions.READS_AUDIT and from_log):
        ledger.flush()  # what is read from the log must include the rows a batch holds back
        rows.flush()
    months = rows.months(part) if reads_months(req.event, part) else frozenset[str]()
    accountable = None
    if req.event == "disqualify":
        accountable = [a["actor"] for a in actors_of(rows.session, code, camp.year)]
    return Loaded(code, ent, part, months, accountable)


def _authorise(rows: Rows, actor: ActorRecord, req: Request, seen: Loaded) -> str:
    """The role the actor acts in, or Refused naming the rule (workflow.services.permissions)."""
    role = permissions.authorize(rows.session, actor, req.event, city=seen.ent.city, code=seen.code,
                                 known=rows.known)
    if req.effective is not None:
        permissions.authorize_role(actor, "effective_date")
    if req.override_window:
        permissions.authorize_override(actor)
    return role


def _write(rows: Rows, ledger: Ledger, camp: CampaignRef, actor: ActorRecord, role: str, req: Request,
           seen: Loaded, d: Decision) -> Advanced:
    now = utc_iso(d.at)
    values = {"state": d.dest, "version": d.version, "updated_at": now, **d.changes}
    pid = (rows.insert(seen.code, seen.ent, values) if seen.part is None
           else rows.update(seen.code, seen.part, values))
    seq, digest = ledger.append(Entry(code=seen.code, campaign_year=camp.year, city=seen.ent.city, event=req.event,
                                      from_state=d.source, to_state=d.dest, actor=actor.name, role=role,
                                      reason=req.reason, payload=d.payload), effective=d.at)
    if d.grade is not None:  # the enterprise's grade moves with the event, in the same transaction
        grade, doc = d.grade
        rows.set_grade(seen.ent, grade, doc if doc is not None else decision_doc(camp.plan, req.event, seq))
    if d.month is not None:
        rows.record_month(pid, d.cycle, d.month, now, seq)
    return {"code": seen.code, "event": req.event, "from_state": d.source, "to_state": d.dest,
            "seq": seq, "hash": digest, "late": d.late, "version": d.version}


def advance(ctx: Context, req: Request) -> Advanced:
    """One event in its own transaction, with the notices it calls for; a refusal is recorded and re-raised."""
    with refusals_recorded(ctx, req.event, req.code), ctx.uow(ctx.engine) as uow:
        actor, camp = acting(uow.session, ctx)
        try:
            result = apply(Single(uow.session, camp.id, actor.name), Ledger(uow.session, ctx), ctx, camp, actor, req)
        except IntegrityError:
            raise ConcurrentChange(f"企业 {req.code} 已被他人同时更改，请刷新后重试", rule="concurrency",
                                   code=req.code) from None
        announcements.emit(uow.session, ctx, camp, [result])
        uow.commit()
        return result


@dataclass(frozen=True)
class BatchOutcome:
    line: int
    code: str
    event: str
    ok: bool
    message: str


def advance_batch(ctx: Context, reqs: list[tuple[int, Request]]) -> tuple[bool, list[BatchOutcome]]:
    """All rows in one transaction, in order: every row is reported; any refusal undoes all."""
    outcomes: list[BatchOutcome] = []
    with refusals_recorded(ctx, "batch", None), ctx.uow(ctx.engine) as uow:  # e.g. an unknown actor
        actor = lookup(uow.session, ctx.actor)
        camp = campaign(uow.session, ctx)
        ledger = Ledger(uow.session, ctx, hold=_HOLD)
        rows = Preloaded(uow.session, camp.id, [r.code.strip().upper() for _, r in reqs], actor=actor.name,
                         year=camp.year, events={r.event for _, r in reqs}, hold=_HOLD)
        last: dict[str, tuple[int, str]] = {}  # code -> (line, event) of its last row applied
        done: list[Advanced] = []  # the applied events, for the notices they call for
        for line, req in reqs:
            try:
                r = apply(rows, ledger, ctx, camp, actor, req)
            except FlushFailed as exc:  # the held-back writes failed: the batch cannot go on
                _flush_outcome(outcomes, exc, last, (line, req.code, req.event))
                break
            except CampaignError as exc:
                outcomes.append(BatchOutcome(line, req.code, req.event, False, str(exc)))
                continue
            done.append(r)
            rows.applied(r["code"], req.event, r["seq"], actor.name)
            outcomes.append(BatchOutcome(line, r["code"], req.event, True, f"{r['from_state']} → {r['to_state']}"))
            last[r["code"]] = (line, req.event)
        ok = all(o.ok for o in outcomes)
        if ok:
            ledger.flush()
            try:
                rows.flush()
            except FlushFailed as exc:
                line, req = reqs[-1]
                _flush_outcome(outcomes, exc, last, (line, req.code, req.event))
                ok = False
        if ok:
            announcements.emit(uow.session, ctx, camp, done)  # one call per command: one notice per kind
            uow.commit()
    if not ok:
        record_batch_refusal(ctx, "batch", outcomes)
    return ok, outcomes


def record_batch_refusal(ctx: Context, event: str, outcomes: list[BatchOutcome]) -> None:
    """A refused batch is recorded once, outside the chain, naming its first refused row."""
    first = next(o for o in outcomes if not o.ok)
    record_refusal(ctx, actor=ctx.actor, code=first.code, event=event, reason=f"第 {first.line} 行：{first.message}")


def _flush_outcome(outcomes: list[BatchOutcome], exc: FlushFailed, last: dict[str, tuple[int, str]],
                   here: tuple[int, str, str]) -> None:
    """Report the failure of a flush on the last row of the enterprise it names (that row's
    outcome becomes the failure), or else on the row being applied."""
    line, code, event = here
    if exc.code is not None and exc.code in last:
        (line, event), code = last[exc.code], exc.code
    failed = BatchOutcome(line, code, event, False, str(exc))
    at = next((i for i, o in enumerate(outcomes) if o.line == line), None)
    if at is None:
        outcomes.append(failed)
    else:
        outcomes[at] = failed
