"""The advance service: load, fire the machine, write state and audit together."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from models.db import UnitOfWork
from models.tables import City, Enterprise, Evaluation, Participation
from workflow.clock import local_date, parse_day, parse_stored, utc_iso
from workflow.context import Context
from workflow.domain import creditcode, effective, grades, machine, rules
from workflow.domain.states import UNENROLLED
from workflow.errors import CampaignError, ConcurrentChange, InvalidInput, NotFound, Refused
from workflow.services import announcements, permissions
from workflow.services.actors import SYSTEM, ActorRecord, lookup
from workflow.store.campaigns import CampaignRef, current
from workflow.store.ledger import Entry, Ledger, insert_rows, record_refusal

_E = Enterprise.__table__  # type: ignore[attr-defined]
_P = Participation.__table__  # type: ignore[attr-defined]
_C = City.__table__  # type: ignore[attr-defined]
_EV = Evaluation.__table__  # type: ignore[attr-defined]

# Statements of the hot path, built once: building a statement costs more than running it.
_ENTERPRISE = (select(_E.c.id, _E.c.code, _E.c.grade, _E.c.rating_doc, _E.c.industry, _E.c.ule,
                      _C.c.name.label("city"))
               .join(_C, _C.c.id == _E.c.city_id).where(_E.c.code == bindparam("code")))
_PARTICIPATION = select(_P).where(_P.c.enterprise_id == bindparam("eid"), _P.c.campaign_id == bindparam("cid"))
_MONTHS = select(_EV.c.month).where(_EV.c.participation_id == bindparam("pid"), _EV.c.cycle == bindparam("cycle"))
_INSERT_P = insert(_P)
_UPDATE_P = update(_P).where(_P.c.id == bindparam("b_id"), _P.c.version == bindparam("b_version"))
_UPDATE_GRADE = update(_E).where(_E.c.id == bindparam("b_id")).values(version=_E.c.version + 1)  # grade, rating_doc
_INSERT_EV = insert(_EV)
_READS_AUDIT = permissions.READS_AUDIT | {"disqualify"}  # disqualify: accountability reads the log


@dataclass
class Request:
    code: str
    event: str
    reason: str = ""
    data: dict[str, str] = field(default_factory=dict)
    target_grade: str | None = None
    consent: str | None = None
    month: str | None = None
    grade: str | None = None
    override_window: bool = False
    effective: str | None = None  # YYYY-MM-DD: a decision taken on paper that day (province_admin)


def _load(session: Session, code: str, campaign_id: int) -> tuple[Any, Any]:
    conn = session.connection()
    ent = conn.execute(_ENTERPRISE, {"code": code}).one_or_none()
    if ent is None:
        raise NotFound(f"企业 {code} 未登记，请先 campaign enterprise add 或 import (unknown enterprise)")
    part = conn.execute(_PARTICIPATION, {"eid": ent.id, "cid": campaign_id}).one_or_none()
    return ent, part


def _months(session: Session, part: Any) -> frozenset[str]:
    rows = session.connection().execute(_MONTHS, {"pid": part.id, "cycle": part.cycle})
    return frozenset(r[0] for r in rows)


_PART_COLUMNS = tuple(_P.c.keys())
_PRELOAD = (select(_E.c.id, _E.c.code, _E.c.grade, _E.c.rating_doc, _E.c.industry, _E.c.ule,
                   _C.c.name.label("city"),
                   *[_P.c[k].label(f"p_{k}") for k in _PART_COLUMNS])
            .join(_C, _C.c.id == _E.c.city_id)
            .outerjoin(_P, (_P.c.enterprise_id == _E.c.id) & (_P.c.campaign_id == bindparam("cid")))
            .where(_E.c.code.in_(bindparam("codes", expanding=True))))
_PRELOAD_MONTHS = (select(_EV.c.participation_id, _EV.c.month)  # the current cycle's months
                   .join(_P, (_P.c.id == _EV.c.participation_id) & (_P.c.cycle == _EV.c.cycle))
                   .where(_EV.c.participation_id.in_(bindparam("pids", expanding=True))))


_VERSIONS = select(_P.c.id, _P.c.version).where(_P.c.id.in_(bindparam("pids", expanding=True)))
_EV_COLUMNS = ("participation_id", "cycle", "month", "recorded_at", "audit_seq")


class FlushFailed(ConcurrentChange):
    """A batch's held-back writes could not be made (someone else changed a participation the batch
    read): names the enterprise; the batch stops and nothing is committed."""

    def __init__(self, message: str, code: str | None) -> None:
        super().__init__(message, rule="concurrency")
        self.code = code


def _changed_under_you(code: str | None) -> FlushFailed:
    who = f"企业 {code} 的状态" if code else "本批企业的状态"
    return FlushFailed(f"{who}已被他人更改，请刷新后重试 (state changed under you)", code)


class Writes:
    """A batch's participation updates and evaluation inserts, held back and written with
    executemany by `flush`: due before anything in the transaction reads them, every `hold`
    rows, and before the commit. The updates of one participation merge into one row that still
    carries the version the batch read, so a change by anyone else since fails the version check
    at the flush (the rows written must equal the rows sent), naming the enterprise."""

    def __init__(self, session: Session, hold: int) -> None:
        self.session, self.hold = session, hold
        self.updates: dict[int, tuple[str, int, dict[str, Any]]] = {}  # pid -> (code, version read, SET)
        self.evaluations: list[tuple[Any, ...]] = []  # in _EV_COLUMNS order

    def update(self, code: str, part: Any, values: dict[str, Any]) -> None:
        held = self.updates.get(part.id)
        if held is None:
            self.updates[part.id] = (code, part.version, dict(values))
        else:  # a later event of the same participation: its values win, the version read stays
            held[2].update(values)
        if len(self.updates) >= self.hold:
            self.flush()

    def insert_evaluation(self, row: tuple[Any, ...]) -> None:
        self.evaluations.append(row)
        if len(self.evaluations) >= self.hold:
            self.flush()

    def flush(self) -> None:
        conn = self.session.connection()
        if self.updates:
            updates, self.updates = self.updates, {}
            groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}  # executemany: one SET per group
            for pid, (_, version, values) in updates.items():
                groups.setdefault(tuple(sorted(values)), []).append(dict(b_id=pid, b_version=version, **values))
            for params in groups.values():
                if not conn.dialect.supports_sane_multi_rowcount:  # no trustworthy total: row by row
                    for one in params:
                        if conn.execute(_UPDATE_P, one).rowcount != 1:
                            raise _changed_under_you(updates[one["b_id"]][0])
                elif conn.execute(_UPDATE_P, params).rowcount != len(params):
                    raise _changed_under_you(self._culprit(conn, updates, params))
        if self.evaluations:
            rows, self.evaluations = self.evaluations, []
            try:
                insert_rows(conn, _EV, _EV_COLUMNS, rows)
            except IntegrityError:  # someone else recorded one of these months meanwhile
                raise _changed_under_you(None) from None

    @staticmethod
    def _culprit(conn: Any, updates: dict[int, tuple[str, int, dict[str, Any]]],
                 params: list[dict[str, Any]], chunk: int = 500) -> str | None:
        """The first participation of a failed executemany whose row does not carry our new version."""
        found: dict[int, int] = {}
        for i in range(0, len(params), chunk):
            rows = conn.execute(_VERSIONS, {"pids": [p["b_id"] for p in params[i:i + chunk]]})
            found.update((r[0], r[1]) for r in rows)
        return next((updates[p["b_id"]][0] for p in params if found.get(p["b_id"]) != p["version"]), None)


class Preloaded:
    """A batch's enterprises, participations and evaluation months, read in a few queries up
    front and kept current as `apply` writes (the batch holds the write lock; a change by
    anyone else still fails the version check). Codes it does not hold are loaded one by one."""

    def __init__(self, session: Session, campaign_id: int, codes: list[str], chunk: int = 500,
                 actor: str | None = None, hold: int = 2_000) -> None:
        self.session, self.campaign_id = session, campaign_id
        self.writes = Writes(session, hold)  # the batch's participation and evaluation writes
        # the actor's conflicts and assignments over these codes (the permission checks' facts)
        self.known = None if actor is None else permissions.Known(session, actor, codes, chunk)
        self.rows: dict[str, tuple[Any, Any]] = {}
        self.months: dict[int, set[str]] = {}
        conn, wanted = session.connection(), sorted(set(codes))
        for i in range(0, len(wanted), chunk):
            for r in conn.execute(_PRELOAD, {"cid": campaign_id, "codes": wanted[i:i + chunk]}):
                m = r._mapping
                part = None if m["p_id"] is None else SimpleNamespace(
                    **{k: m[f"p_{k}"] for k in _PART_COLUMNS})
                self.rows[r.code] = (SimpleNamespace(id=r.id, code=r.code, grade=r.grade, rating_doc=r.rating_doc,
                                                     industry=r.industry, ule=r.ule, city=r.city), part)
        pids = [p.id for _, p in self.rows.values() if p is not None]
        for i in range(0, len(pids), chunk):
            for pid, month in conn.execute(_PRELOAD_MONTHS, {"pids": pids[i:i + chunk]}):
                self.months.setdefault(pid, set()).add(month)

    def load(self, code: str) -> tuple[Any, Any]:
        if code not in self.rows:
            ent, part = _load(self.session, code, self.campaign_id)
            self.rows[code] = (SimpleNamespace(**ent._mapping),
                               None if part is None else SimpleNamespace(**part._mapping))
            if part is not None:
                self.months[part.id] = set(_months(self.session, part))
        return self.rows[code]


# What the engine itself writes into an event's audit payload: `--data` may not set these (the
# replay of `audit verify` reads them as the event's effects).
_RESERVED = frozenset({*_PART_COLUMNS, "consent", "month", "grade", "grade_from", "grade_to", "late",
                       "override_window", "effective", "effective_reason", "accountable"})


def _payload(req: Request) -> dict[str, Any]:
    taken = sorted(k for k in req.data if k in _RESERVED)
    if taken:
        raise InvalidInput(f"--data 不能设置由系统记录的字段：{'、'.join(taken)} (reserved payload keys)")
    payload: dict[str, Any] = dict(req.data)
    for key in ("consent", "month", "grade"):
        value = getattr(req, key)
        if value:
            payload[key] = value
    return payload


def _effects(req: Request, camp: CampaignRef, today: date, ent: Any, part: Any,
             facts: rules.Facts, late: bool) -> dict[str, Any]:
    """Column changes the event makes on an existing participation, on the day it takes effect."""
    ev = req.event
    if ev == "enroll":  # 有进有出: a new cycle on the same row, from cultivation, as if enrolled afresh
        return {"cycle": part.cycle + 1, "starting_grade": ent.grade, "starting_rating_doc": ent.rating_doc,
                "target_grade": facts.target_grade, "consent_ref": facts.payload["consent"],
                "enrolled_late": late, **_RESTART}
    if ev == "record_pre_assessment":
        return {"pre_assessed": True}
    if ev == "submit_plan":
        return {"plan_submitted": True}
    if ev in ("fail_acceptance", "fail_recheck", "object"):
        return {"failures": part.failures + 1, "publicity_start": None, "publicity_end": None}
    if ev == "publicize":
        end = camp.plan.workcal.nth_workday_after(today, camp.plan.publicity_workdays)
        return {"publicity_start": today, "publicity_end": end}
    if ev == "certify":
        return {"achieved_grade": rules.certified_grade(facts)}
    return {}


# What a new cycle starts without; not repeated in its audit entry.
_RESTART: dict[str, Any] = {"failures": 0, "pre_assessed": False, "plan_submitted": False,
                            "publicity_start": None, "publicity_end": None, "achieved_grade": None}
_NOT_AUDITED = frozenset({*_RESTART, "consent_ref", "enrolled_late"})


def _grade_change(req: Request, camp: CampaignRef, ent: Any, part: Any,
                  changes: dict[str, Any]) -> tuple[str, str | None] | None:
    """The enterprise's new grade and its 评级文件文号 (None: the decision's own audit entry), when
    the event decides one: `certify` gives the certified grade (document: `--data rating_doc=…` if
    given); `disqualify` returns it to the grade it had at enrolment with that grade's document, or
    to the lower grade the province names (取消评级资格)."""
    if req.event == "certify":
        return changes["achieved_grade"], str(req.data.get("rating_doc", "")).strip() or None
    if req.event == "disqualify":
        grade = rules.return_grade(camp.plan, ent.industry, part.starting_grade, req.grade)
        if grade == part.starting_grade:
            return grade, part.starting_rating_doc
        return grade, "" if grade == grades.UNRATED else None
    return None


def _decision_doc(camp: CampaignRef, event: str, seq: int) -> str:
    """The reference of a grade decided in the campaign without a document of its own."""
    what = "认定" if event == "certify" else "取消评级资格决定"
    return f"{camp.plan.authority}{what}（审计#{seq}）"


def _effective_at(ctx: Context, actor: ActorRecord, req: Request, code: str, part: Any) -> datetime:
    """When the event takes effect: now on the campaign clock, or the day a province admin gives
    (`--effective`, with a reason); never before the participation's previous event."""
    previous = parse_stored(part.updated_at) if part is not None and part.updated_at else None
    if req.effective is None:
        return effective.after_previous(ctx.now(), previous, code)
    permissions.authorize_role(actor, "effective_date")
    if not req.reason.strip():
        raise Refused("--effective 须用 --reason 说明理由（纸面决定的文号或说明） (reason required)", rule="reason")
    return effective.on_paper(parse_day(req.effective, "生效日期"), ctx.now(), previous, code)


def apply(session: Session, ledger: Ledger, ctx: Context, camp: CampaignRef,
          actor: ActorRecord, req: Request, *, preloaded: Preloaded | None = None) -> dict[str, Any]:
    """Apply one event inside the caller's transaction; raise without writing on refusal."""
    code = creditcode.validate(req.code) if len(req.code) == 18 else req.code.strip().upper()
    if len(code) != 18:
        raise InvalidInput(f"统一社会信用代码应为18位：'{req.code}'")
    ent, part = _load(session, code, camp.id) if preloaded is None else preloaded.load(code)
    state = part.state if part is not None else UNENROLLED
    if req.event in _READS_AUDIT:
        ledger.flush()  # rows a batch holds back must be visible to what reads the audit log
        if preloaded is not None:  # ... and to what reads participation state (职责分离: _AWAITING)
            preloaded.writes.flush()
    role = permissions.authorize(session, actor, req.event, city=ent.city, code=code,
                                 known=None if preloaded is None else preloaded.known)
    at = _effective_at(ctx, actor, req, code, part)
    today = local_date(at)
    target = grades.normalise(req.target_grade) if req.target_grade else (
        part.target_grade if part is not None and req.event != "enroll" else None)
    payload = _payload(req)
    facts = rules.Facts(
        event=req.event, today=today, state=state, industry=ent.industry, grade=ent.grade,
        ule=ent.ule, target_grade=target, starting_grade=ent.grade, reason=req.reason, payload=payload,
        override_window=req.override_window,
    )
    if part is not None and req.event != "enroll":  # a re-enrolment is judged as a first one
        facts.starting_grade, facts.failures = part.starting_grade, part.failures
        facts.pre_assessed, facts.plan_submitted = part.pre_assessed, part.plan_submitted
        facts.publicity_start, facts.publicity_end = part.publicity_start, part.publicity_end
        facts.target_changed = target != part.target_grade
        if req.event in ("record_evaluation", "submit_for_acceptance"):
            facts.evaluation_months = (_months(session, part) if preloaded is None
                                       else frozenset(preloaded.months.get(part.id, ())))
    if req.override_window:
        permissions.authorize_override(actor)
        if not req.reason.strip():
            raise Refused("--override-window 须用 --reason 说明理由", rule="reason")
    dest, late = machine.fire(camp.plan, facts)
    conn, now = session.connection(), utc_iso(at)
    changes: dict[str, Any]
    if part is None:
        changes = {"starting_grade": ent.grade, "starting_rating_doc": ent.rating_doc, "target_grade": target}
        result = conn.execute(_INSERT_P, dict(
            enterprise_id=ent.id, campaign_id=camp.id, cycle=1, state=dest, consent_ref=payload["consent"],
            enrolled_late=late, failures=0, pre_assessed=False, plan_submitted=False, version=1,
            updated_at=now, **changes))
        assert result.inserted_primary_key is not None
        pid, version, cycle = result.inserted_primary_key[0], 1, 1
        if preloaded is not None:
            preloaded.rows[code] = (ent, SimpleNamespace(
                id=pid, enterprise_id=ent.id, campaign_id=camp.id, cycle=1, state=dest, achieved_grade=None,
                consent_ref=payload["consent"], enrolled_late=late, failures=0, pre_assessed=False,
                plan_submitted=False, publicity_start=None, publicity_end=None, version=1,
                updated_at=now, **changes))
    else:
        changes = _effects(req, camp, today, ent, part, facts, late)
        if req.target_grade and target != part.target_grade:
            changes["target_grade"] = target
        version = part.version + 1
        cycle = changes.get("cycle", part.cycle)
        if preloaded is None:
            done = conn.execute(_UPDATE_P, dict(b_id=part.id, b_version=part.version, state=dest,
                                                version=version, updated_at=now, **changes))
            if done.rowcount != 1:
                raise ConcurrentChange(f"企业 {code} 的状态已被他人更改，请刷新后重试 (state changed under you)",
                                       rule="concurrency")
        else:  # held back; the version check happens at the flush
            preloaded.writes.update(code, part, dict(state=dest, version=version, updated_at=now, **changes))
        pid = part.id
        if preloaded is not None:  # keep the batch's copy current
            part.__dict__.update(state=dest, version=version, updated_at=now, **changes)
            if req.event == "enroll":  # the new cycle has no evaluation yet
                preloaded.months[pid] = set()
    details = {k: (str(v) if v is not None and not isinstance(v, (bool, int)) else v)
               for k, v in changes.items() if not (req.event == "enroll" and k in _NOT_AUDITED)}
    new_grade = None if part is None else _grade_change(req, camp, ent, part, changes)
    if new_grade is not None:
        details.update(grade_from=ent.grade, grade_to=new_grade[0])
    if cycle > 1:
        details["cycle"] = cycle
    if late:
        details["late"] = True
    if req.override_window:
        details["override_window"] = True
    if req.effective is not None:  # entered afterwards: the paper decision's day, and why
        details.update(effective=today.isoformat(), effective_reason=req.reason)
    if req.event == "disqualify":  # the accountability record: who acted on it in this campaign
        from workflow.services.accountability import actors_of

        payload["accountable"] = [a["actor"] for a in actors_of(session, code, camp.year)]
    seq, digest = ledger.append(Entry(code, camp.year, ent.city, req.event, state, dest, actor.name,
                                      role, req.reason, {**payload, **details}), effective=at)
    if new_grade is not None:  # the enterprise's grade moves with the event, in the same transaction
        grade, doc = new_grade[0], new_grade[1] if new_grade[1] is not None else _decision_doc(camp, req.event, seq)
        conn.execute(_UPDATE_GRADE, {"b_id": ent.id, "grade": grade, "rating_doc": doc})
        if preloaded is not None:
            ent.grade, ent.rating_doc = grade, doc
    if req.event == "record_evaluation":
        if preloaded is None:
            conn.execute(_INSERT_EV, {"participation_id": pid, "cycle": cycle, "month": payload["month"],
                                      "recorded_at": now, "audit_seq": seq})
        else:
            preloaded.writes.insert_evaluation((pid, cycle, payload["month"], now, seq))
            preloaded.months.setdefault(pid, set()).add(payload["month"])
    return {"code": code, "event": req.event, "from_state": state, "to_state": dest,
            "seq": seq, "hash": digest, "late": late, "version": version}


def advance(ctx: Context, req: Request, *, system: bool = False) -> dict[str, Any]:
    """One event in its own transaction; refusals are recorded and re-raised."""
    actor_name = SYSTEM.name if system else ctx.actor
    try:
        with UnitOfWork(ctx.engine) as uow:
            actor = SYSTEM if system else lookup(uow.session, ctx.actor)
            camp = current(uow.session, ctx)
            try:
                result = apply(uow.session, Ledger(uow.session, ctx), ctx, camp, actor, req)
            except IntegrityError:
                raise ConcurrentChange(f"企业 {req.code} 已被他人同时更改，请刷新后重试",
                                       rule="concurrency") from None
            announcements.emit(uow.session, ctx, camp, [result])  # the notices it calls for, same transaction
            uow.commit()
            return result
    except CampaignError as exc:
        record_refusal(ctx, actor=actor_name, code=req.code, event=req.event, reason=str(exc),
                       rule=getattr(exc, "rule", ""))
        raise


_HOLD = 2_000  # audit rows a batch writes per executemany


@dataclass
class BatchOutcome:
    line: int
    code: str
    event: str
    ok: bool
    message: str


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


def advance_batch(ctx: Context, reqs: list[tuple[int, Request]]) -> tuple[bool, list[BatchOutcome]]:
    """All rows in one transaction, in order: every row is reported; any refusal undoes all."""
    outcomes: list[BatchOutcome] = []
    try:
        with UnitOfWork(ctx.engine) as uow:
            actor = lookup(uow.session, ctx.actor)
            camp = current(uow.session, ctx)
            ledger = Ledger(uow.session, ctx, hold=_HOLD)
            preloaded = Preloaded(uow.session, camp.id, [r.code.strip().upper() for _, r in reqs],
                                  actor=actor.name, hold=_HOLD)
            last: dict[str, tuple[int, str]] = {}  # code -> (line, event) of its last row applied
            done: list[dict[str, Any]] = []  # the applied events, for the notices they call for
            for line, req in reqs:
                try:
                    r = apply(uow.session, ledger, ctx, camp, actor, req, preloaded=preloaded)
                    done.append(r)
                    outcomes.append(BatchOutcome(line, r["code"], req.event, True,
                                                 f"{r['from_state']} → {r['to_state']}"))
                    last[r["code"]] = (line, req.event)
                except FlushFailed as exc:  # the held-back writes failed: the batch cannot go on
                    _flush_outcome(outcomes, exc, last, (line, req.code, req.event))
                    break
                except CampaignError as exc:
                    outcomes.append(BatchOutcome(line, req.code, req.event, False, str(exc)))
            ok = all(o.ok for o in outcomes)
            if ok:
                ledger.flush()
                try:
                    preloaded.writes.flush()
                except FlushFailed as exc:
                    line, req = reqs[-1]
                    _flush_outcome(outcomes, exc, last, (line, req.code, req.event))
                    ok = False
            if ok:
                announcements.emit(uow.session, ctx, camp, done)  # one call per command: one notice per kind
                uow.commit()
    except CampaignError as exc:  # e.g. an unknown actor: recorded like a single advance
        record_refusal(ctx, actor=ctx.actor, code=None, event="batch", reason=str(exc),
                       rule=getattr(exc, "rule", ""))
        raise
    if not ok:
        first = next(o for o in outcomes if not o.ok)
        record_refusal(ctx, actor=ctx.actor, code=first.code, event="batch",
                       reason=f"第 {first.line} 行：{first.message}")
    return ok, outcomes
