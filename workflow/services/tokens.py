"""API tokens: how other systems (the province's platforms, scripts) authenticate to the JSON API.

A token belongs to one actor and acts as them, with their roles and scope. `campaign actor token NAME`
creates one: the province admin for anyone, or the person for themself (matrix action `api_token`).
The token (`cmp_` and 32 random bytes, URL-safe) is shown once; only its SHA-256 is stored in
`api_token`, with an expiry (90 days by default, real time, `ctx.wall`). It stops working when it
expires, is revoked, or its actor is deactivated. Creating and revoking are audited
(`api_token_create`, `api_token_revoke`; the payload names the person and the token's id, never
the token or its hash); refusals are recorded like every write's.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from models.db import UnitOfWork
from workflow.clock import SHANGHAI, parse_stored, utc_iso
from workflow.context import Context
from workflow.errors import InvalidInput, NotFound, Refused
from workflow.services import permissions
from workflow.services.actors import find, lookup
from workflow.store import api_tokens as store
from workflow.store.ledger import Entry, Ledger, audited

PREFIX = "cmp_"  # recognisable in logs and by secret scanners
ACTION = "api_token"  # the matrix's action: the person themself, or the province admin
DEFAULT_DAYS, MAX_DAYS = 90, 366
LABEL_MAX = 100
TOKEN_MAX = 200  # longer is not one of ours: refused before any hashing or query
TOUCH_EVERY = timedelta(seconds=60)  # last_used_at is written at most this often


@dataclass(frozen=True)
class Created:
    token: str  # shown once; only its SHA-256 is stored
    id: int
    expires_at: str  # Asia/Shanghai ISO text
    name: str
    label: str
    seq: int  # the audit entry


@dataclass(frozen=True)
class Revoked:
    id: int
    name: str
    label: str
    seq: int


@dataclass(frozen=True)
class TokenRow:
    id: int
    name: str
    label: str
    created_at: str  # Asia/Shanghai ISO text
    created_by: str
    expires_at: str
    revoked_at: str | None
    last_used_at: str | None
    status: str  # "active", "expired" or "revoked"


@dataclass(frozen=True)
class Bearer:
    """The person behind a valid token, read fresh on every request (as `logins.Who`)."""

    token_id: int
    actor_id: int
    name: str
    roles: tuple[str, ...]
    city: str | None  # None for province roles and experts


STATUS_ZH = {"active": "有效", "expired": "已过期", "revoked": "已吊销"}


def _local(stored: str | None) -> str | None:
    return None if stored is None else parse_stored(stored).astimezone(SHANGHAI).isoformat(timespec="seconds")


def _days(days: int) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 0 < days <= MAX_DAYS:
        raise InvalidInput(f"令牌有效期应为 1–{MAX_DAYS} 天的整数，当前为 '{days}' (days out of range)")
    return days


def _label(label: str) -> str:
    text = " ".join((label or "").split())
    if len(text) > LABEL_MAX:
        raise InvalidInput(f"令牌备注不能超过 {LABEL_MAX} 个字符 (label too long)")
    return text


def create(ctx: Context, name: str, *, days: int = DEFAULT_DAYS, label: str = "") -> Created:
    """ctx.actor creates an API token for NAME (the province admin for anyone, or NAME themself),
    valid for `days` days of real time. The token is in the result only; the table keeps its SHA-256."""

    def work(s: Session) -> Created:
        actor = lookup(s, ctx.actor)
        found = find(s, name)
        if found is None:
            raise NotFound(actor=name.strip())
        aid, who = found
        role = permissions.authorize(s, actor, ACTION, city=None, code=None, subject=who.name)
        valid_for, note = _days(days), _label(label)
        if not who.active:
            raise InvalidInput(f"操作人 {who.name} 已停用，不能为其创建 API 令牌 (actor deactivated)")
        now = ctx.wall.now()
        expires = utc_iso(now + timedelta(days=valid_for))
        token = PREFIX + secrets.token_urlsafe(32)
        conn = s.connection()
        tid = store.insert_token(conn, actor_id=aid, token_hash=store.digest(token), label=note,
                                 created_at=utc_iso(now), created_by=actor.name, expires_at=expires)
        seq, _ = Ledger(s, ctx).append(Entry(city=who.city, event="api_token_create", actor=actor.name, role=role,
                                             payload={"name": who.name, "token_id": tid, "label": note,
                                                      "expires_at": expires}))
        return Created(token=token, id=tid, expires_at=_local(expires) or "", name=who.name, label=note, seq=seq)

    return audited(ctx, "api_token_create", None, work)


def _token_id(token_id: int) -> int:
    if isinstance(token_id, bool) or not isinstance(token_id, int) or not 0 < token_id <= 2**63 - 1:
        raise NotFound(f"API 令牌 #{token_id} 不存在 (no such token)", key=token_id)
    return token_id


def revoke(ctx: Context, token_id: int) -> Revoked:
    """Revoke a token (its person, or the province admin); it stops working at once. Audited as
    `api_token_revoke`; an unknown token is NotFound, an already revoked one refused."""

    def work(s: Session) -> Revoked:
        actor = lookup(s, ctx.actor)
        tid = _token_id(token_id)
        conn = s.connection()
        row = store.by_id(conn, tid)
        if row is None:
            raise NotFound(f"API 令牌 #{tid} 不存在 (no such token)", key=tid)
        role = permissions.authorize(s, actor, ACTION, city=None, code=None, subject=str(row["name"]))
        at = utc_iso(ctx.wall.now())
        if not store.revoke(conn, tid, at):
            raise Refused(f"API 令牌 #{tid} 已于 {_local(row['revoked_at'])} 吊销 (already revoked)", rule="已吊销")
        seq, _ = Ledger(s, ctx).append(Entry(city=row["city"], event="api_token_revoke", actor=actor.name,
                                             role=role, payload={"name": row["name"], "token_id": tid,
                                                                 "label": row["label"]}))
        return Revoked(id=tid, name=str(row["name"]), label=str(row["label"]), seq=seq)

    return audited(ctx, "api_token_revoke", None, work)


def _status(row: Mapping[str, Any], now: str) -> str:
    if row["revoked_at"] is not None:
        return "revoked"
    return "expired" if parse_stored(row["expires_at"]) <= parse_stored(now) else "active"


def listing(ctx: Context, name: str | None = None) -> list[TokenRow]:
    """The tokens of NAME (themself, or anyone's for the province admin); without NAME every token
    for the province admin, one's own for anyone else. Never the token or its hash."""
    now = utc_iso(ctx.wall.now())
    with UnitOfWork(ctx.engine) as uow:
        s = uow.session
        actor = lookup(s, ctx.actor)
        subject = name if name is not None else (None if "province_admin" in actor.roles else actor.name)
        actor_id = None
        if subject is not None:
            found = find(s, subject)
            if found is None:
                raise NotFound(actor=subject.strip())
            actor_id, who = found
            permissions.authorize(s, actor, ACTION, city=None, code=None, subject=who.name)
        else:
            permissions.authorize_role(actor, ACTION)
        rows = store.rows(s.connection(), actor_id)
    return [TokenRow(id=int(r["id"]), name=str(r["name"]), label=str(r["label"]),
                     created_at=_local(r["created_at"]) or "", created_by=str(r["created_by"]),
                     expires_at=_local(r["expires_at"]) or "", revoked_at=_local(r["revoked_at"]),
                     last_used_at=_local(r["last_used_at"]), status=_status(r, now)) for r in rows]


def authenticate(ctx: Context, token: str | None) -> Bearer | None:
    """The person behind an API token, read fresh; None when the token is missing, malformed, unknown,
    revoked, expired (real time) or its actor deactivated. Touches last_used_at (at most once a minute)."""
    if not token or len(token) > TOKEN_MAX or not token.startswith(PREFIX):
        return None
    now_dt = ctx.wall.now()
    now = utc_iso(now_dt)
    with ctx.uow(ctx.engine) as uow:
        conn = uow.session.connection()
        row = store.by_hash(conn, store.digest(token))
        if row is None or row["revoked_at"] is not None or not row["active"]:
            return None
        if parse_stored(row["expires_at"]) <= now_dt:
            return None
        last = row["last_used_at"]
        if last is None or now_dt - parse_stored(last) >= TOUCH_EVERY:
            store.touch(conn, int(row["id"]), now)
            uow.commit()
    city = row["city"]
    return Bearer(token_id=int(row["id"]), actor_id=int(row["actor_id"]), name=str(row["name"]),
                  roles=tuple(str(row["roles"]).split(",")), city=None if city is None else str(city))
