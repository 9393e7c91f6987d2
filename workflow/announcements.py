"""Notices that events cause (公示, 认定结果, 取消评级资格), put in the outbox in the same
transaction as the events, so they are delivered by the existing channels or not at all.

Called by the lifecycle after a command's events are applied and its held-back audit rows are
flushed, before the commit: `emit(session, ctx, camp, done)` where `done` lists the results of
`lifecycle.apply` (dicts with at least "code", "event", "seq"; the audit entry `seq` holds the rest).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from .campaigns import CampaignRef
from .context import Context


def emit(session: Session, ctx: Context, camp: CampaignRef, done: list[dict[str, Any]]) -> None:
    """Enqueue the notices the applied events call for (none yet: filled in by issue 11's notices)."""
    del session, ctx, camp, done
