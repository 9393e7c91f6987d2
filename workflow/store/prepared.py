"""Statements of the hot path compiled once per database and run on the driver's cursor.

SQLAlchemy's `Connection.execute` costs 20–30 µs per statement even when its compiled cache hits
(parameter processing, result set-up, events), several times what SQLite needs to run it. The few
statements every event runs are compiled here once per dialect; their parameters and results go
through the same type processors SQLAlchemy would apply (dates and booleans on SQLite), so the
values are the ones `execute` gives. The caller's transaction is the SQLAlchemy connection's:
`conn` must be in a transaction (a session's `connection()` is), and nothing here commits.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

from workflow.store.bulk import translated

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Form:
    sql: str
    order: tuple[str, ...] | None  # positional parameter names, None for a named paramstyle
    defaults: dict[str, Any]  # parameters the statement carries itself (literals)
    binds: tuple[tuple[str, Processor], ...]  # parameters whose value needs converting for the driver
    results: tuple[tuple[int, Processor], ...]  # result columns whose value needs converting
    make: Any  # a namedtuple class of the result columns


class Prepared:
    """`stmt` (a Core statement with bind parameters) compiled once per dialect; `rows`, `one` and
    `run` execute it on the DBAPI cursor of the caller's connection."""

    def __init__(self, stmt: ClauseElement) -> None:
        self.stmt = stmt
        self._forms: dict[str, _Form] = {}

    def _form(self, dialect: Dialect) -> _Form:
        form = self._forms.get(dialect.name)
        if form is None:
            compiled: Any = self.stmt.compile(dialect=dialect)  # an SQLCompiler
            # the dialect's own implementation of each type converts (e.g. DATE on SQLite, text ↔ date)
            binds = tuple((name, bind.type.dialect_impl(dialect).bind_processor(dialect))
                          for name, bind in compiled.binds.items())
            columns = getattr(self.stmt, "selected_columns", ())
            results = tuple((i, col.type.dialect_impl(dialect).result_processor(dialect, None))
                            for i, col in enumerate(columns))
            form = self._forms[dialect.name] = _Form(
                compiled.string, tuple(compiled.positiontup) if compiled.positiontup else None,
                {name: b.effective_value for name, b in compiled.binds.items() if not b.required},
                tuple(b for b in binds if b[1] is not None),
                tuple(r for r in results if r[1] is not None),
                namedtuple("Row", [c.key for c in columns] or ["rowcount"], rename=True))  # type: ignore[misc]
        return form

    def _cursor(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, _Form]:
        form = self._form(conn.dialect)
        values = {**form.defaults, **params}
        for name, proc in form.binds:
            values[name] = proc(values[name])  # type: ignore[misc]
        args: Any = tuple(values[k] for k in form.order) if form.order is not None else values
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            with translated(conn, form.sql, args):
                cur.execute(form.sql, args)
        except BaseException:
            cur.close()
            raise
        return cur, form

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        """Every row, as named tuples (attributes by column name)."""
        cur, form = self._cursor(conn, params)
        try:
            raw = cur.fetchall()
        finally:
            cur.close()
        if form.results:
            raw = [_converted(r, form.results) for r in raw]
        make = form.make._make
        return [make(r) for r in raw]

    def one(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """The first row, or None."""
        found = self.rows(conn, params)
        return found[0] if found else None

    def run(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """A write: the number of rows it changed."""
        cur, _ = self._cursor(conn, params)
        try:
            return int(cur.rowcount)
        finally:
            cur.close()


def _converted(row: Sequence[Any], results: tuple[tuple[int, Processor], ...]) -> tuple[Any, ...]:
    values = list(row)
    for i, proc in results:
        values[i] = proc(values[i])  # type: ignore[misc]
    return tuple(values)
