"""The public Python API: what the CLI, the web workspace and the benchmarks call. Names here stay
stable across refactors of the packages behind them.

    from workflow import api
    ctx = api.open_context("campaign.db", actor="许昌联络员")        # or build a Context yourself
    api.advance(ctx, api.Request(code="91410100MA45C2R1XL", event="start_assistance"))
    ok, outcomes = api.advance_batch(ctx, [(1, api.Request(...)), ...])

Conventions: single writes raise a `CampaignError` (Refused, InvalidInput, NotFound,
ConcurrentChange, IntegrityFailure) and write nothing; `advance_batch` and `import_rows`-style bulk
calls return their outcome per row and write all or nothing. Every write is audited.
"""

from __future__ import annotations

from workflow.context import Context
from workflow.errors import CampaignError, ConcurrentChange, IntegrityFailure, InvalidInput, NotFound, Refused
from workflow.reports.figures import Funnel, Targets, funnel, targets
from workflow.services.access import assign, deactivate, declare_conflict
from workflow.services.actors import ActorAdded, ActorListed
from workflow.services.actors import add as add_actor
from workflow.services.actors import listing as actors
from workflow.services.corrections import GradeCorrected, correct_grade
from workflow.services.enterprises import EnterpriseAdded, EnterpriseRecord, EnterpriseUpdated
from workflow.services.enterprises import add as add_enterprise
from workflow.services.enterprises import import_file as import_enterprises
from workflow.services.enterprises import listing as enterprises
from workflow.services.enterprises import show as enterprise
from workflow.services.enterprises import update_master as update_enterprise
from workflow.services.lifecycle import Advanced, BatchOutcome, Request, advance, advance_batch
from workflow.services.queries import digest, history, status, verify
from workflow.services.setup import Initialised, init

__all__ = [
    "ActorAdded", "ActorListed", "Advanced", "BatchOutcome", "CampaignError", "ConcurrentChange", "Context",
    "EnterpriseAdded", "EnterpriseRecord", "EnterpriseUpdated", "Funnel", "GradeCorrected", "Initialised",
    "IntegrityFailure", "InvalidInput", "NotFound", "Refused", "Request", "Targets", "actors", "add_actor",
    "add_enterprise", "advance", "advance_batch", "assign", "correct_grade", "deactivate", "declare_conflict",
    "digest", "enterprise", "enterprises", "funnel", "history", "import_enterprises", "init", "open_context",
    "status", "targets", "update_enterprise", "verify",
]


def open_context(db: str, *, actor: str | None = None, year: int | None = None) -> Context:
    """A context on the database `db` (a SQLite path or a PostgreSQL URL) on real time, for scripts.
    Simulations and their clocks are the CLI's business (`campaign init --simulation`)."""
    from models.db import make_engine

    return Context(engine=make_engine(db), actor=actor, year=year)
