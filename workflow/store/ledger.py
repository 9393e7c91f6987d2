"""The audit log in the database: append inside the caller's transaction, verify, digest."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select, text
from sqlmodel import Session

from models.db import DatabaseUnusable
from models.tables import AuditEntry, Refusal
from workflow.clock import utc_iso
from workflow.context import Context
from workflow.domain.audit import FIELDS, FORMAT, GENESIS, canonical_json, entry_hash
from workflow.errors import CampaignError
from workflow.store import simulation
from workflow.store.bulk import insert_rows
from workflow.store.prepared import Prepared

log = logging.getLogger("campaign.audit")
_LOCK_KEY = 727_2024  # PostgreSQL advisory lock that serialises appends to the chain
_AUDIT = AuditEntry.__table__  # type: ignore[attr-defined]
_COLUMNS = (*FIELDS, "hash", "format")
_HEAD = Prepared(select(_AUDIT.c.seq, _AUDIT.c.hash).order_by(_AUDIT.c.seq.desc()).limit(1))


def _write(conn: Any, rows: list[tuple[Any, ...]]) -> None:
    """Insert audit rows (in _COLUMNS order)."""
    insert_rows(conn, _AUDIT, _COLUMNS, rows)


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One event for the chain, named field by field (`Entry(event=…, actor=…, role=…, …)`)."""

    event: str
    actor: str
    role: str
    code: str | None = None
    campaign_year: int | None = None
    city: str | None = None
    from_state: str | None = None
    to_state: str | None = None
    reason: str = ""
    payload: Any = None


class Ledger:
    """Appends to the chain within one transaction; the head is read once and kept.

    Each entry has two times: `effective_at`, when the event takes effect (the campaign clock, or
    the date a province admin gives for a decision taken on paper), and `recorded_at`, when it was
    written: on PostgreSQL the server's clock, read once per transaction after the chain lock.
    A clock from CAMPAIGN_NOW is written only into a simulation database."""

    def __init__(self, session: Session, ctx: Context, *, hold: int = 0) -> None:
        """`hold`: keep up to that many appended rows and write them with one executemany
        (`flush`, due before anything reads the audit table in this transaction, and before commit)."""
        self.session = session
        self.ctx = ctx
        self.hold = hold
        self._held: list[tuple[Any, ...]] = []
        self._head: tuple[int, str] | None = None
        self._server_time: str | None = None
        self._conn: Any = None

    @property
    def conn(self) -> Any:
        """The session's connection, asked for once per transaction (asking costs more than a query)."""
        c = self._conn
        if c is None or c.closed:
            c = self._conn = self.session.connection()
        return c

    def flush(self) -> None:
        if self._held:
            rows, self._held = self._held, []
            _write(self.conn, rows)

    def _load_head(self) -> tuple[int, str]:
        if self._head is None:
            conn = self.conn
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
            row = _HEAD.one(conn, {})
            self._head = (int(row[0]), str(row[1])) if row else (0, GENESIS)
        return self._head

    def head(self) -> tuple[int, str]:
        """(seq, hash) of the chain's last entry in this transaction ((0, GENESIS) when empty)."""
        return self._load_head()

    def _row(self, e: Entry, effective: str, recorded: str) -> tuple[Any, ...]:
        seq, prev = self._load_head()
        values = (seq + 1, prev, e.code, e.campaign_year, e.city, e.event, e.from_state,
                  e.to_state, e.actor, e.role, e.reason,
                  canonical_json(e.payload if e.payload is not None else {}), effective, recorded)
        digest = entry_hash(values)
        self._head = (seq + 1, digest)
        return (*values, digest, FORMAT)

    def _recorded(self) -> str:
        """When the entries are written: the database server's clock on PostgreSQL (one query per
        transaction, after the chain lock so it follows the order of the chain), else the wall clock."""
        if self._server_time is None:  # the first append of the transaction
            if self.ctx.clock_override and not self.ctx.simulation:
                raise simulation.refused()
            self._server_time = ""
            if self.conn.dialect.name == "postgresql":
                self._load_head()
                at = self.conn.execute(text("SELECT clock_timestamp()")).scalar_one()
                self._server_time = utc_iso(at)
        return self._server_time or utc_iso(self.ctx.wall.now())

    def append(self, e: Entry, effective: datetime | None = None) -> tuple[int, str]:
        """`effective`: when the event takes effect, if not now on the campaign clock."""
        recorded = self._recorded()
        row = self._row(e, utc_iso(effective or self.ctx.now()), recorded)
        if self.hold:
            self._held.append(row)
            if len(self._held) >= self.hold:
                self.flush()
        else:
            _write(self.conn, [row])
        return row[0], row[-2]

    def append_many(self, entries: Sequence[Entry]) -> int:
        recorded = self._recorded()
        effective = utc_iso(self.ctx.now())
        rows = [self._row(e, effective, recorded) for e in entries]
        self.flush()
        if rows:
            _write(self.conn, rows)
        return len(rows)


def record_refusal(ctx: Context, *, actor: str | None, code: str | None, event: str,
                   reason: str, rule: str = "") -> None:
    """Who tried what and why it was refused, in its own unit of work, outside the chain. A refusal
    that cannot be recorded is logged (WARNING, with the refusal and the error), never raised: the
    user is told the refusal itself. A missing database file is not created to hold it."""
    try:
        with ctx.uow(ctx.engine) as uow:
            uow.session.add(Refusal(recorded_at=utc_iso(ctx.wall.now()), effective_at=utc_iso(ctx.now()),
                                    actor=actor or "", code=code, event=event, rule=rule, reason=reason))
            uow.commit()
    except DatabaseUnusable:
        log.info("refusal of %s not recorded: no database to record it in (%s)", event, reason)
    except Exception as exc:
        log.warning("refusal of %s by %s (code %s) not recorded: %s; the refusal was: %s",
                    event, actor or "-", code or "-", exc, reason)


@contextmanager
def refusals_recorded(ctx: Context, event: str, code: str | None,
                      recorded: type[CampaignError] | tuple[type[CampaignError], ...] = CampaignError
                      ) -> Iterator[None]:
    """Record a `recorded` error raised inside (who, what, which rule, why) and re-raise it. `audited`
    wraps every write in it; a use case with work before its transaction (creating the schema,
    reading a file) wraps that work too."""
    try:
        yield
    except recorded as exc:
        record_refusal(ctx, actor=ctx.actor, code=code, event=event, reason=str(exc),
                       rule=getattr(exc, "rule", ""))
        raise


T = TypeVar("T")


def audited(ctx: Context, event: str, code: str | None, work: Callable[[Session], T], *,
            recorded: type[CampaignError] | tuple[type[CampaignError], ...] = CampaignError) -> T:
    """The one shape of a write: run `work` in one unit of work (`ctx.uow`) and commit; a refusal is
    recorded (outside the chain) and re-raised, after the unit of work has rolled back."""
    with refusals_recorded(ctx, event, code, recorded), ctx.uow(ctx.engine) as uow:
        result = work(uow.session)
        uow.commit()
        return result
