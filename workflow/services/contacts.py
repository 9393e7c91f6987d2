"""Who receives a city's notices: `campaign contact add | list` (validated, audited)."""

from __future__ import annotations

import re
from hashlib import sha256
from typing import TypedDict
from urllib.parse import urlsplit

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from models.db import UnitOfWork
from models.notices import Contact
from models.tables import table
from notifications import mask_url
from workflow.clock import utc_iso
from workflow.context import Context
from workflow.errors import InvalidInput, NotFound
from workflow.services import permissions
from workflow.services.actors import city_id, lookup
from workflow.store.ledger import Entry, Ledger, audited

_CT = table(Contact)
PROVINCE = ("省级", "省", "河南省", "province")
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


class ContactShown(TypedDict):
    """A contact as shown and audited (the webhook masked)."""

    id: int
    city: str | None  # None: the province
    name: str
    email: str | None
    webhook: str | None
    active: bool


def validate_email(value: str) -> str:
    value = value.strip()
    if len(value) > 254 or not _EMAIL.match(value):
        raise InvalidInput(f"电子邮件地址 '{value}' 格式不正确 (invalid e-mail address)")
    return value


def validate_webhook(value: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise InvalidInput(f"Webhook 地址 '{mask_url(value)}' 应为 http(s):// 开头的完整网址 (invalid URL)")
    return value


def add(ctx: Context, *, city: str, email: str | None = None, webhook: str | None = None,
        name: str = "") -> ContactShown:
    """Add a contact for a city ('省级' for the province); audited in the same transaction. An address
    already active for that unit is refused (the database's unique indexes settle a race); every
    refusal is recorded."""

    def work(s: Session) -> ContactShown:
        if not email and not webhook:
            raise InvalidInput("请至少提供 --email 或 --webhook (an address is required)")
        mail = validate_email(email) if email else None
        hook = validate_webhook(webhook) if webhook else None
        actor = lookup(s, ctx.actor)
        cname = unit(s, city)
        role = permissions.authorize(s, actor, "contact_add", city=cname, code=None)
        if _exists(s, cname, mail, hook):
            raise _duplicate(cname)
        created = utc_iso(ctx.wall.now())
        try:
            result = s.connection().execute(insert(_CT).values(
                city=cname, name=name.strip(), email=mail, webhook=hook, active=True, created_at=created))
        except IntegrityError as exc:  # the same address added at the same moment by someone else
            if "uq_contact_" not in str(exc.orig):
                raise
            raise _duplicate(cname) from None
        cid = int(result.inserted_primary_key[0])  # type: ignore[index]
        shown = _shown(cid, cname, name.strip(), mail, hook)
        Ledger(s, ctx).append(Entry(city=cname, event="contact_add", actor=actor.name, role=role,
                                    payload={**{k: v for k, v in shown.items() if k != "active"},
                                             **({"webhook_sha256": sha256(hook.encode()).hexdigest()}
                                                if hook else {})}))
        return shown

    return audited(ctx, "contact_add", None, work)


def remove(ctx: Context, contact_id: int) -> ContactShown:
    """Stop sending to a contact (kept, marked inactive; audited)."""

    def work(s: Session) -> ContactShown:
        actor = lookup(s, ctx.actor)
        row = s.execute(select(_CT.c.city, _CT.c.name, _CT.c.email, _CT.c.webhook, _CT.c.active)
                        .where(_CT.c.id == contact_id)).one_or_none()
        if row is None:
            raise NotFound(f"联系人 {contact_id} 不存在 (no such contact)", key=contact_id)
        role = permissions.authorize(s, actor, "contact_remove", city=row[0], code=None)
        if not row[4]:
            raise InvalidInput(f"联系人 {contact_id} 已停用 (already removed)")
        s.execute(update(_CT).where(_CT.c.id == contact_id).values(active=False))
        shown = _shown(contact_id, row[0], row[1], row[2], row[3], False)
        Ledger(s, ctx).append(Entry(city=row[0], event="contact_remove", actor=actor.name, role=role,
                                    payload={k: v for k, v in shown.items() if k != "active"}))
        return shown

    return audited(ctx, "contact_remove", None, work)


def _duplicate(city: str | None) -> InvalidInput:
    return InvalidInput(f"{city or '省级'}已有相同的在用联系人地址，未重复登记 (contact exists)")


def _exists(s: Session, city: str | None, email: str | None, webhook: str | None) -> bool:
    """An active contact of the unit already has one of these addresses."""
    same_city = _CT.c.city.is_(None) if city is None else _CT.c.city == city
    for column, value in ((_CT.c.email, email), (_CT.c.webhook, webhook)):
        if value and s.execute(select(_CT.c.id).where(same_city, _CT.c.active.is_(True), column == value)).first():
            return True
    return False


def _shown(cid: int, city: str | None, name: str, email: str | None, webhook: str | None,
           active: bool = True) -> ContactShown:
    """A contact as shown and audited: the webhook's key or token is masked."""
    return {"id": cid, "city": city, "name": name, "email": email,
            "webhook": mask_url(webhook) if webhook else None, "active": active}


def listing(ctx: Context, *, city: str | None = None, every: bool = False) -> list[ContactShown]:
    query = select(_CT.c.id, _CT.c.city, _CT.c.name, _CT.c.email, _CT.c.webhook, _CT.c.active).order_by(_CT.c.id)
    if not every:
        query = query.where(_CT.c.active.is_(True))
    with Session(ctx.engine) as s:
        if city is not None:
            cname = unit(s, city)
            query = query.where(_CT.c.city.is_(None) if cname is None else _CT.c.city == cname)
        return [_shown(int(r[0]), r[1], r[2], r[3], r[4], bool(r[5])) for r in s.execute(query)]


def unit(s: Session, city: str) -> str | None:
    """The receiving unit named on the command line: None for the province, else the city's name
    (resolved, or refused listing the known ones)."""
    return None if city.strip() in PROVINCE else city_id(s, city)[1]


def resolve_unit(ctx: Context, city: str) -> str | None:
    """`unit` in its own read: the city's name as stored (许昌 → 许昌市), or None for the province."""
    with UnitOfWork(ctx.engine) as uow:
        return unit(uow.session, city)
