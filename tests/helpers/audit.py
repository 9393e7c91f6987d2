"""Read the audit log and the refusal log behind the CLI's back, and tamper with them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text

from models.db import is_sqlite, make_engine
from models.tables import AuditEntry, table
from tests.conftest import Cli


def audit_entries(cli: Cli, event: str) -> list[dict[str, Any]]:
    """city, actor, reason and payload of every audit entry of `event`, in chain order."""
    a = table(AuditEntry).c
    engine = make_engine(cli.db)
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(a.city, a.actor, a.reason, a.payload)
                                                           .where(a.event == event).order_by(a.seq))]
    finally:
        engine.dispose()


def refusals(cli: Cli) -> list[tuple[str, str, str]]:
    """(actor, event, rule) of every recorded refusal, oldest first."""
    engine = make_engine(cli.db)
    try:
        with engine.connect() as c:
            return [tuple(r) for r in c.execute(text("SELECT actor, event, rule FROM refusal ORDER BY id"))]
    finally:
        engine.dispose()


def execute(db: str, *statements: str) -> None:
    """Raw SQL in one transaction, as someone with the database owner's password would."""
    engine = make_engine(db)
    try:
        with engine.begin() as conn:
            for s in statements:
                conn.execute(text(s))
    finally:
        engine.dispose()


def drop_triggers(db: str) -> list[str]:
    """The statements that remove the triggers guarding the audit log on this database."""
    engine = make_engine(db)
    sqlite = is_sqlite(engine)
    engine.dispose()
    if sqlite:
        return ["DROP TRIGGER audit_entry_no_update", "DROP TRIGGER audit_entry_no_delete"]
    return ["DROP TRIGGER audit_entry_no_change ON audit_entry"]
