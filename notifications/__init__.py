"""Notices: rendering and delivery, reacting to what the workflow emits.

The interface the workflow (the scheduler, the lifecycle) uses:

    enqueue(session, *, kind, key, city, code, due, context, created_at, simulation, settings) -> int | None
        Render the notice in the caller's transaction (no commit); None when `key` exists; a
        simulation's notices say so (模拟).
    enqueue_many(session, [Item(kind, key, city, code, due, context), …], created_at=…, simulation=…,
                 settings=…) -> [int | None]
        The same for many notices at once (one query, one insert), in order.
    deliver_pending(engine, *, home, now, settings) -> dict
        Deliver committed notices that are pending or due for retry; counts per outcome.

`settings` is the run's settings (`Context.settings`: CAMPAIGN_* names → text); this package never
reads the environment.

Everything else (templates, channels, settings) is behind these two functions.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from .channels import mask_url
from .kinds import KINDS, Kind
from .queue import Item, enqueue, enqueue_many

__all__ = ["KINDS", "Item", "Kind", "deliver_pending", "enqueue", "enqueue_many", "mask_url", "outbox"]

logging.getLogger("campaign.notifications").addHandler(logging.NullHandler())


def deliver_pending(engine: Engine, *, home: Path, now: datetime, settings: Mapping[str, str] | None = None
                    ) -> dict[str, int]:
    """Deliver every notice that is pending, or failed and due for retry at `now`.

    Each round writes the outbox file and sends to the city's contacts (e-mail when SMTP is
    configured, webhooks); every attempt is recorded. Returns counts:
    {"delivered", "failed", "attempts", "skipped"} (skipped: e-mail contacts with no SMTP set).
    """
    from .delivery import deliver
    from .settings import load

    return deliver(engine, load(home, settings or {}), now)


def outbox(home: Path, settings: Mapping[str, str] | None = None) -> Path:
    """The outbox directory notices are written to, as configured for `home`."""
    from .settings import load

    return load(home, settings or {}).outbox
