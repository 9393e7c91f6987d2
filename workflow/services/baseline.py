"""Bring an existing database under the log: one `baseline` entry per row the log cannot explain yet
(written before a payload carried the fact), carrying the row as it stands, so verify starts clean.

A province admin's act with a reason, in one transaction; the entries stay in the chain, and
`audit verify` says how many baselines it replayed."""

from __future__ import annotations

from typing import Any, TypedDict

from sqlalchemy import text
from sqlmodel import Session

from workflow.context import Context
from workflow.domain.replay import BASELINE
from workflow.errors import IntegrityFailure, InvalidInput
from workflow.services import permissions
from workflow.services.actors import lookup
from workflow.store.ledger import _LOCK_KEY, Entry, Ledger, audited
from workflow.store.projection import KEY_NAMES, Break, check

EVENT = BASELINE


class Baselined(TypedDict):
    baselines: int  # entries written
    tables: dict[str, int]  # of them, per table
    entries: int  # the chain's length after


def _entry(b: Break, actor: str, role: str, reason: str) -> Entry:
    """The row's current values (None: the row the log implies is gone), keyed as the replay keys it."""
    names = KEY_NAMES.get(b.table, ())
    known = dict(zip(names, b.key, strict=False))
    row = b.row or {}
    code, year = known.get("code", row.get("code")), known.get("year", row.get("year"))
    if b.table == "enterprise":
        code = b.key[0]
    city = row.get("city") if isinstance(row.get("city"), str) else None
    return Entry(code=code if isinstance(code, str) else None, campaign_year=year if isinstance(year, int) else None,
                 city=city, event=EVENT, actor=actor, role=role, reason=reason,
                 payload={"table": b.table, "key": list(b.key), "row": b.row})


def baseline(ctx: Context, reason: str) -> Baselined:
    """Append one baseline entry per audited row that differs from what the log implies."""
    why = reason.strip()

    def work(s: Session) -> Baselined:
        actor = lookup(s, ctx.actor)
        role = permissions.authorize_role(actor, "audit_baseline")
        if not why:
            raise InvalidInput("写入基线记录须用 --reason 说明理由（例如 数据库升级前的存量数据） (reason required)")
        conn = s.connection()
        if conn.dialect.name == "postgresql":  # no audited write in flight while the rows are read
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        verdict, _, found, _ = check(ctx.engine, limit=None)
        if verdict.broken is not None:
            broken = verdict.broken
            raise IntegrityFailure(broken.message(), seq=broken.seq, code=broken.code)
        rows: dict[tuple[str, tuple[Any, ...]], Break] = {}
        for b in found:
            rows.setdefault((b.table, b.key), b)
        Ledger(s, ctx).append_many([_entry(b, actor.name, role, why) for b in rows.values()])
        tables: dict[str, int] = {}
        for table, _key in rows:
            tables[table] = tables.get(table, 0) + 1
        return {"baselines": len(rows), "tables": tables, "entries": verdict.count + len(rows)}

    return audited(ctx, EVENT, None, work)
