"""The database server stopped and restarted under a running scheduler: it reconnects, and no alert
is lost or doubled.

Runs a private PostgreSQL cluster (tests/helpers/pg_cluster.py: initdb on a free port) so that
stopping the server disturbs no other test.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import CODE, Cli
from tests.helpers.pg_cluster import Cluster, Unavailable
from tests.helpers.scheduling import Daemon, notices, small_campaign

pytestmark = [pytest.mark.stress, pytest.mark.postgres]


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    try:
        c = Cluster()
    except Unavailable as e:
        pytest.skip(f"needs a private PostgreSQL cluster: {e}")
    try:
        c.start()
        yield c
    finally:
        c.remove()


def test_the_scheduler_survives_a_server_restart_and_loses_or_doubles_no_alert(
        cluster: Cluster, tmp_path: Path, report: Callable[[str], None]) -> None:
    cli = Cli(cluster.url, tmp_path)
    small_campaign(cli)
    started = time.monotonic()
    daemon = Daemon(cluster.url, tmp_path, now="2024-05-24")
    outages = 0
    try:
        assert "新通知 2 条（reminder 2）" in daemon.wait_for("启动补发")
        daemon.wait_for("jobs rebuilt")
        for received in ("2024-05-10", "2024-05-13"):
            # A need answered by nobody is overdue by 05-24; the daemon's next regular check is 15
            # minutes away, so this alert is still owed when the server goes down.
            cli("request", "open", CODE, "--subject", f"{received} 收到的帮扶需求", "--received", received,
                now="2024-05-24", actor="许昌联络员")
            cluster.stop()
            outages += 1
            _wait_count(daemon, "lost the lock", outages)
            time.sleep(1.0)  # the daemon polls a dead server for a while
            cluster.start()
            line = _wait_count(daemon, "启动补发", outages + 1, timeout=60)
            assert "新通知 1 条（request_overdue 1）" in line, daemon.lines
        assert daemon.proc.poll() is None, "the daemon died with the server"
    finally:
        code = daemon.stop()
    wall = time.monotonic() - started
    assert code == 0, daemon.lines
    rows = notices(cli)
    print("\n" + "\n".join(daemon.lines))
    report(f"server restarts: {outages}; notices: {len(rows)}; daemon lines: {len(daemon.lines)}; "
          f"wall time {wall:.1f}s")
    keys = [r["key"] for r in rows]
    assert len(keys) == len(set(keys)) == 4
    assert sorted(r["kind"] for r in rows) == ["reminder", "reminder", "request_overdue", "request_overdue"]
    assert all(r["status"] == "delivered" for r in rows), rows
    assert len(list((tmp_path / "outbox").iterdir())) == 4
    cli("audit", "verify")


def _wait_count(daemon: Daemon, text: str, count: int, timeout: float = 30.0) -> str:
    """Wait until `text` has appeared in `count` lines; return the last such line."""
    deadline = time.monotonic() + timeout
    while True:
        hits = [line for line in daemon.lines if text in line]
        if len(hits) >= count:
            return hits[count - 1]
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{text!r} seen {len(hits)} times, wanted {count}:\n" + "\n".join(daemon.lines))
        with contextlib.suppress(AssertionError):  # only pumps the daemon's output into daemon.lines
            daemon.wait_for("\0never\0", timeout=min(left, 0.5))
