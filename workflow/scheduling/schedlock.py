"""One scheduler per database.

PostgreSQL: a session advisory lock held on a dedicated connection; a second scheduler polls
`pg_try_advisory_lock` as a standby and takes over when the holder's session ends (it died).
SQLite: an exclusive `flock` on a lock file next to the database, holding the pid; a second
scheduler is refused. The operating system drops both locks when the process dies.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from workflow.errors import Refused

LEADER_LOCK = 727_3000  # distinct from the ledger's and the tick's keys


class PgLock:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.conn: Any = None
        self.unreachable = False  # the last attempt failed because the server was away

    @property
    def where(self) -> str:
        return f"PostgreSQL advisory lock {LEADER_LOCK} on {self.engine.url.database}"

    def try_acquire(self) -> bool:
        try:
            if self.conn is None:
                self.conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            got = bool(self.conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LEADER_LOCK}).scalar())
        except Exception:  # the server is away: drop the connection, try again at the next poll
            self._drop()
            self.unreachable = True
            return False
        self.unreachable = False
        return got

    def alive(self) -> bool:
        try:
            return self.conn is not None and self.conn.execute(text("SELECT 1")).scalar() == 1
        except Exception:
            self._drop()
            return False

    def _drop(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.invalidate()  # close the session: never return a locked one to the pool
            with contextlib.suppress(Exception):
                self.conn.close()
        self.conn = None

    def release(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LEADER_LOCK})
        self._drop()


class FileLock:
    def __init__(self, database: str) -> None:
        self.path = Path(f"{database}.scheduler.lock")
        self.fd: int | None = None

    @property
    def where(self) -> str:
        return f"lock file {self.path}"

    def try_acquire(self) -> bool:
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return True

    def holder(self) -> str:
        with contextlib.suppress(OSError):
            return self.path.read_text().strip() or "?"
        return "?"

    def alive(self) -> bool:
        return self.fd is not None

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing drops the flock
            self.fd = None


def for_engine(engine: Engine) -> PgLock | FileLock:
    if engine.dialect.name == "postgresql":
        return PgLock(engine)
    database = engine.url.database
    if not database or database == ":memory:":
        raise Refused("调度器需要数据库文件或 PostgreSQL (scheduler needs a database file)", rule="scheduler")
    return FileLock(database)


def refuse_second(lock: FileLock) -> None:
    raise Refused(f"另一个调度器正在运行（pid {lock.holder()}，锁文件 {lock.path}）："
                  "同一 SQLite 数据库只能运行一个调度器；需要热备请使用 PostgreSQL "
                  "(another scheduler is running on this database)", rule="scheduler")
