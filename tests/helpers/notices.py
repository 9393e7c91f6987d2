"""Put a notice in the queue as the scheduler would, and read the queue back."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import text

from models.db import UnitOfWork, make_engine
from notifications import enqueue
from tests.conftest import Cli

NOW = "2024-05-24"
REMINDER = {"deliverable": "XX市（区）绩效提升企业培育清单", "attachment": "附件1", "period": "2024-05",
            "days_left": 7}


def enqueue_notice(cli: Cli, key: str = "reminder:attachment1:2024-05:许昌市:7", kind: str = "reminder",
                   context: dict[str, Any] | None = None, city: str | None = "许昌市") -> int | None:
    """What the scheduler will do: enqueue in a unit of work and commit."""
    engine = make_engine(cli.db)
    try:
        with UnitOfWork(engine) as uow:
            nid = enqueue(uow.session, kind=kind, key=key, city=city, code=None, due=date(2024, 5, 31),
                          context=REMINDER if context is None else context,
                          created_at="2024-05-24T01:00:00.000000Z")
            uow.commit()
    finally:
        engine.dispose()
    return nid


def query(cli: Cli, sql: str) -> list[Any]:
    engine = make_engine(cli.db)
    try:
        with engine.connect() as c:
            return list(c.execute(text(sql)))
    finally:
        engine.dispose()


def listing(cli: Cli, *args: str) -> list[dict[str, Any]]:
    return json.loads(cli("notices", "list", "--json", *args, now=NOW).stdout)
