"""The audit log in the database: append inside the caller's transaction, verify, digest."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine, insert, select, text
from sqlmodel import Session

from models.db import UnitOfWork
from models.tables import AuditEntry, Refusal

from .audit import FIELDS, FORMAT, GENESIS, Verdict, canonical_json, entry_hash, verify_rows
from .clock import utc_iso
from .context import Context
from .errors import CampaignError

_LOCK_KEY = 727_2024  # PostgreSQL advisory lock that serialises appends to the chain
_AUDIT = AuditEntry.__table__  # type: ignore[attr-defined]
_COLUMNS = (*FIELDS, "hash", "format")
_MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def insert_rows(conn: Any, table: Any, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert rows (plain values, in `columns` order) with the driver's executemany: SQLAlchemy's
    per-row parameter processing is pure overhead for values that need no conversion."""
    mark = _MARKS.get(conn.dialect.paramstyle)
    if mark is None:  # a driver with named parameters: the portable path
        conn.execute(insert(table), [dict(zip(columns, r, strict=True)) for r in rows])
        return
    quote = conn.dialect.identifier_preparer.quote
    conn.exec_driver_sql(f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, columns))}) "
                         f"VALUES ({', '.join([mark] * len(columns))})", rows)


def _write(conn: Any, rows: list[tuple[Any, ...]]) -> None:
    """Insert audit rows (in _COLUMNS order)."""
    insert_rows(conn, _AUDIT, _COLUMNS, rows)


@dataclass(frozen=True)
class Entry:
    code: str | None
    campaign_year: int | None
    city: str | None
    event: str
    from_state: str | None
    to_state: str | None
    actor: str
    role: str
    reason: str = ""
    payload: Any = None


class Ledger:
    """Appends to the chain within one transaction; the head is read once and kept."""

    def __init__(self, session: Session, ctx: Context, *, hold: int = 0) -> None:
        """`hold`: keep up to that many appended rows and write them with one executemany
        (`flush`, due before anything reads the audit table in this transaction, and before commit)."""
        self.session = session
        self.ctx = ctx
        self.hold = hold
        self._held: list[tuple[Any, ...]] = []
        self._head: tuple[int, str] | None = None

    def flush(self) -> None:
        if self._held:
            rows, self._held = self._held, []
            _write(self.session.connection(), rows)

    def _load_head(self) -> tuple[int, str]:
        if self._head is None:
            conn = self.session.connection()
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
            row = conn.execute(
                select(_AUDIT.c.seq, _AUDIT.c.hash).order_by(_AUDIT.c.seq.desc()).limit(1)
            ).one_or_none()
            self._head = (int(row[0]), str(row[1])) if row else (0, GENESIS)
        return self._head

    def _row(self, e: Entry, effective: str, recorded: str) -> tuple[Any, ...]:
        seq, prev = self._load_head()
        values = (seq + 1, prev, e.code, e.campaign_year, e.city, e.event, e.from_state,
                  e.to_state, e.actor, e.role, e.reason,
                  canonical_json(e.payload if e.payload is not None else {}), effective, recorded)
        digest = entry_hash(values)
        self._head = (seq + 1, digest)
        return (*values, digest, FORMAT)

    def append(self, e: Entry) -> tuple[int, str]:
        row = self._row(e, utc_iso(self.ctx.now()), utc_iso(self.ctx.wall.now()))
        if self.hold:
            self._held.append(row)
            if len(self._held) >= self.hold:
                self.flush()
        else:
            _write(self.session.connection(), [row])
        return row[0], row[-2]

    def append_many(self, entries: Sequence[Entry]) -> int:
        effective, recorded = utc_iso(self.ctx.now()), utc_iso(self.ctx.wall.now())
        rows = [self._row(e, effective, recorded) for e in entries]
        self.flush()
        if rows:
            _write(self.session.connection(), rows)
        return len(rows)


def record_refusal(ctx: Context, *, actor: str | None, code: str | None, event: str,
                   reason: str, rule: str = "") -> None:
    """Who tried what and why it was refused, in its own transaction, outside the chain."""
    try:
        with Session(ctx.engine) as s:
            s.add(Refusal(recorded_at=utc_iso(ctx.wall.now()), effective_at=utc_iso(ctx.now()),
                          actor=actor or "", code=code, event=event, rule=rule, reason=reason))
            s.commit()
    except Exception:
        pass


T = TypeVar("T")


def audited(ctx: Context, event: str, code: str | None, work: Callable[[Session], T]) -> T:
    """Run `work` in one transaction and commit; a refusal is recorded (outside the chain) and re-raised."""
    try:
        with UnitOfWork(ctx.engine) as uow:
            result = work(uow.session)
            uow.commit()
            return result
    except CampaignError as exc:
        record_refusal(ctx, actor=ctx.actor, code=code, event=event, reason=str(exc),
                       rule=getattr(exc, "rule", ""))
        raise


PARALLEL_MIN = 200_000  # entries from which `verify` splits the log between two processes


def _stream(engine: Engine, lo: int | None = None, hi: int | None = None,
            batch: int = 50_000) -> Iterator[Sequence[Any]]:
    """Rows (FIELDS..., hash, format) in seq order, seq in [lo, hi), through the raw DBAPI cursor."""
    cols = ", ".join((*FIELDS, "hash", "format"))
    mark = _MARKS.get(engine.dialect.paramstyle, "%s")
    where = [f"seq >= {mark}" if lo is not None else "", f"seq < {mark}" if hi is not None else ""]
    sql = f"SELECT {cols} FROM audit_entry{' WHERE ' if any(where) else ''}{' AND '.join(w for w in where if w)}"
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(f"{sql} ORDER BY seq", tuple(b for b in (lo, hi) if b is not None))
        while rows := cur.fetchmany(batch):
            yield from rows
        cur.close()
        raw.rollback()
    finally:
        raw.close()


def _scalar(engine: Engine, sql: str, *params: Any) -> Any:
    mark = _MARKS.get(engine.dialect.paramstyle, "%s")
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(sql.replace("?", mark), params)
        row = cur.fetchone()
        cur.close()
        raw.rollback()
        return None if row is None else row[0]
    finally:
        raw.close()


def _child(engine: Engine, lo: int, prev: str, digest: str | None, out: Any) -> None:
    """The forked half: verify seq >= lo on connections of its own."""
    engine.dispose(close=False)  # the parent's pooled connections are not ours to use
    try:
        out.send(verify_rows(_stream(engine, lo=lo), digest, start=lo, prev=prev))
    except BaseException as exc:  # the parent falls back to one process
        out.send(exc)
    finally:
        out.close()


def _parallel(engine: Engine, digest: str | None) -> Verdict | None:
    """Verify the two halves of the seq range at once (two processes): the second half's chain
    starts from the stored hash before it. The verdict only when both halves are clean and meet;
    None otherwise (the caller then walks the log in one pass, which names the first break)."""
    if engine.dialect.paramstyle not in _MARKS or (os.cpu_count() or 1) < 2:
        return None
    top = _scalar(engine, "SELECT MAX(seq) FROM audit_entry")
    if top is None or int(top) < PARALLEL_MIN:
        return None
    mid = int(top) // 2 + 1
    prev = _scalar(engine, "SELECT hash FROM audit_entry WHERE seq = ?", mid - 1)
    if prev is None:
        return None
    mp = multiprocessing.get_context("fork")
    recv, send = mp.Pipe(duplex=False)
    proc = mp.Process(target=_child, args=(engine, mid, str(prev), digest, send), daemon=True)
    proc.start()
    send.close()
    second: object = None
    try:
        first = verify_rows(_stream(engine, hi=mid), digest)
        if first.broken is None and first.count == mid - 1:
            second = recv.recv()
    except EOFError:
        pass
    finally:
        recv.close()
        if second is None:
            proc.kill()
        proc.join()
    if not isinstance(second, Verdict) or first.broken or second.broken:
        return None
    return Verdict(first.count + second.count, second.head if second.count else first.head, None,
                   first.digest_found or second.digest_found)


def verify(engine: Engine, digest: str | None = None) -> Verdict:
    return _parallel(engine, digest) or verify_rows(_stream(engine), digest)


def state_mismatches(engine: Engine, limit: int = 5) -> list[tuple[str, int, str, str | None]]:
    """Participations whose state differs from the to_state of their last audit entry."""
    sql = text("""
        SELECT e.code, c.year, p.state, a.to_state
        FROM participation p
        JOIN enterprise e ON e.id = p.enterprise_id
        JOIN campaign c ON c.id = p.campaign_id
        LEFT JOIN (SELECT code, campaign_year, MAX(seq) AS seq FROM audit_entry
                   WHERE to_state IS NOT NULL GROUP BY code, campaign_year) last
               ON last.code = e.code AND last.campaign_year = c.year
        LEFT JOIN audit_entry a ON a.seq = last.seq
        WHERE a.to_state IS NULL OR a.to_state <> p.state
        LIMIT :n""")
    with engine.connect() as conn:
        return [(r[0], r[1], r[2], r[3]) for r in conn.execute(sql, {"n": limit})]
