"""Tables for notices and their delivery: the notice, each delivery attempt, and city contacts."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Column, Index, Text, text
from sqlmodel import Field, SQLModel


class Notice(SQLModel, table=True):
    """One official notice. `key` is its natural key: the same notice is never created twice.

    status: pending (rendered, to deliver) → delivered; failed (render or delivery failed; retried
    from next_attempt_at on); sending (claimed by a deliverer until next_attempt_at).
    """

    __tablename__ = "notice"
    __table_args__ = (Index("ix_notice_due_work", "status", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=255)
    kind: str = Field(max_length=40, index=True)
    city: str | None = Field(default=None, index=True)
    code: str | None = Field(default=None, max_length=18)
    due: date | None = None
    context: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON, for re-rendering
    subject: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    template: str = ""  # which template rendered it: "packaged:reminder.j2" or the override path
    status: str = Field(max_length=12)
    error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    attempts: int = 0  # delivery rounds so far
    created_at: str  # UTC ISO (the campaign clock of whoever emitted it)
    next_attempt_at: str | None = None  # UTC ISO
    delivered_at: str | None = None


class DeliveryAttempt(SQLModel, table=True):
    """One try on one channel to one target; never updated."""

    __tablename__ = "delivery_attempt"
    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", index=True)
    round: int  # which delivery round of the notice
    channel: str = Field(max_length=12)  # outbox | email | webhook
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    target: str  # a path, an address, or a webhook URL with its secrets masked
    attempted_at: str  # UTC ISO
    ok: bool
    error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


def _active_once(name: str, *columns: str, where: str) -> Index:
    """A unique index over the active contacts only: the same address is never active twice for one
    receiving unit (a removed contact's address may be added again)."""
    condition = text(f"active AND {where}")
    return Index(name, *columns, unique=True, sqlite_where=condition, postgresql_where=condition)


class Contact(SQLModel, table=True):
    """Who receives a city's notices (city None: the province). An address is active at most once
    per city (partial unique indexes; NULL is never equal to NULL, hence separate province ones)."""

    __tablename__ = "contact"
    __table_args__ = (
        _active_once("uq_contact_city_email", "city", "email", where="city IS NOT NULL AND email IS NOT NULL"),
        _active_once("uq_contact_city_webhook", "city", "webhook", where="city IS NOT NULL AND webhook IS NOT NULL"),
        _active_once("uq_contact_province_email", "email", where="city IS NULL AND email IS NOT NULL"),
        _active_once("uq_contact_province_webhook", "webhook", where="city IS NULL AND webhook IS NOT NULL"),
    )
    id: int | None = Field(default=None, primary_key=True)
    city: str | None = Field(default=None, index=True)
    name: str = ""
    email: str | None = None
    webhook: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    active: bool = True
    created_at: str
