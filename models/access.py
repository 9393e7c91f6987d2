"""Tables for integrity and access control: expert assignments, declared conflicts of interest,
spot-check draws and the database logins mapped to actors."""

from __future__ import annotations

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class Assignment(SQLModel, table=True):
    """An expert assigned to an enterprise (包联). Removal keeps the row: separation of duties
    still sees that the actor was once the enterprise's expert."""

    __tablename__ = "expert_assignment"
    __table_args__ = (UniqueConstraint("enterprise_id", "actor_id"),)
    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    actor_id: int = Field(foreign_key="actor.id", index=True)
    assigned_by: str
    assigned_at: str  # UTC ISO, campaign clock
    removed_at: str | None = None
    audit_seq: int


class Conflict(SQLModel, table=True):
    """A declared conflict of interest (利益冲突): the actor may not act on the enterprise at all."""

    __tablename__ = "conflict_of_interest"
    __table_args__ = (UniqueConstraint("actor_id", "enterprise_id"),)
    id: int | None = Field(default=None, primary_key=True)
    actor_id: int = Field(foreign_key="actor.id", index=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    declared_by: str
    declared_at: str
    audit_seq: int


class SpotCheck(SQLModel, table=True):
    """One reproducible spot-check draw (抽查复核): random.Random(seed) over the sorted population."""

    __tablename__ = "spot_check"
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    city: str | None = None  # None: the whole province
    round: str = ""  # the calendar's spot-check round (08月 / 秋冬季) the draw belongs to
    rate: float
    seed: str  # an integer, kept as text (it may exceed 32 bits)
    population: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON list of codes
    selected: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON list of codes
    drawn_by: str
    drawn_at: str
    audit_seq: int


class SpotCheckPick(SQLModel, table=True):
    """A participation drawn in a spot check: it needs a real recheck, no waiver."""

    __tablename__ = "spot_check_pick"
    __table_args__ = (UniqueConstraint("spot_check_id", "participation_id"),)
    id: int | None = Field(default=None, primary_key=True)
    spot_check_id: int = Field(foreign_key="spot_check.id", index=True)
    participation_id: int = Field(foreign_key="participation.id", index=True)


class LoginMapping(SQLModel, table=True):
    """A PostgreSQL login and the actor it writes as (checked against session_user)."""

    __tablename__ = "db_login"
    login: str = Field(primary_key=True, max_length=63)
    actor_id: int = Field(foreign_key="actor.id", index=True)
    city_id: int | None = Field(default=None, foreign_key="city.id")
    role: str
    granted_by: str
    granted_at: str
