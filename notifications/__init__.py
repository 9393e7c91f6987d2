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
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from .channels import mask_url
from .kinds import KINDS, Kind
from .queue import Item, enqueue, enqueue_many

__all__ = ["KINDS", "Item", "Kind", "deliver_pending", "enqueue", "enqueue_many", "mask_url", "outbox"]

logging.getLogger("campaign.notifications").addHandler(logging.NullHandler())


def deliver_pending(engine: Engine, *, home: Path, now: datetime, settings: Mapping[str, str] | None = None,
                    first: Sequence[int] = ()) -> dict[str, int]:
    """Deliver every notice that is pending, or failed and due for retry at `now`.

    Each round writes the outbox file and sends to the city's contacts (e-mail when SMTP is
    configured, webhooks); every attempt is recorded. Returns counts:
    {"delivered", "failed", "attempts", "skipped"} (skipped: e-mail contacts with no SMTP set).
    `first`: notices the caller has just made (the scheduler's tick), claimed by id before the rest:
    a round picked by id reads only its own rows, where a round picked from everything due reads
    and sorts every pending notice (50,000 of them on a province's busiest day, 250 times over).
    """
    from .delivery import deliver
    from .settings import load

    loaded = load(home, settings or {})
    counts = deliver(engine, loaded, now, ids=list(first)) if first else {}
    rest = deliver(engine, loaded, now)
    return {k: counts.get(k, 0) + v for k, v in rest.items()}


def outbox(home: Path, settings: Mapping[str, str] | None = None) -> Path:
    """The outbox directory notices are written to, as configured for `home`."""
    from .settings import load

    return load(home, settings or {}).outbox
