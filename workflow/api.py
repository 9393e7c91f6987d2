"""The public Python API: what the CLI, the web workspace and the benchmarks call. Names here stay
stable across refactors of the packages behind them.

    from workflow import api
    ctx = api.open_context("campaign.db")                               # or build a Context yourself
    api.init(ctx)                                                       # set-up: schema + calendar
    api.add_actor(ctx, "省管理员", ("province_admin",), None)            # actors (the first one bootstraps)
    ctx.actor = "省管理员"
    ok, outcomes = api.import_rows(ctx, [{"code": ..., "name": ..., "city": "许昌市", ...}, ...])
    ok, outcomes = api.assign_many(ctx, [(1, api.AssignRow(code=..., expert="王专家")), ...])
    api.advance(ctx, api.Request(code="91410100MA45C2R1XL", event="start_assistance"))
    ok, outcomes = api.advance_batch(ctx, [(1, api.Request(...)), ...])
    api.history(ctx, "91410100MA45C2R1XL"); api.verify(ctx)

One convention for writes, every one of them audited:

- A single write (`add_actor`, `add_enterprise`, `update_enterprise`, `assign`, `advance`, …) returns
  a plain record or raises a `CampaignError` (Refused, InvalidInput, NotFound, ConcurrentChange,
  IntegrityFailure) and writes nothing.
- A bulk call (`advance_batch`, `assign_many`, `import_rows`, `import_file`) returns `(ok, outcomes)`:
  one `BatchOutcome(line, code, event, ok, message)` per row, in input order, and writes all rows in
  one transaction or none (`ok` is False when any row was refused; the accepted rows' outcomes then
  say what they would have done). Rows come as `(line, item)` pairs, except `import_rows`, whose
  plain mappings are numbered from 1 (and `import_file`, numbered by the file's lines). A bulk call
  raises only for what concerns the call as a whole, before any row is judged: an unknown or
  deactivated actor, an actor without the right at all (`import_*`), an unreadable file, an import
  with no row. `import_rows`/`import_file` return an `ImportResult`, a named `(ok, outcomes)` pair
  that also counts what was `imported`.
"""

from __future__ import annotations

from workflow.context import Context
from workflow.errors import CampaignError, ConcurrentChange, IntegrityFailure, InvalidInput, NotFound, Refused
from workflow.reports.figures import Funnel, Targets, funnel, targets
from workflow.services.access import AssignRow, assign, assign_many, deactivate, declare_conflict
from workflow.services.actors import ActorAdded, ActorListed
from workflow.services.actors import add as add_actor
from workflow.services.actors import listing as actors
from workflow.services.corrections import GradeCorrected, correct_grade
from workflow.services.enterprises import (
    EnterpriseAdded,
    EnterpriseRecord,
    EnterpriseUpdated,
    ImportResult,
    import_file,
    import_rows,
)
from workflow.services.enterprises import add as add_enterprise
from workflow.services.enterprises import import_file as import_enterprises  # its earlier name here
from workflow.services.enterprises import listing as enterprises
from workflow.services.enterprises import show as enterprise
from workflow.services.enterprises import update_master as update_enterprise
from workflow.services.lifecycle import Advanced, BatchOutcome, Request, advance, advance_batch
from workflow.services.queries import digest, history, status, verify
from workflow.services.setup import Initialised, init

__all__ = [
    "ActorAdded", "ActorListed", "Advanced", "AssignRow", "BatchOutcome", "CampaignError", "ConcurrentChange",
    "Context", "EnterpriseAdded", "EnterpriseRecord", "EnterpriseUpdated", "Funnel", "GradeCorrected",
    "ImportResult", "Initialised", "IntegrityFailure", "InvalidInput", "NotFound", "Refused", "Request", "Targets",
    "actors", "add_actor", "add_enterprise", "advance", "advance_batch", "assign", "assign_many", "correct_grade",
    "deactivate", "declare_conflict", "digest", "enterprise", "enterprises", "funnel", "history", "import_enterprises",
    "import_file", "import_rows", "init", "open_context", "status", "targets", "update_enterprise", "verify",
]


def open_context(db: str, *, actor: str | None = None, year: int | None = None) -> Context:
    """A context on the database `db` (a SQLite path or a PostgreSQL URL) on real time, for scripts.
    Simulations and their clocks are the CLI's business (`campaign init --simulation`)."""
    from models.db import make_engine

    return Context(engine=make_engine(db), actor=actor, year=year)
