"""The tables behind the login side of the workspace: the login log, lock-out counting, server-side
sessions (keyed by the SHA-256 of the cookie's token) and stored password hashes. SQL only; the rules
(who may, which outcome, what message) are `workflow.services.logins`'s."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update
from sqlmodel import Session

from models.auth import Credential, WebSession
from models.auth import LoginEvent as LoginEventRow
from models.tables import Actor, City, table
from workflow.clock import parse_stored, utc_iso
from workflow.domain import passwords

CR, WS, LE = table(Credential).c, table(WebSession).c, table(LoginEventRow).c
A = table(Actor).c
_C = table(City).c
NAME_MAX, CLIENT_MAX = 200, 100  # what a login form may put into the log


def typed(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip()[:NAME_MAX]


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def record(conn: Connection, at: str, name: str, client: str, outcome: str, detail: str = "") -> None:
    conn.execute(insert(table(LoginEventRow)).values(at=at, name=name[:NAME_MAX], client=client[:CLIENT_MAX],
                                                     outcome=outcome, detail=detail))


def locked(conn: Connection, name: str, client: str, now: datetime) -> datetime | None:
    """Until when (name, client) is locked, or None: its failures since its last success or unlock,
    within the time that can still make a lock (the log's order, not its times, says what came after)."""
    pair = and_(LE.name == name, LE.client == client)
    reset = conn.execute(select(func.max(LE.id)).where(pair, LE.outcome.in_(("success", "unlock")))).scalar()
    since = utc_iso(now - passwords.LOCK_WINDOW - passwords.LOCK_FOR)
    failures = conn.execute(select(LE.at).where(pair, LE.outcome == "failure", LE.at > since,
                                                 LE.id > (reset or 0)).order_by(LE.id)).scalars().all()
    until = passwords.locked_until([parse_stored(a) for a in failures])
    return until if until is not None and until > now else None


def end_all(conn: Connection, actor_id: int, at: str) -> int:
    return conn.execute(update(table(WebSession)).where(WS.actor_id == actor_id, WS.ended_at.is_(None))
                        .values(ended_at=at)).rowcount or 0


def end_sessions(session: Session, actor_id: int, at: str) -> int:
    """End every open session of the actor (deactivation, a new password), in the caller's transaction."""
    return end_all(session.connection(), actor_id, at)


PERSON = (select(A.id.label("actor_id"), A.name, A.roles, _C.name.label("city"), A.active,
                  CR.hash, CR.must_change, CR.set_at)
           .select_from(table(Actor).outerjoin(table(City), _C.id == A.city_id)
                        .outerjoin(table(Credential), CR.actor_id == A.id)))


def open_session(conn: Connection, person: Mapping[Any, Any], client: str, at: str) -> str:
    token = secrets.token_urlsafe(32)
    conn.execute(insert(table(WebSession)).values(id=digest(token), actor_id=person["actor_id"], created_at=at,
                                                  last_seen=at, ended_at=None, client=client[:CLIENT_MAX],
                                                  credential_set_at=person["set_at"]))
    return token


def store_credential(conn: Connection, actor_id: int, hashed: str, must_change: bool, by: str, at: str) -> None:
    values = {"hash": hashed, "must_change": must_change, "set_at": at, "set_by": by}
    if conn.execute(select(CR.actor_id).where(CR.actor_id == actor_id)).first():
        conn.execute(update(table(Credential)).where(CR.actor_id == actor_id).values(**values))
    else:
        conn.execute(insert(table(Credential)).values(actor_id=actor_id, **values))




def person(conn: Connection, *, name: str | None = None, actor_id: int | None = None) -> Any:
    """The actor with their city and credential (None when unknown), by name or id."""
    q = PERSON.where(A.name == name) if name is not None else PERSON.where(A.id == actor_id)
    return conn.execute(q).mappings().one_or_none()


def rehash(conn: Connection, actor_id: int, hashed: str) -> None:
    conn.execute(update(table(Credential)).where(CR.actor_id == actor_id).values(hash=hashed))


def stored_hash(conn: Connection, actor_id: int) -> str | None:
    return conn.execute(select(CR.hash).where(CR.actor_id == actor_id)).scalar_one_or_none()


def session_of(conn: Connection, sid: str) -> Any:
    """The session with its person (None when unknown)."""
    return conn.execute(PERSON.add_columns(WS.created_at, WS.last_seen, WS.ended_at, WS.client, WS.credential_set_at)
                        .join(table(WebSession), WS.actor_id == A.id).where(WS.id == sid)).mappings().one_or_none()


def open_name(conn: Connection, sid: str) -> str | None:
    """The name behind an open session, if it is open."""
    row = conn.execute(select(A.name).join(table(WebSession), WS.actor_id == A.id)
                       .where(WS.id == sid, WS.ended_at.is_(None))).one_or_none()
    return None if row is None else str(row[0])


def end_one(conn: Connection, sid: str, at: str) -> None:
    conn.execute(update(table(WebSession)).where(WS.id == sid).values(ended_at=at))


def touch(conn: Connection, sid: str, at: str) -> None:
    conn.execute(update(table(WebSession)).where(WS.id == sid).values(last_seen=at))


def login_log(conn: Connection, *, name: str | None, limit: int) -> list[Any]:
    """The login log, newest first."""
    q = select(LE.at, LE.name, LE.client, LE.outcome, LE.detail).order_by(LE.id.desc()).limit(limit)
    if name:
        q = q.where(LE.name == name)
    return list(conn.execute(q).all())
