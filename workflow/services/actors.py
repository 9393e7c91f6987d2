"""Who acts: registered actors, and the system actor of the scheduler."""

from __future__ import annotations

import unicodedata
from typing import TypedDict

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlmodel import Session

from models.db import UnitOfWork
from models.tables import Actor, Campaign, City, table
from workflow.context import Context
from workflow.domain.identifiers import clean_identifier
from workflow.domain.matrix import ROLE_ZH, ROLES, SYSTEM, ActorRecord  # noqa: F401  (callers name them here)
from workflow.errors import InvalidInput, NotFound, Refused
from workflow.store.campaigns import CampaignRef, campaign, chosen
from workflow.store.ledger import Entry, Ledger, audited
from workflow.store.prepared import Prepared

_A, _C, _CA = table(Actor).c, table(City).c, table(Campaign).c



class ActorAdded(TypedDict):
    name: str
    roles: list[str]
    city: str | None
    bootstrap: bool


class ActorListed(TypedDict):
    name: str
    roles: list[str]
    city: str | None
    active: bool


_ACTORS_LOCK = 727_0012  # PostgreSQL advisory lock: one actor change (add, deactivate) at a time


def serialise_actor_changes(session: Session) -> None:
    """Make this transaction the only one changing actors until it ends, before it reads anything:
    the bootstrap check of the first `actor add` and the last-province-admin check of a deactivation
    then see every committed change. PostgreSQL takes a transaction-level advisory lock; on SQLite
    every write transaction starts with BEGIN IMMEDIATE, which already serialises writers."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ACTORS_LOCK})


def actor_name(text_: str) -> str:
    """A new actor's name in its one normal form (NFKC, stripped); zero-width and control characters
    and the scheduler's reserved name are refused."""
    name = clean_identifier(text_, "操作人名称")
    if name.casefold() == SYSTEM.name:
        raise InvalidInput(f"操作人名称 '{name}' 是系统（调度器）保留的名称，请换一个 (reserved name)")
    return name


def typed_name(name: str) -> str:
    """A name as typed (--actor, an argument) in the form names are stored in; not validated."""
    return unicodedata.normalize("NFKC", name).strip()


_FIND = (select(_A.id, _A.name, _A.roles, _C.name, _A.active)  # every command's first read: built once
         .join_from(table(Actor), table(City), _A.city_id == _C.id, isouter=True).where(_A.name == bindparam("name")))


def find(session: Session, name: str) -> tuple[int, ActorRecord] | None:
    """(id, record) of a registered actor, active or not; None if there is no such actor."""
    row = session.connection().execute(_FIND, {"name": typed_name(name)}).one_or_none()
    return None if row is None else (int(row[0]), ActorRecord(row[1], tuple(row[2].split(",")), row[3],
                                                              bool(row[4])))


# A write's first read: the acting actor and the loaded campaigns in one statement (a row per campaign).
_ACTING = Prepared(select(_CA.id, _CA.year, _CA.calendar, _A.name, _A.roles, _C.name.label("city"), _A.active)
           .select_from(table(Campaign))
           .outerjoin(table(Actor), _A.name == bindparam("name"))
           .outerjoin(table(City), _A.city_id == _C.id).order_by(_CA.year))


def acting(session: Session, ctx: Context) -> tuple[ActorRecord, CampaignRef]:
    """`lookup(ctx.actor)` and `campaigns.campaign(ctx)` in one round trip, with the same refusals."""
    rows = _ACTING.rows(session.connection(), {"name": typed_name(ctx.actor or "")}) if ctx.actor else []
    if not rows or rows[0].name is None:  # no campaign, or no such actor: say which, as the two would
        return lookup(session, ctx.actor), campaign(session, ctx)
    r = rows[0]
    return (_active(ctx.actor or "", ActorRecord(r.name, tuple(r.roles.split(",")), r.city, bool(r.active))),
            chosen(session, ctx, [(x.id, x.year, x.calendar) for x in rows]))


def lookup(session: Session, name: str | None) -> ActorRecord:
    """The acting actor; unknown or inactive actors are refused."""
    if not name:
        raise Refused("请用 --actor 或环境变量 CAMPAIGN_ACTOR 指明操作人 (actor required)",
                      rule="actor")
    found = find(session, name)
    if found is None:
        raise Refused(f"操作人 '{name}' 未登记，请先 campaign actor add (unknown actor)", rule="actor")
    return _active(name, found[1])


def _active(name: str, record: ActorRecord) -> ActorRecord:
    if not record.active:
        raise Refused(f"操作人 '{name}' 已停用 (actor deactivated)", rule="actor")
    return record


def count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(table(Actor))).scalar_one())


def validate_roles(roles: tuple[str, ...]) -> tuple[str, ...]:
    if not roles:
        raise InvalidInput(f"请用 --role 指定角色：{', '.join(ROLES)}")
    for r in roles:
        if r not in ROLES:
            raise InvalidInput(f"未知角色 '{r}'，可选：{', '.join(ROLES)} (unknown role)")
    return tuple(dict.fromkeys(roles))


def city_id(session: Session, name: str) -> tuple[int, str]:
    """Resolve a city name ('许昌' or '许昌市'); unknown names list the valid ones."""
    raw = name.strip()
    for candidate in (raw, raw + "市"):
        cid = session.execute(select(_C.id).where(_C.name == candidate)).scalar_one_or_none()
        if cid is not None:
            return int(cid), candidate
    names = session.execute(select(_C.name).order_by(_C.id)).scalars().all()
    if not names:
        raise NotFound("尚无城市数据，请先运行 campaign init")
    raise InvalidInput(f"未知城市 '{name}'，可选：{'、'.join(names)} (unknown city)")


def add(ctx: Context, name: str, roles: tuple[str, ...], city: str | None) -> ActorAdded:
    """Register an actor. The first actor needs no one to act (bootstrap); refusals are recorded."""
    from workflow.services.permissions import authorize_actor_admin  # permissions imports this module

    def work(s: Session) -> ActorAdded:
        roles_ = validate_roles(roles)
        name_ = actor_name(name)
        serialise_actor_changes(s)
        bootstrap = count(s) == 0
        if bootstrap and ctx.actor and typed_name(ctx.actor) != name_:
            raise Refused(f"尚无任何操作人：第一个操作人由其本人登记，请去掉 --actor/CAMPAIGN_ACTOR 或设为 {name_} "
                          f"(the first actor is added as itself; '{ctx.actor}' is not registered)", rule="actor")
        acting = ActorRecord(name_, roles_, None) if bootstrap else lookup(s, ctx.actor)
        if not bootstrap:
            authorize_actor_admin(acting)
        cid, cname = (None, None) if not city else city_id(s, city)
        needs_city = {"city_coordinator", "city_reviewer"} & set(roles_)
        if needs_city and cid is None:
            raise InvalidInput(f"角色 {', '.join(sorted(needs_city))} 须用 --city 指定所属城市")
        if s.execute(select(_A.id).where(_A.name == name_)).first():
            raise InvalidInput(f"操作人 '{name_}' 已存在 (actor exists)")
        # written before its audit entry: on a provisioned PostgreSQL database the entry's actor and
        # role are checked against this table (the first actor's own entry included)
        s.connection().execute(insert(table(Actor)).values(name=name_, roles=",".join(roles_), city_id=cid,
                                                           active=True))
        added: ActorAdded = {"name": name_, "roles": list(roles_), "city": cname, "bootstrap": bootstrap}
        Ledger(s, ctx).append(Entry(city=cname, event="actor_add", actor=acting.name, role=acting.role,
                                    payload=added))
        return added

    return audited(ctx, "actor_add", None, work)


def listing(ctx: Context) -> list[ActorListed]:
    with UnitOfWork(ctx.engine) as uow:
        rows = uow.session.execute(
            select(_A.name, _A.roles, _C.name, _A.active)
            .join_from(table(Actor), table(City), _A.city_id == _C.id, isouter=True).order_by(_A.id)
        ).all()
    return [{"name": r[0], "roles": r[1].split(","), "city": r[2], "active": bool(r[3])}
            for r in rows]


class RolesSet(TypedDict):
    name: str
    roles: list[str]
    city: str | None
    was: dict[str, object]  # the roles and city before
    seq: int


def set_roles(ctx: Context, name: str, roles: tuple[str, ...], city: str | None) -> RolesSet:
    """Give an actor new roles and city (province_admin only; audited as `actor_roles`). City roles
    need a city; the last active province_admin keeps that role. The person's open sessions see the
    new roles at their next request (they are read fresh every time)."""
    from workflow.services.permissions import authorize_role  # permissions imports this module

    def work(s: Session) -> RolesSet:
        serialise_actor_changes(s)
        acting = lookup(s, ctx.actor)
        role = authorize_role(acting, "actor_roles")
        roles_ = validate_roles(roles)
        found = find(s, name)
        if found is None:
            raise NotFound(actor=typed_name(name))
        aid, who = found
        if not who.active:
            raise InvalidInput(f"操作人 {who.name} 已停用，不能更改角色 (actor deactivated)")
        cid, cname = (None, None) if not city else city_id(s, city)
        needs_city = {"city_coordinator", "city_reviewer"} & set(roles_)
        if needs_city and cid is None:
            raise InvalidInput(f"角色 {', '.join(sorted(needs_city))} 须指定所属城市")
        if tuple(who.roles) == roles_ and who.city == cname:
            raise InvalidInput(f"操作人 {who.name} 的角色和城市没有变化 (nothing to change)")
        if "province_admin" in who.roles and "province_admin" not in roles_:
            admins = s.execute(select(func.count()).select_from(table(Actor)).where(
                _A.active.is_(True), _A.roles.contains("province_admin"))).scalar_one()
            if admins <= 1:
                raise Refused("权限：不能去掉最后一名在用省级管理员的 province_admin 角色 (last province_admin)",
                              rule="权限")
        seq, _ = Ledger(s, ctx).append(Entry(city=cname or who.city, event="actor_roles", actor=acting.name,
                                             role=role, payload={"name": who.name, "roles": list(roles_),
                                                                 "city": cname, "was": {"roles": list(who.roles),
                                                                                        "city": who.city}}))
        s.connection().execute(update(table(Actor)).where(_A.id == aid).values(roles=",".join(roles_),
                                                                              city_id=cid))
        return {"name": who.name, "roles": list(roles_), "city": cname,
                "was": {"roles": list(who.roles), "city": who.city}, "seq": seq}

    return audited(ctx, "actor_roles", None, work)
