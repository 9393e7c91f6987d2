"""Simulation or real: which clock a command runs on.

A database is a simulation when the first entry of its audit chain is `init_simulation`, written
by `campaign init --simulation` (or the demo) on a database with no entries yet; the first entry
never changes, so a real database cannot become a simulation later, nor the reverse. Only a
simulation honours `CAMPAIGN_NOW`; a real database runs on real time, which on PostgreSQL is the
server's (everyone on a shared database shares one clock, whatever their own machine says).
"""

from __future__ import annotations

import weakref
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from workflow.clock import Clock, FixedClock, OffsetClock, SystemClock, parse_instant
from workflow.context import SIMULATION_MARK
from workflow.errors import Refused

EVENT = "init_simulation"  # the audit event that makes a database a simulation (seq 1)
SIMULATION, REAL, EMPTY = "simulation", "real", "empty"
CLOCK_REFUSED = ("CAMPAIGN_NOW 只用于模拟数据库（campaign init --simulation）；真实数据库按实际时间记录 "
                 "(clock override refused on a real database)")
MARK = SIMULATION_MARK

_KNOWN: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()  # settled kinds only


def refused() -> Refused:
    return Refused(CLOCK_REFUSED, rule="clock")


def absent(engine: Engine) -> bool:
    """A SQLite URL whose file is not there (or in memory): nothing to read, and nothing to create."""
    if engine.dialect.name != "sqlite":
        return False
    name = engine.url.database
    return not name or name == ":memory:" or not Path(name).exists()


def kind(engine: Engine) -> str:
    """SIMULATION, REAL, or EMPTY (no audit entry yet, no schema, or unreadable: the command then
    says what is wrong; a write on it is still checked by the ledger). Settled kinds are cached
    per engine: the first entry of a chain never changes."""
    if engine in _KNOWN:
        return _KNOWN[engine]
    if absent(engine):
        return EMPTY
    raw = engine.raw_connection()  # no transaction, so no write lock on SQLite
    try:
        cur = raw.cursor()
        cur.execute("SELECT event FROM audit_entry WHERE seq = 1")
        row = cur.fetchone()
        cur.close()
    except Exception:  # no schema yet, or not readable by this login
        row = None
    finally:
        raw.rollback()
        raw.close()
    if row is None:
        return EMPTY
    _KNOWN[engine] = SIMULATION if row[0] == EVENT else REAL
    return _KNOWN[engine]


def server_offset(engine: Engine) -> timedelta | None:
    """On PostgreSQL, how far the server's clock is ahead of ours (None elsewhere or if unreachable)."""
    if engine.dialect.name != "postgresql":
        return None
    try:
        raw = engine.raw_connection()
    except Exception:  # unreachable: the command itself will say so
        return None
    try:
        cur = raw.cursor()
        before = datetime.now(UTC)
        cur.execute("SELECT clock_timestamp()")
        server: datetime = cur.fetchone()[0]  # type: ignore[index]
        after = datetime.now(UTC)
        cur.close()
        return server - (before + (after - before) / 2)
    except Exception:
        return None
    finally:
        raw.rollback()
        raw.close()


def clocks(engine: Engine, env_now: str | None, *, making: bool = False) -> tuple[Clock, Clock, bool]:
    """(campaign clock, wall clock, simulation) for a command. `env_now`: CAMPAIGN_NOW; `making`:
    the command makes the database a simulation (`init --simulation`, `demo`), which checks the
    database itself. CAMPAIGN_NOW on a real database is refused before anything is read or written."""
    override = FixedClock(parse_instant(env_now)) if env_now else None
    state = kind(engine)
    if override is not None and state == REAL and not making:
        raise refused()
    offset = server_offset(engine)
    wall: Clock = SystemClock() if offset is None else OffsetClock(offset)
    return override or wall, wall, state == SIMULATION
