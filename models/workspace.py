"""Tables of the workspace's second part: evidence files (佐证材料), API tokens and notice read receipts."""

from __future__ import annotations

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class EvidenceFile(SQLModel, table=True):
    """One stored file, content-addressed: the bytes live in the document store under their SHA-256,
    stored once however often they are uploaded; the audit entry of each event it supports names it."""

    __tablename__ = "evidence_file"
    sha256: str = Field(primary_key=True, max_length=64)
    size: int
    media_type: str = Field(max_length=100)  # as detected from the content, never from the name
    first_name: str  # the cleaned name it was first uploaded under
    stored_at: str  # UTC ISO, real time
    stored_by: str


class ApiToken(SQLModel, table=True):
    """A per-actor API token. Only the SHA-256 of the token is stored; the token is shown once."""

    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    actor_id: int = Field(foreign_key="actor.id", index=True)
    token_hash: str = Field(unique=True, max_length=64)
    label: str = ""
    created_at: str  # UTC ISO, real time
    created_by: str
    expires_at: str  # UTC ISO
    revoked_at: str | None = None
    last_used_at: str | None = None


class NoticeRead(SQLModel, table=True):
    """Who opened a notice in the workspace, and when (the first time per person)."""

    __tablename__ = "notice_read"
    __table_args__ = (UniqueConstraint("notice_id", "actor", name="uq_notice_read_actor"),)
    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", index=True)
    actor: str
    city: str | None = Field(default=None, index=True)  # the notice's city (row security on PostgreSQL)
    read_at: str = Field(sa_column=Column(Text, nullable=False))  # UTC ISO, real time
