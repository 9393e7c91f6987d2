"""Which enterprises an actor may see, as one SQL condition (the web workspace's lists and pages).

The same scope the permission module enforces on every action (workflow.services.permissions):
city-level roles (`permissions.CITY_ROLES`) their own city, an expert the enterprises assigned to
them now, every other role (the province's) the whole province. An actor with several roles sees
the union. Acting is still judged by `permissions.authorize`, event by event."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import aliased

from models.access import Assignment, Conflict
from models.tables import City, Enterprise, table
from workflow.domain.matrix import CITY_ROLES, ActorRecord

EXPERT = "expert"
_E, _C, _AS, _CO = table(Enterprise).c, table(City).c, table(Assignment).c, table(Conflict).c


def province_wide(role: str) -> bool:
    return role not in CITY_ROLES and role != EXPERT


def assigned(actor_id: int, *, active: bool = True) -> ColumnElement[bool]:
    """The enterprise (`enterprise` in the enclosing query) is assigned to the expert (now, or ever)."""
    cond = and_(_AS.enterprise_id == _E.id, _AS.actor_id == actor_id)
    return exists(select(_AS.id).where(cond, _AS.removed_at.is_(None)) if active else select(_AS.id).where(cond))


def conflicted(actor_id: int) -> ColumnElement[bool]:
    """The actor declared a conflict of interest with the enterprise: they may not act on it."""
    return exists(select(_CO.id).where(_CO.enterprise_id == _E.id, _CO.actor_id == actor_id))


def in_role(actor: ActorRecord, actor_id: int, role: str, key: Any = _E.id) -> ColumnElement[bool]:
    """The enterprises `actor` sees in one of their roles, as a condition on `key` (an enterprise id
    column: `enterprise.id`, or `participation.enterprise_id` so that a list is read from the city's
    or the expert's few enterprises, not from the whole province)."""
    if role in CITY_ROLES:
        if actor.city is None:
            return false()
        ids = aliased(table(Enterprise))
        return key.in_(select(ids.c.id).where(ids.c.city_id == select(_C.id).where(_C.name == actor.city)
                                              .scalar_subquery()))
    if role == EXPERT:
        return key.in_(select(_AS.enterprise_id).where(_AS.actor_id == actor_id, _AS.removed_at.is_(None)))
    return true()


def visible(actor: ActorRecord, actor_id: int) -> ColumnElement[bool]:
    """The enterprises `actor` sees in any of their roles."""
    if any(province_wide(r) for r in actor.roles):
        return true()
    conds: list[Any] = [in_role(actor, actor_id, r) for r in actor.roles]
    return or_(*conds) if conds else false()
