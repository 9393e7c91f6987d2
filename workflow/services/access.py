"""Access-control services: assign experts (one, or many all or nothing), declare conflicts of
interest, deactivate actors."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlmodel import Session

from models.access import Assignment, Conflict
from models.tables import Actor, City, Enterprise, table
from workflow.clock import utc_iso
from workflow.context import Context
from workflow.domain import creditcode
from workflow.errors import CampaignError, InvalidInput, NotFound, Refused
from workflow.services import logins, permissions
from workflow.services.actors import ActorRecord, find, lookup, serialise_actor_changes, typed_name
from workflow.services.lifecycle import BatchOutcome, record_batch_refusal
from workflow.store.bulk import insert_rows
from workflow.store.ledger import Entry, Ledger, audited, refusals_recorded

_E, _C, _A = table(Enterprise).c, table(City).c, table(Actor).c
_AS, _CO = table(Assignment).c, table(Conflict).c


def enterprise(s: Session, code: str) -> tuple[int, str, str]:
    """(id, code, city) of a registered enterprise."""
    code = creditcode.validate(code)
    row = s.execute(select(_E.id, _E.code, _C.name).join(table(City), _C.id == _E.city_id)
                    .where(_E.code == code)).one_or_none()
    if row is None:
        raise NotFound(code=code)
    return int(row[0]), str(row[1]), str(row[2])


def actor_row(s: Session, name: str) -> tuple[int, ActorRecord]:
    """(id, record) of the actor acted upon (active or not)."""
    found = find(s, name.strip())
    if found is None:
        raise NotFound(actor=name)
    return found


def _not_expert(who: ActorRecord) -> InvalidInput:
    return InvalidInput(f"{who.name} 不是在用的专家 (expert) 操作人")


def _already(who: ActorRecord, code: str) -> InvalidInput:
    return InvalidInput(f"{who.name} 已被指派到企业 {code} (already assigned)")


def _not_assigned(who: ActorRecord, code: str) -> InvalidInput:
    return InvalidInput(f"{who.name} 并未被指派到企业 {code}")


def _conflicted(who: ActorRecord, code: str) -> Refused:
    return Refused(f"利益冲突回避：{who.name} 已申报与企业 {code} 存在利益冲突，不能指派", rule="利益冲突回避")


def assign(ctx: Context, code: str, expert: str, *, remove: bool = False) -> dict[str, Any]:
    """Assign an expert to an enterprise (or end the assignment), by its city's coordinator or a
    province_admin. An expert with a declared conflict on the enterprise cannot be assigned."""
    event = "unassign_expert" if remove else "assign_expert"

    def work(s: Session) -> dict[str, Any]:
        actor = lookup(s, ctx.actor)
        eid, code_, city = enterprise(s, code)
        role = permissions.authorize(s, actor, "assign_expert", city=city, code=code_)
        aid, who = actor_row(s, expert)
        if "expert" not in who.roles or not who.active:
            raise _not_expert(who)
        current = s.execute(select(_AS.id, _AS.removed_at).where(
            _AS.enterprise_id == eid, _AS.actor_id == aid)).one_or_none()
        now = utc_iso(ctx.now())
        if remove:
            if current is None or current[1] is not None:
                raise _not_assigned(who, code_)
        else:
            if current is not None and current[1] is None:
                raise _already(who, code_)
            if s.execute(select(_CO.id).where(_CO.actor_id == aid, _CO.enterprise_id == eid)).first():
                raise _conflicted(who, code_)
        seq, _ = Ledger(s, ctx).append(Entry(code=code_, city=city, event=event, actor=actor.name, role=role,
                                             payload={"expert": who.name}))
        conn = s.connection()
        if remove and current is not None:
            conn.execute(update(table(Assignment)).where(_AS.id == current[0]).values(removed_at=now))
        elif current is not None:
            conn.execute(update(table(Assignment)).where(_AS.id == current[0]).values(
                removed_at=None, assigned_by=actor.name, assigned_at=now, audit_seq=seq))
        else:
            conn.execute(insert(table(Assignment)).values(enterprise_id=eid, actor_id=aid, assigned_by=actor.name,
                                                         assigned_at=now, audit_seq=seq))
        return {"code": code_, "city": city, "expert": who.name, "assigned": not remove, "seq": seq}

    return audited(ctx, event, code, work)


@dataclass(frozen=True)
class AssignRow:
    """One row of `assign_many`: assign `expert` to the enterprise `code`, or end it (`remove`)."""

    code: str
    expert: str
    remove: bool = False


_HOLD = 2_000  # audit rows held back per executemany
_COLUMNS = ("enterprise_id", "actor_id", "assigned_by", "assigned_at", "removed_at", "audit_seq")


class _Facts:
    """What the rows' checks read, in a few IN (...) queries up front: the enterprises, the experts,
    their assignments and declared conflicts on those enterprises, and the acting actor's own
    conflicts (`permissions.Known`). Read after the chain's lock (see `assign_many`), so they hold."""

    def __init__(self, s: Session, actor: ActorRecord, rows: list[tuple[int, AssignRow]], chunk: int = 500) -> None:
        codes = sorted({c for _, r in rows if (c := _valid(r.code))})
        names = sorted({typed_name(r.expert) for _, r in rows})
        self.known = permissions.Known(s, actor.name, codes, chunk)
        self.ents: dict[str, tuple[int, str]] = {}
        self.experts: dict[str, tuple[int, ActorRecord]] = {}
        self.pairs: dict[tuple[int, int], tuple[int | None, bool]] = {}  # (eid, aid) -> (row id, active)
        self.conflicts: set[tuple[int, int]] = set()  # (eid, aid)
        for i in range(0, len(codes), chunk):
            q = (select(_E.code, _E.id, _C.name).join(table(City), _C.id == _E.city_id)
                 .where(_E.code.in_(codes[i:i + chunk])))
            self.ents.update((c, (int(e), str(n))) for c, e, n in s.execute(q))
        for i in range(0, len(names), chunk):
            q = (select(_A.id, _A.name, _A.roles, _C.name, _A.active).join_from(
                table(Actor), table(City), _A.city_id == _C.id, isouter=True).where(_A.name.in_(names[i:i + chunk])))
            for aid, name, roles, city, active in s.execute(q):
                self.experts[name] = (int(aid), ActorRecord(name, tuple(roles.split(",")), city, bool(active)))
        eids = sorted(e for e, _ in self.ents.values())
        for i in range(0, len(eids), chunk):
            part = eids[i:i + chunk]
            for eid, aid, rid, removed in s.execute(select(_AS.enterprise_id, _AS.actor_id, _AS.id, _AS.removed_at)
                                                    .where(_AS.enterprise_id.in_(part))):
                self.pairs[(eid, aid)] = (int(rid), removed is None)
            self.conflicts.update((int(e), int(a)) for e, a in s.execute(
                select(_CO.enterprise_id, _CO.actor_id).where(_CO.enterprise_id.in_(part))))


def _valid(code: str) -> str | None:
    try:
        return creditcode.validate(code)
    except InvalidInput:
        return None


class _Writes:
    """The assignment rows a batch writes, merged per (enterprise, expert) and written at the end."""

    def __init__(self) -> None:
        self.new: dict[tuple[int, int], dict[str, Any]] = {}  # pair -> the row to insert
        self.changed: dict[int, dict[str, Any]] = {}  # row id -> SET

    def assign(self, pair: tuple[int, int], rid: int | None, by: str, at: str, seq: int) -> None:
        values = {"assigned_by": by, "assigned_at": at, "removed_at": None, "audit_seq": seq}
        if rid is None:
            self.new[pair] = {"enterprise_id": pair[0], "actor_id": pair[1], **values}
        else:
            self.changed.setdefault(rid, {}).update(values)

    def remove(self, pair: tuple[int, int], rid: int | None, at: str) -> None:
        (self.new[pair] if rid is None else self.changed.setdefault(rid, {}))["removed_at"] = at

    def write(self, s: Session) -> None:
        conn = s.connection()
        if self.new:
            insert_rows(conn, table(Assignment), _COLUMNS, [tuple(r[c] for c in _COLUMNS) for r in self.new.values()])
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}  # executemany: one SET per group
        for rid, values in self.changed.items():
            groups.setdefault(tuple(sorted(values)), []).append({"b_id": rid, **values})
        for keys, params in groups.items():
            conn.execute(update(table(Assignment)).where(_AS.id == bindparam("b_id"))
                         .values({k: bindparam(k) for k in keys}), params)


def assign_many(ctx: Context, rows: Iterable[tuple[int, AssignRow]]) -> tuple[bool, list[BatchOutcome]]:
    """Many assignments (and removals) in one transaction, in order, all or nothing, as
    `advance_batch` does: every row gets `assign`'s checks (permission and city, an active expert,
    conflicts of interest, already assigned or not) and its own chained audit entry, and is reported
    (line, code, event, ok, message); one refused row writes nothing. An unknown actor raises."""
    rows = list(rows)
    outcomes: list[BatchOutcome] = []
    with refusals_recorded(ctx, "assign_batch", None), ctx.uow(ctx.engine) as uow:
        s = uow.session
        actor = lookup(s, ctx.actor)
        ledger = Ledger(s, ctx, hold=_HOLD)
        ledger.head()  # the chain's lock first (PostgreSQL): every assignment change takes it
        facts, writes, now = _Facts(s, actor, rows), _Writes(), utc_iso(ctx.now())
        for line, row in rows:
            event = "unassign_expert" if row.remove else "assign_expert"
            try:
                code, message = _one(s, ledger, facts, writes, actor, row, now)
            except CampaignError as exc:
                outcomes.append(BatchOutcome(line, row.code, event, False, str(exc)))
                continue
            outcomes.append(BatchOutcome(line, code, event, True, message))
        ok = all(o.ok for o in outcomes)
        if ok:
            ledger.flush()
            writes.write(s)
            uow.commit()
    if not ok:
        record_batch_refusal(ctx, "assign_batch", outcomes)
    return ok, outcomes


def _one(s: Session, ledger: Ledger, facts: _Facts, writes: _Writes, actor: ActorRecord,
         row: AssignRow, now: str) -> tuple[str, str]:
    """One row of `assign_many`: `assign`'s checks in `assign`'s order, on the facts read up front."""
    code = creditcode.validate(row.code)
    if code not in facts.ents:
        raise NotFound(code=code)
    eid, city = facts.ents[code]
    role = permissions.authorize(s, actor, "assign_expert", city=city, code=code, known=facts.known)
    if (found := facts.experts.get(typed_name(row.expert))) is None:
        raise NotFound(actor=row.expert)
    aid, who = found
    if "expert" not in who.roles or not who.active:
        raise _not_expert(who)
    pair = (eid, aid)
    rid, active = facts.pairs.get(pair, (None, False))
    if row.remove and not active:
        raise _not_assigned(who, code)
    if not row.remove:
        if active:
            raise _already(who, code)
        if pair in facts.conflicts:
            raise _conflicted(who, code)
    event = "unassign_expert" if row.remove else "assign_expert"
    seq, _ = ledger.append(Entry(code=code, city=city, event=event, actor=actor.name, role=role,
                                 payload={"expert": who.name}))
    if row.remove:
        writes.remove(pair, rid, now)
    else:
        writes.assign(pair, rid, actor.name, now, seq)
    facts.pairs[pair] = (rid, not row.remove)  # what the batch's later rows see
    return code, f"{'已解除指派' if row.remove else '已指派'}专家 {who.name}"


def declare_conflict(ctx: Context, name: str, code: str, reason: str) -> dict[str, Any]:
    """An actor's declared conflict of interest (利益冲突), by the actor concerned or a province_admin."""

    def work(s: Session) -> dict[str, Any]:
        actor = lookup(s, ctx.actor)
        aid, who = actor_row(s, name)
        role = permissions.authorize(s, actor, "declare_conflict", city=None, code=None, subject=who.name)
        if not reason.strip():
            raise InvalidInput("申报利益冲突须用 --reason 说明情况")
        eid, code_, city = enterprise(s, code)
        if s.execute(select(_CO.id).where(_CO.actor_id == aid, _CO.enterprise_id == eid)).first():
            raise InvalidInput(f"{who.name} 与企业 {code_} 的利益冲突已申报 (already declared)")
        seq, _ = Ledger(s, ctx).append(Entry(code=code_, city=city, event="declare_conflict", actor=actor.name,
                                             role=role, reason=reason.strip(), payload={"actor": who.name}))
        s.connection().execute(insert(table(Conflict)).values(
            actor_id=aid, enterprise_id=eid, reason=reason.strip(), declared_by=actor.name,
            declared_at=utc_iso(ctx.now()), audit_seq=seq))
        return {"actor": who.name, "code": code_, "city": city, "reason": reason.strip(), "seq": seq}

    return audited(ctx, "declare_conflict", code, work)


def deactivate(ctx: Context, name: str) -> dict[str, Any]:
    """Deactivate an actor (province_admin only); their history stays attributed to them. Actor
    changes are serialised, so two admins deactivating each other at once leave one."""

    def work(s: Session) -> dict[str, Any]:
        serialise_actor_changes(s)
        actor = lookup(s, ctx.actor)
        role = permissions.authorize(s, actor, "actor_deactivate", city=None, code=None)
        aid, who = actor_row(s, name)
        if not who.active:
            raise InvalidInput(f"操作人 {who.name} 已停用")
        if "province_admin" in who.roles:
            admins = s.execute(select(func.count()).select_from(table(Actor)).where(
                _A.active.is_(True), _A.roles.contains("province_admin"))).scalar_one()
            if admins <= 1:
                raise Refused("权限：不能停用最后一名在用的省级管理员 (last province_admin)", rule="权限")
        # the entry first: an admin may deactivate themselves, and the database checks that the
        # entry's actor is active when it is written
        seq, _ = Ledger(s, ctx).append(Entry(city=who.city, event="actor_deactivate", actor=actor.name, role=role,
                                             payload={"name": who.name, "roles": list(who.roles)}))
        s.connection().execute(update(table(Actor)).where(_A.id == aid).values(active=False))
        logins.end_sessions(s, aid, utc_iso(ctx.wall.now()))  # signed out of the web workspace at once
        return {"name": who.name, "active": False, "seq": seq}

    return audited(ctx, "actor_deactivate", None, work)
