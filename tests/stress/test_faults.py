"""Faults with nothing lost: SIGKILL in the middle of big writes, a read-only or full database."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import event, text

from models.db import make_engine
from tests.conftest import Cli, bootstrap
from workflow import synthetic

pytestmark = pytest.mark.stress


def _count(db: str, table: str) -> int:
    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def _run_and_kill(cli: Cli, args: list[str], *, after: float) -> tuple[int, float]:
    """Run a command and SIGKILL it `after` seconds in; (return code, seconds it ran)."""
    env = {**os.environ, "CAMPAIGN_DB": cli.db, "CAMPAIGN_NOW": "2024-06-03", "CAMPAIGN_ACTOR": "省管理员"}
    proc = subprocess.Popen([sys.executable, "-m", "cli", *args], env=env, cwd=cli.home,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start = time.monotonic()
    deadline = start + after
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    rc = proc.wait(timeout=30)
    return rc, time.monotonic() - start


def _timed(cli: Cli, args: list[str]) -> float:
    env = {**os.environ, "CAMPAIGN_DB": cli.db, "CAMPAIGN_NOW": "2024-06-03", "CAMPAIGN_ACTOR": "省管理员"}
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "cli", *args], env=env, cwd=cli.home, check=True,
                   capture_output=True)
    return time.monotonic() - start


def test_a_killed_import_leaves_all_or_nothing_and_a_valid_log(cli: Cli, tmp_path: Path,
                                                              report: Callable[[str], None]) -> None:
    bootstrap(cli)
    startup = _timed(cli, ["status", "--json"])
    probe = tmp_path / "probe.csv"
    synthetic.write_csv(probe, synthetic.generate(3_000, seed=1))
    per_row = max(_timed(cli, ["enterprise", "import", str(probe)]) - startup, 0.05) / 3_000
    base, killed = _count(cli.db, "enterprise"), 0
    estimate = per_row * 30_000
    for attempt in range(5):
        big = tmp_path / f"big{attempt}.csv"
        synthetic.write_csv(big, synthetic.generate(30_000, seed=10 + attempt))
        rc, elapsed = _run_and_kill(cli, ["enterprise", "import", str(big)], after=startup + estimate / 2)
        n = _count(cli.db, "enterprise") - base
        report(f"import attempt {attempt}: rc={rc}, {elapsed:.2f}s, rows from this file: {n}")
        assert n in (0, 30_000)
        if rc == -signal.SIGKILL and n == 0:
            killed += 1
            break
        # Finished, or killed after its commit: aim earlier next time.
        estimate = min(estimate, max(elapsed - startup, 0.1)) / 2
        base += n
    assert killed, "the import always committed before the kill: nothing was tested"
    cli("audit", "verify", now="2024-06-03")


def test_a_killed_batch_advance_leaves_all_or_nothing(cli: Cli, tmp_path: Path,
                                                     report: Callable[[str], None]) -> None:
    bootstrap(cli)
    rows = [r for r in synthetic.generate(9_000, seed=9) if r["grade"] in ("未评级", "D", "C")]
    src = tmp_path / "e.csv"
    synthetic.write_csv(src, rows)
    cli("enterprise", "import", str(src), now="2024-05-06", actor="省管理员")
    startup = _timed(cli, ["status", "--json"])

    def batch(path: Path, chunk: list[dict[str, str]]) -> Path:
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["code", "event", "consent", "target_grade"])
            w.writerows([r["code"], "enroll", "自愿", "B"] for r in chunk)
        return path

    per_row = max(_timed(cli, ["advance", "--file", str(batch(tmp_path / "p.csv", rows[:300]))]) - startup,
                  0.05) / 300
    rest, killed = rows[300:], 0
    size = len(rest) // 5
    estimate = per_row * size
    for attempt in range(5):
        chunk = rest[attempt * size:(attempt + 1) * size]
        before = _count(cli.db, "participation")
        rc, elapsed = _run_and_kill(cli, ["advance", "--file", str(batch(tmp_path / f"b{attempt}.csv", chunk))],
                                    after=startup + estimate / 2)
        added = _count(cli.db, "participation") - before
        report(f"batch attempt {attempt}: rc={rc}, {elapsed:.2f}s, participations added: {added} of {len(chunk)}")
        assert added in (0, len(chunk))
        if rc == -signal.SIGKILL and added == 0:
            killed += 1
            break
        # Finished, or killed after its commit: aim earlier next time.
        estimate = min(estimate, max(elapsed - startup, 0.1)) / 2
    assert killed, "the batch always committed before the kill: nothing was tested"
    cli("audit", "verify", now="2024-06-03")


def test_a_read_only_database_is_one_clear_error_and_nothing_is_written(sqlite_cli: Cli) -> None:
    bootstrap(sqlite_cli)
    before = _count(sqlite_cli.db, "audit_entry")
    ro = Cli(f"sqlite:///file:{sqlite_cli.db}?mode=ro&uri=true", sqlite_cli.home)
    r = ro("enterprise", "add", "--code", "91410100MA45C2R1XL", "--name", "只读测试", "--city", "许昌市",
           "--industry", "耐材", "--grade", "C", now="2024-05-06", actor="省管理员", expect=1)
    assert "只读" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert _count(sqlite_cli.db, "audit_entry") == before
    assert json.loads(ro("status", "--json", now="2024-05-06").stdout)["total"] == 0  # reads still work


def test_a_full_disk_rolls_back_the_whole_import(sqlite_cli: Cli, tmp_path: Path) -> None:
    from cli import describe
    from workflow.clock import FixedClock, parse_instant
    from workflow.context import Context
    from workflow.enterprises import import_file

    bootstrap(sqlite_cli)
    src = tmp_path / "e.csv"
    synthetic.write_csv(src, synthetic.generate(5_000, seed=3))
    engine = make_engine(sqlite_cli.db)

    @event.listens_for(engine, "connect")
    def _tiny(dbapi_conn: object, _rec: object) -> None:  # the "disk" holds only a few more pages
        cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
        pages = cur.execute("PRAGMA page_count").fetchone()[0]
        cur.execute(f"PRAGMA max_page_count={pages + 20}")

    ctx = Context(engine=engine, clock=FixedClock(parse_instant("2024-05-06")), actor="省管理员")
    with pytest.raises(Exception) as info:
        import_file(ctx, src)
    engine.dispose()
    code, message = describe(info.value)
    assert code == 1 and "磁盘已满" in message
    assert _count(sqlite_cli.db, "enterprise") == 0
    sqlite_cli("audit", "verify", now="2024-05-06")
