"""Engine set-up (SQLite pragmas, PostgreSQL driver), schema, triggers and the unit of work."""

from __future__ import annotations

import contextlib
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

from . import (
    access,  # noqa: F401  (assignments, conflicts, spot checks, database logins)
    deadlines,  # noqa: F401  (deliverable submissions, enterprise requests)
    exports,  # noqa: F401  (attachment tables: equipment updates)
    notices,  # noqa: F401  (notices, delivery attempts, contacts)
    tables,  # noqa: F401  (registers the tables on SQLModel.metadata)
)

BUSY_TIMEOUT_MS = 30_000


def normalise_url(url: str) -> str:
    """A bare path is a SQLite file; postgresql:// uses psycopg 3."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser()}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        if cur.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            with contextlib.suppress(Exception):  # read-only file: the write itself will report it
                cur.execute("PRAGMA journal_mode=WAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers queue on the lock up front, so a read never has to be upgraded.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def create_schema(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    from . import migrate

    migrate.upgrade(engine)


def schema_exists(engine: Engine) -> bool:
    from sqlalchemy import inspect

    return inspect(engine).has_table("campaign")


class UnitOfWork:
    """One transaction. Rolls back unless commit() was called."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.session = Session(engine, expire_on_commit=False)
        self._committed = False

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self._committed:
            self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()
        self._committed = True

    def rollback(self) -> None:
        self.session.rollback()
