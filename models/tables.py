"""SQLModel tables. State lives on the participation; the audit log is append-only."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Column, Index, Table, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class Campaign(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(unique=True)
    name: str
    start: date
    end: date
    calendar: str = Field(sa_column=Column(Text, nullable=False))  # the TOML it was loaded from


class City(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)


class CityTarget(SQLModel, table=True):
    __tablename__ = "city_target"
    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True)
    city_id: int = Field(foreign_key="city.id", primary_key=True)
    target: int


class Enterprise(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=18)
    name: str
    city_id: int = Field(foreign_key="city.id", index=True)
    county: str = ""
    industry: str  # one of the calendar's industries (钢铁 … 磨料磨具, 其他)
    industry_detail: str = ""  # 行业细分: the enterprise's own wording, e.g. 陶瓷
    grade: str
    rating_doc: str = ""  # 评级文件文号 of the current grade (required unless 未评级)
    ule: str = ""
    ule_ref: str = ""  # the 公示 document number or URL, when ule is publicized
    ule_date: date | None = None  # the 公示 date
    livelihood: bool = False
    version: int = 1


class Participation(SQLModel, table=True):
    """An enterprise's place in one campaign. A re-enrolment after withdrawal starts a new cycle
    on the same row (cycle + 1); the audit log keeps every cycle's events."""

    __table_args__ = (UniqueConstraint("enterprise_id", "campaign_id"),)
    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    cycle: int = 1
    state: str = Field(index=True)
    starting_grade: str
    starting_rating_doc: str = ""  # 评级文件文号 of the starting grade, copied at enrolment
    target_grade: str
    achieved_grade: str | None = None
    consent_ref: str = ""
    enrolled_late: bool = False
    failures: int = 0
    pre_assessed: bool = False
    plan_submitted: bool = False
    publicity_start: date | None = None
    publicity_end: date | None = None
    version: int = 1
    updated_at: str = ""


class Evaluation(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("participation_id", "cycle", "month", name="uq_evaluation_cycle_month"),
                      Index("ix_evaluation_month", "month", "participation_id", "cycle"))
    id: int | None = Field(default=None, primary_key=True)
    participation_id: int = Field(foreign_key="participation.id")
    cycle: int = 1
    month: str = Field(max_length=7)
    recorded_at: str
    audit_seq: int


class Actor(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    roles: str  # comma-separated, e.g. "city_coordinator,expert"
    city_id: int | None = Field(default=None, foreign_key="city.id")
    active: bool = True


class AuditEntry(SQLModel, table=True):
    """One link of the hash chain. Never updated or deleted (database triggers)."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_code", "code", "campaign_year"),
                      Index("ix_audit_state_changes", "campaign_year", "code", "seq",
                            postgresql_include=["to_state", "effective_at"],
                            postgresql_where=text("to_state IS NOT NULL"), sqlite_where=text("to_state IS NOT NULL")))
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    format: int = 1
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    code: str | None = None
    campaign_year: int | None = None
    city: str | None = None
    event: str
    from_state: str | None = None
    to_state: str | None = None
    actor: str
    role: str
    reason: str = ""
    payload: str = Field(sa_column=Column(Text, nullable=False))
    effective_at: str
    recorded_at: str


class Refusal(SQLModel, table=True):
    """A refused attempt: who tried what and why. Outside the chain."""

    id: int | None = Field(default=None, primary_key=True)
    recorded_at: str
    effective_at: str
    actor: str
    code: str | None = None
    event: str
    rule: str = ""
    reason: str = Field(sa_column=Column(Text, nullable=False))


class VerifyRun(SQLModel, table=True):
    """One full `audit verify` and its result (the web workspace shows the last). Outside the chain:
    a record of reading it, not an event of the campaign."""

    __tablename__ = "verify_run"
    id: int | None = Field(default=None, primary_key=True)
    at: str  # UTC ISO, real time
    ok: bool
    entries: int  # entries verified (up to the first break)
    actor: str = ""


def table(model: type[SQLModel]) -> Table:
    """The Core table of a model, typed, for statements on the hot paths."""
    t = model.__table__  # type: ignore[attr-defined]
    if not isinstance(t, Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return t
