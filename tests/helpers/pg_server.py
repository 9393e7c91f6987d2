"""Which PostgreSQL server a test run uses, decided once, when the first PostgreSQL test asks.

- CAMPAIGN_TEST_PG_URL unset: the PostgreSQL tests skip.
- Set, and the server answers: that server.
- Set, but nothing answers there: a throwaway cluster (tests/helpers/pg_cluster.py) for the whole run,
  removed at its end; when none can be started, the PostgreSQL tests skip.
- CAMPAIGN_REQUIRE_PG=1 (CI, .ci/run): the configured URL as given, nothing started, nothing skipped;
  conftest fails a run in which no PostgreSQL test passed.

Skipping is reported once, in one loud line of the terminal summary (`summary_line`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from models.db import normalise_url
from tests.helpers.pg_cluster import Cluster, Unavailable


class Server:
    """The run's choice; `skipped` (why the PostgreSQL tests skip) and `note` feed the summary."""

    def __init__(self, configured: str | None, *, required: bool) -> None:
        self.configured = configured
        self.required = required
        self.skipped: str | None = None
        self.note: str | None = None

    @contextmanager
    def serve(self) -> Iterator[str]:
        """The server URL for the session; skips the asking test (and, cached, every later one)."""
        if self.required or self.configured is None:
            if self.configured is None:
                self.skipped = "CAMPAIGN_TEST_PG_URL not set"
                pytest.skip(self.skipped)
            yield self.configured
            return
        problem = unreachable(self.configured)
        if problem is None:
            yield self.configured
            return
        try:
            cluster = started_cluster()
        except Unavailable as e:
            self.skipped = f"CAMPAIGN_TEST_PG_URL does not answer ({problem}) and no private cluster: {e}"
            pytest.skip(self.skipped)
        try:
            self.note = (f"PostgreSQL: CAMPAIGN_TEST_PG_URL does not answer ({problem}); "
                         f"ran on a throwaway cluster at 127.0.0.1:{cluster.port}, now removed")
            yield cluster.url
        finally:
            cluster.remove()

    def fold(self, report: pytest.TestReport) -> None:
        """Give every skip for want of a server this module's location, so that `-ra` folds them
        into one line instead of one per test."""
        if self.skipped and report.skipped and isinstance(report.longrepr, tuple):
            _, _, message = report.longrepr
            if message.endswith(self.skipped):
                report.longrepr = (__file__, 1, message)

    def summary_line(self, skipped_tests: int) -> str | None:
        if self.skipped and skipped_tests:
            return f"{skipped_tests} PostgreSQL TESTS SKIPPED: {self.skipped}"
        return self.note


def started_cluster() -> Cluster:
    cluster = Cluster()
    try:
        cluster.start()
    except Exception as e:
        log = cluster.dir / "log"
        reason = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
        cluster.remove()
        raise Unavailable(f"pg_ctl start failed: {(reason or [type(e).__name__])[0]}") from e
    return cluster


def unreachable(url: str, timeout: int = 3) -> str | None:
    """None when the server answers a query, else the first line of the reason."""
    engine = create_engine(normalise_url(url), connect_args={"connect_timeout": timeout})
    try:
        with engine.connect() as c:
            c.execute(text("SELECT 1"))
    except SQLAlchemyError as e:
        lines = str(getattr(e, "orig", None) or e).strip().splitlines()
        return lines[0] if lines else type(e).__name__
    finally:
        engine.dispose()
    return None
