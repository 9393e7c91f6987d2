"""Bulk inserts inside the caller's transaction: COPY on PostgreSQL (psycopg), the driver's executemany
elsewhere.

For a write of thousands of rows at once (an enterprise import, the audit rows of a batch) SQLAlchemy's
executemany of `insert(table)` processes every row's parameters in Python and sends multi-row INSERTs;
COPY streams the rows in the server's own bulk format (measured on 100,000 enterprise rows: see
docs/scale.md). COPY fires the table's triggers and checks its constraints like any INSERT, so nothing the
database enforces is skipped; it sees the caller's transaction and is undone with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Table, insert
from sqlalchemy.exc import DBAPIError

__all__ = ["copy_supported", "insert_dicts", "insert_rows", "translated"]


def copy_supported(conn: Connection) -> bool:
    """Whether `conn` can COPY (PostgreSQL through psycopg 3)."""
    return conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"


MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}
COPY_FROM = 50  # rows from which COPY beats one INSERT per row on PostgreSQL


@contextmanager
def translated(conn: Connection, statement: str, params: Any = None) -> Iterator[None]:
    """Driver errors raised on the raw cursor, as SQLAlchemy's own exceptions (IntegrityError,
    OperationalError …), so the callers' `except IntegrityError` still see a racing duplicate."""
    dbapi = conn.dialect.loaded_dbapi
    try:
        yield
    except dbapi.Error as exc:
        raise DBAPIError.instance(statement, params, exc, dbapi.Error) from exc


def _executemany(conn: Connection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """The driver's executemany on its own cursor (the values are plain already: SQLAlchemy's per-row
    parameter processing would be pure overhead); the portable path for named parameters."""
    mark = MARKS.get(conn.dialect.paramstyle)
    if mark is None:
        conn.execute(insert(table), [dict(zip(columns, r, strict=True)) for r in rows])
        return
    quote = conn.dialect.identifier_preparer.quote
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, columns))}) "
           f"VALUES ({', '.join([mark] * len(columns))})")
    cur: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]  # the caller's transaction
    try:
        with translated(conn, sql):
            if len(rows) == 1:
                cur.execute(sql, rows[0])
            else:
                cur.executemany(sql, rows)
    finally:
        cur.close()


def insert_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert `rows` (plain values in `columns` order) into `table`; returns how many. COPY on
    PostgreSQL from COPY_FROM rows, else the driver's executemany."""
    batch = [tuple(r) for r in rows]
    if not batch:
        return 0
    if len(batch) < COPY_FROM or not copy_supported(conn):
        _executemany(conn, table, columns, batch)
        return len(batch)
    quote = conn.dialect.identifier_preparer.quote
    raw: Any = conn.connection.dbapi_connection
    sql = f"COPY {quote(table.name)} ({', '.join(map(quote, columns))}) FROM STDIN"
    with translated(conn, sql), raw.cursor() as cur, cur.copy(sql) as copy:
        for r in batch:
            copy.write_row(r)
    return len(batch)


def insert_dicts(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert rows given as dicts with the same keys (those of the first row), values of the columns'
    Python types (dates, booleans): COPY on PostgreSQL (psycopg adapts them), else SQLAlchemy's
    executemany, which converts them for the driver."""
    if not rows:
        return 0
    if len(rows) < COPY_FROM or not copy_supported(conn):
        conn.execute(insert(table), list(rows))
        return len(rows)
    columns = list(rows[0])
    return insert_rows(conn, table, columns, [tuple(r[c] for c in columns) for r in rows])
