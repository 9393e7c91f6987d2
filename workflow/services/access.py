"""Access-control services: assign experts, declare conflicts of interest, deactivate actors."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select, update
from sqlmodel import Session

from models.access import Assignment, Conflict
from models.tables import Actor, City, Enterprise, table
from workflow.clock import utc_iso
from workflow.context import Context
from workflow.domain import creditcode
from workflow.errors import InvalidInput, NotFound, Refused
from workflow.services import logins, permissions
from workflow.services.actors import ActorRecord, find, lookup, serialise_actor_changes
from workflow.store.ledger import Entry, Ledger, audited

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
            raise InvalidInput(f"{who.name} 不是在用的专家 (expert) 操作人")
        current = s.execute(select(_AS.id, _AS.removed_at).where(
            _AS.enterprise_id == eid, _AS.actor_id == aid)).one_or_none()
        now = utc_iso(ctx.now())
        if remove:
            if current is None or current[1] is not None:
                raise InvalidInput(f"{who.name} 并未被指派到企业 {code_}")
        else:
            if current is not None and current[1] is None:
                raise InvalidInput(f"{who.name} 已被指派到企业 {code_} (already assigned)")
            if s.execute(select(_CO.id).where(_CO.actor_id == aid, _CO.enterprise_id == eid)).first():
                raise Refused(f"利益冲突回避：{who.name} 已申报与企业 {code_} 存在利益冲突，不能指派",
                              rule="利益冲突回避")
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
