"""Engine set-up (SQLite pragmas, PostgreSQL driver), schema, triggers and the unit of work."""

from __future__ import annotations

import contextlib
import weakref
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

from . import (
    access,  # noqa: F401  (assignments, conflicts, spot checks, database logins)
    auth,  # noqa: F401  (password hashes, web sessions, the login log)
    deadlines,  # noqa: F401  (deliverable submissions, enterprise requests)
    exports,  # noqa: F401  (attachment tables: equipment updates)
    notices,  # noqa: F401  (notices, delivery attempts, contacts)
    tables,  # noqa: F401  (registers the tables on SQLModel.metadata)
    workspace,  # noqa: F401  (evidence files, API tokens, notice read receipts)
)

BUSY_TIMEOUT_MS = 30_000
BACKENDS = ("sqlite", "postgresql")


class DatabaseUnusable(ValueError):
    """The --db value names no database this engine can use (unsupported kind, malformed URL, a SQLite
    file that does not exist): one line, exit 1, nothing created."""

    exit_code = 1


def normalise_url(url: str) -> str:
    """A bare path is a SQLite file; postgresql:// uses psycopg 3."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser()}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _backend(url: str) -> str:
    try:
        backend = make_url(url).get_backend_name()
    except Exception:
        raise DatabaseUnusable("数据库地址无法识别：请检查 --db / CAMPAIGN_DB（SQLite 文件路径或 "
                               "postgresql://…）(malformed database URL)") from None
    if backend not in BACKENDS:
        raise DatabaseUnusable(f"不支持的数据库 {backend}：仅支持 SQLite 与 PostgreSQL (unsupported database)")
    return backend


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if _backend(url) != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        _wal(cur)
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers queue on the lock up front, so a read never has to be upgraded; a unit of work
        # that only reads (UnitOfWork(read_only=True)) takes a snapshot and waits for no writer.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")

    return engine


def _wal(cur: Any) -> None:
    """WAL mode, except on an empty database: setting it writes a header, and only `init` or
    `db upgrade` may turn an empty file into a database (create_schema sets it then)."""
    if cur.execute("PRAGMA page_count").fetchone()[0] == 0:
        return
    if cur.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        with contextlib.suppress(Exception):  # read-only file: the write itself will report it
            cur.execute("PRAGMA journal_mode=WAL")


_FOUND: weakref.WeakSet[Engine] = weakref.WeakSet()  # engines whose SQLite file was found


def missing_file(engine: Engine) -> Path | None:
    """The SQLite file `engine` names, when it does not exist (connecting would create it). Once
    found, a file is not looked for again: the engine's pooled connections hold it open."""
    if engine in _FOUND:
        return None
    url = engine.url
    if engine.dialect.name != "sqlite" or not url.database or url.database == ":memory:" or url.query.get("mode"):
        return None
    path = Path(url.database)
    if path.exists():
        _FOUND.add(engine)
        return None
    return path


def create_schema(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    from . import migrate

    migrate.upgrade(engine)
    if is_sqlite(engine):
        with engine.connect() as conn:
            _wal(conn.connection.dbapi_connection.cursor())  # type: ignore[union-attr]


def schema_exists(engine: Engine) -> bool:
    from sqlalchemy import inspect

    return inspect(engine).has_table("campaign")


READ_ONLY = "campaign_read_only"  # execution option of a unit of work that only reads
_READERS: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def _reader(engine: Engine) -> Engine:
    """`engine` with the READ_ONLY option (the same pool), made once per engine."""
    found = _READERS.get(engine)
    if found is None:
        found = _READERS[engine] = engine.execution_options(**{READ_ONLY: True})
    return found


class UnitOfWork:
    """One transaction. Rolls back unless commit() was called. `read_only`: the unit only reads, so
    on SQLite it begins a deferred transaction (a snapshot) instead of queueing for the write lock;
    it must not write (the write would have to upgrade the lock and may be refused as busy)."""

    def __init__(self, engine: Engine, *, read_only: bool = False) -> None:
        if (path := missing_file(engine)) is not None:  # a unit of work never creates the database
            raise DatabaseUnusable(f"数据库文件 {path} 不存在：请检查 --db / CAMPAIGN_DB，或先运行 campaign init "
                                   "(no such database file; nothing was created)")
        self.engine = engine
        self.session = Session(_reader(engine) if read_only else engine, expire_on_commit=False)
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
