"""Tables for people who authenticate to the engine (the web workspace): password hashes, server-side
sessions and the login log. Hashes live apart from `actor`, so a read grant on actor never shows one."""

from __future__ import annotations

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel


class Credential(SQLModel, table=True):
    """An actor's password (argon2id hash). must_change: set by someone else, to be changed at first login."""

    __tablename__ = "actor_credential"
    actor_id: int = Field(foreign_key="actor.id", primary_key=True, sa_column_kwargs={"autoincrement": False})
    hash: str = Field(sa_column=Column(Text, nullable=False))
    must_change: bool = False
    set_at: str  # UTC ISO, real time
    set_by: str


class WebSession(SQLModel, table=True):
    """A server-side session. id is the SHA-256 hex of the cookie's token; the token itself is never stored.
    credential_set_at copies the credential's set_at: a password change ends the session."""

    __tablename__ = "web_session"
    id: str = Field(primary_key=True, max_length=64)
    actor_id: int = Field(foreign_key="actor.id", index=True)
    created_at: str  # UTC ISO, real time
    last_seen: str
    ended_at: str | None = None
    client: str = ""
    credential_set_at: str


class LoginEvent(SQLModel, table=True):
    """One login, failure, lock-out, logout, unlock or expiry, with the client address."""

    __tablename__ = "login_event"
    __table_args__ = (Index("ix_login_event_name_client", "name", "client", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    at: str  # UTC ISO, real time
    name: str
    client: str = ""
    outcome: str  # success | failure | locked | logout | unlock | expired | password_changed
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
