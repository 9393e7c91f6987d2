"""A service context as the web workspace builds one: the database of a `cli` fixture, the acting
person, the campaign clock held at a day (a simulation database)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from models.db import make_engine
from tests.conftest import Cli
from workflow.clock import FixedClock, parse_instant
from workflow.context import Context


@contextmanager
def acting(cli: Cli, actor: str, now: str) -> Iterator[Context]:
    """ctx with `actor` acting on `now` (YYYY-MM-DD, 09:00 Asia/Shanghai); the engine is disposed after."""
    engine = make_engine(cli.db)
    try:
        yield Context(engine=engine, clock=FixedClock(parse_instant(now)), actor=actor, simulation=True,
                      clock_override=True)
    finally:
        engine.dispose()
