"""`campaign scheduler run` as a real process: clean stop, catch-up after a restart, one scheduler
per database (SQLite refuses a second, PostgreSQL keeps it as a standby), the job store rebuilt."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.helpers.scheduling import Daemon, notices, small_campaign

pytestmark = pytest.mark.slow


def test_a_restarted_daemon_catches_up_the_missed_alerts_once(cli: Cli) -> None:
    small_campaign(cli)
    first = Daemon(cli.db, cli.home, now="2024-05-24")
    try:
        first.wait_for("jobs rebuilt")
        assert "新通知 2 条（reminder 2）" in first.wait_for("启动补发")
    finally:
        assert first.stop() == 0
    # down across 附件1's due date (05-31); the restart sends the overdue notices, once
    second = Daemon(cli.db, cli.home, now="2024-06-03")
    try:
        assert "新通知 2 条（overdue 2）" in second.wait_for("启动补发")
    finally:
        assert second.stop() == 0
    third = Daemon(cli.db, cli.home, now="2024-06-03")
    try:
        assert "新通知 0 条" in third.wait_for("启动补发")
    finally:
        assert third.stop() == 0
    assert sorted(r["key"] for r in notices(cli)) == [
        "overdue:attachment1:2024-05:许昌市:+1", "overdue:attachment1:2024-05:郑州市:+1",
        "reminder:attachment1:2024-05:许昌市:-7", "reminder:attachment1:2024-05:郑州市:-7"]


def test_a_second_scheduler_on_a_sqlite_database_refuses_to_start(sqlite_cli: Cli) -> None:
    small_campaign(sqlite_cli)
    first = Daemon(sqlite_cli.db, sqlite_cli.home, now="2024-05-24")
    try:
        first.wait_for("active")
        r = sqlite_cli("scheduler", "run", now="2024-05-24", expect=1)
        assert "另一个调度器正在运行" in r.stderr and str(first.proc.pid) in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    finally:
        assert first.stop() == 0
    again = Daemon(sqlite_cli.db, sqlite_cli.home, now="2024-05-24")  # the lock went with the process
    try:
        again.wait_for("active")
    finally:
        assert again.stop() == 0


@pytest.mark.postgres
def test_a_postgresql_standby_takes_over_when_the_active_scheduler_dies(pg_url: str, tmp_path: Path) -> None:
    cli = Cli(pg_url, tmp_path)
    small_campaign(cli)
    active = Daemon(pg_url, tmp_path, now="2024-05-24")
    standby: Daemon | None = None
    try:
        active.wait_for("active")
        standby = Daemon(pg_url, tmp_path, now="2024-05-24")
        standby.wait_for("standby")
        assert not [line for line in standby.lines if "active" in line]
        active.kill()  # SIGKILL: no clean-up; the server ends its session and its advisory lock
        standby.wait_for("active", timeout=20)
        standby.wait_for("jobs rebuilt")
    finally:
        active.kill()
        code = standby.stop() if standby is not None else None
    assert code == 0
    assert len({r["key"] for r in notices(cli)}) == len(notices(cli)) == 2


def test_the_job_store_is_rebuilt_from_the_deadline_data(cli: Cli) -> None:
    """Lost or stale stored jobs (APScheduler silently drops those it cannot load) lose no deadline."""
    from sqlalchemy import text

    from models.db import make_engine
    from workflow.clock import FixedClock, parse_instant
    from workflow.context import Context
    from workflow.scheduling.scheduler import build, sync

    small_campaign(cli)
    engine = make_engine(cli.db)
    at = FixedClock(parse_instant("2024-05-20T10:00"))
    ctx = Context(engine=engine, clock=at, wall=at, home=cli.home)
    try:
        sched = build(ctx)
        sched.start(paused=True)
        planned = sync(sched, ctx, fresh=True)
        assert {"deadline:2024-05-24", "deadline:2024-05-28", "deadline:2024-05-30", "deadline:2024-06-01",
                "deadline:2025-01-01"} <= set(planned)
        job = sched.get_job("deadline:2024-05-24")
        assert (job.func_ref, job.args) == ("workflow.scheduling.scheduler:run_due", ("2024-05-24",))
        assert str(job.next_run_time) == "2024-05-24 08:30:00+08:00"
        sched.remove_all_jobs()  # the job store is lost (emptied before shutdown: past jobs must not run)
        sched.shutdown()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM scheduler_job")).scalar_one() == 0
        again = build(ctx)
        again.start(paused=True)
        again.add_job("workflow.scheduling.scheduler:run_due", "date", id="deadline:2024-05-21", args=["2024-05-21"],
                      run_date="2024-05-21 08:30:00")
        assert sync(again, ctx, fresh=True) == planned
        assert {j.id for j in again.get_jobs()} == {*planned, "resync"}  # the stale job is gone
        again.remove_all_jobs()
        again.shutdown()
    finally:
        engine.dispose()


def test_a_connection_lost_during_the_catch_up_is_redone_not_fatal(sqlite_cli: Cli,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The server vanishing mid-tick rolls the tick back; the scheduler stands by and redoes it."""
    import threading

    from sqlalchemy.exc import OperationalError

    from models.db import make_engine
    from workflow.clock import FixedClock, parse_instant
    from workflow.context import Context
    from workflow.scheduling import scheduler

    small_campaign(sqlite_cli)
    real, calls = scheduler.tick, []

    def flaky(ctx: Context, **kw: object) -> dict[str, object]:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
        return real(ctx)

    monkeypatch.setattr(scheduler, "tick", flaky)
    engine = make_engine(sqlite_cli.db)
    ctx = Context(engine=engine, clock=FixedClock(parse_instant("2024-05-24")), home=sqlite_cli.home)
    lines: list[str] = []
    stop = threading.Event()
    worker = threading.Thread(target=scheduler.run, kwargs={"ctx": ctx, "stop": stop, "poll": 0.05,
                                                            "echo": lines.append})
    worker.start()
    try:
        for _ in range(200):
            if any("jobs rebuilt" in line for line in lines):
                break
            stop.wait(0.05)
    finally:
        stop.set()
        worker.join(timeout=20)
        engine.dispose()
    assert not worker.is_alive()
    assert any("数据库连接中断" in line for line in lines), lines
    assert [line for line in lines if "启动补发" in line] == [
        "启动补发 (catch-up)（截至 2024-05-24）：新通知 2 条（reminder 2）"], lines
    assert len({r["key"] for r in notices(sqlite_cli)}) == len(notices(sqlite_cli)) == 2
