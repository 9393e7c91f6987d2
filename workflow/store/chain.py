"""Verifying the audit chain: stream the log in seq order and check every hash, in two processes
for a long log; a `Sink` sees every row in the same pass (the replay of `workflow.store.projection`)."""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import Engine

from workflow.domain.audit import FIELDS, GENESIS, Verdict, verify_rows
from workflow.store.bulk import MARKS as _MARKS

__all__ = ["GENESIS", "PARALLEL_MIN", "Sink", "Verdict", "verify", "verify_into"]

PARALLEL_MIN = 200_000  # entries from which `verify` splits the log between two processes


def _stream(engine: Engine, lo: int | None = None, hi: int | None = None,
            batch: int = 50_000) -> Generator[Sequence[Any], None, None]:
    """Rows (FIELDS..., hash, format) in seq order, seq in [lo, hi), through the raw DBAPI cursor: on
    PostgreSQL a server-side (named) cursor, so that memory stays bounded by `batch` rows whatever the
    log's length (a client-side cursor would hold the whole result)."""
    cols = ", ".join((*FIELDS, "hash", "format"))
    mark = _MARKS.get(engine.dialect.paramstyle, "%s")
    where = [f"seq >= {mark}" if lo is not None else "", f"seq < {mark}" if hi is not None else ""]
    sql = f"SELECT {cols} FROM audit_entry{' WHERE ' if any(where) else ''}{' AND '.join(w for w in where if w)}"
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "postgresql":
            cur = raw.driver_connection.cursor(name="audit_chain_stream")  # type: ignore[union-attr]
            cur.itersize = batch
        else:
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


class Sink(Protocol):
    """What sees every row of a verification as it streams by (the replay of `workflow.store.projection`)."""

    def feed(self, rows: Iterable[Sequence[Any]]) -> Iterable[Sequence[Any]]: ...


class _Pass:
    def feed(self, rows: Iterable[Sequence[Any]]) -> Iterable[Sequence[Any]]:
        return rows


def _parallel(engine: Engine, digest: str | None, sink: Sink) -> Verdict | None:
    """Verify the two halves of the seq range at once (two processes): the second half's chain
    starts from the stored hash before it. The parent streams the whole log through `sink` (one
    pass), hashing the first half while the child hashes the second. The verdict only when both
    halves are clean and meet; None otherwise (the caller then walks the log in one pass, which
    names the first break)."""
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
    rows, rest = _stream(engine), list[Sequence[Any]]()

    def first_half() -> Iterator[Sequence[Any]]:
        for row in rows:
            if row[0] >= mid:
                rest.append(row)
                return
            yield row

    try:
        first = verify_rows(sink.feed(first_half()), digest)
        if first.broken is None and first.count == mid - 1:
            for _ in sink.feed(itertools.chain(rest, rows)):  # the second half: replayed here, hashed there
                pass
            second = recv.recv()
    except EOFError:
        pass
    finally:
        rows.close()
        recv.close()
        if second is None:
            proc.kill()
        proc.join()
    if not isinstance(second, Verdict) or first.broken or second.broken:
        return None
    return Verdict(first.count + second.count, second.head if second.count else first.head, None,
                   first.digest_found or second.digest_found)


S = TypeVar("S", bound=Sink)


def verify_into(engine: Engine, digest: str | None, make: Callable[[], S]) -> tuple[Verdict, S]:
    """Verify the chain and stream every row through a fresh `make()` in the same pass; a sink
    that saw a broken or partial log is replaced by the one of the single-process walk."""
    sink = make()
    verdict = _parallel(engine, digest, sink)
    if verdict is None:
        sink = make()
        verdict = verify_rows(sink.feed(_stream(engine)), digest)
    return verdict, sink


def verify(engine: Engine, digest: str | None = None) -> Verdict:
    return verify_into(engine, digest, _Pass)[0]
