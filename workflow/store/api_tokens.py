"""The table behind API tokens (`api_token`): rows keyed by the SHA-256 of the token, with their
person. SQL only; the rules (who may, expiry, what is shown) are `workflow.services.tokens`'s."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Connection, insert, select, update

from models.tables import Actor, City, table
from models.workspace import ApiToken

T, A, C = table(ApiToken).c, table(Actor).c, table(City).c

_ROWS = (select(T.id, T.actor_id, A.name, A.roles, C.name.label("city"), A.active, T.label, T.created_at,
                T.created_by, T.expires_at, T.revoked_at, T.last_used_at)
         .select_from(table(ApiToken).join(table(Actor), A.id == T.actor_id)
                      .outerjoin(table(City), C.id == A.city_id)))


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def insert_token(conn: Connection, *, actor_id: int, token_hash: str, label: str, created_at: str,
                 created_by: str, expires_at: str) -> int:
    key = conn.execute(insert(table(ApiToken)).values(
        actor_id=actor_id, token_hash=token_hash, label=label, created_at=created_at, created_by=created_by,
        expires_at=expires_at, revoked_at=None, last_used_at=None)).inserted_primary_key
    return int(key[0]) if key else 0


def by_hash(conn: Connection, token_hash: str) -> Any:
    """The token with its person (None when unknown)."""
    return conn.execute(_ROWS.where(T.token_hash == token_hash)).mappings().one_or_none()


def by_id(conn: Connection, token_id: int) -> Any:
    return conn.execute(_ROWS.where(T.id == token_id)).mappings().one_or_none()


def rows(conn: Connection, actor_id: int | None) -> list[Any]:
    """Tokens (of one actor, or all), oldest first."""
    q = _ROWS.order_by(T.id)
    if actor_id is not None:
        q = q.where(T.actor_id == actor_id)
    return list(conn.execute(q).mappings().all())


def revoke(conn: Connection, token_id: int, at: str) -> int:
    """Mark a live token revoked; how many rows changed (0: already revoked)."""
    return conn.execute(update(table(ApiToken)).where(T.id == token_id, T.revoked_at.is_(None))
                        .values(revoked_at=at)).rowcount or 0


def touch(conn: Connection, token_id: int, at: str) -> None:
    conn.execute(update(table(ApiToken)).where(T.id == token_id).values(last_used_at=at))
