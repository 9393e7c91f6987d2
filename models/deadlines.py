"""Tables for deadlines: the cities' deliverable submissions and the enterprises' needs (需求)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Column, Float, Index, LargeBinary, Table, Text, Unicode
from sqlmodel import Field, SQLModel


class Submission(SQLModel, table=True):
    """One submission of a deliverable by a city; a revised version is another row."""

    __tablename__ = "deliverable_submission"
    __table_args__ = (Index("ix_submission_slot", "campaign_id", "city_id", "kind", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    city_id: int = Field(foreign_key="city.id")
    kind: str = Field(max_length=40)
    period: str = Field(max_length=7)  # YYYY-MM of the due date
    due: date
    submitted_on: date  # the campaign day (Asia/Shanghai)
    submitted_at: str  # UTC ISO, campaign clock
    late: bool = False
    actor: str
    file_name: str | None = None
    sha256: str | None = Field(default=None, max_length=64)
    stored_path: str | None = None  # relative to the campaign home
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    audit_seq: int


class EnterpriseNeed(SQLModel, table=True):
    """An enterprise's need (需求), to be answered within N working days of receipt."""

    __tablename__ = "enterprise_request"
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    subject: str = Field(sa_column=Column(Text, nullable=False))
    received: date
    due: date
    opened_by: str
    opened_at: str  # UTC ISO, campaign clock
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answered_on: date | None = None
    answered_by: str | None = None
    answered_at: str | None = None
    late: bool | None = None  # set when answered


# APScheduler's SQLAlchemy job store, declared here so the schema (and its migrations) know it;
# the job store finds it created and uses it as is. Only the active scheduler writes to it.
scheduler_job = Table(
    "scheduler_job", SQLModel.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
