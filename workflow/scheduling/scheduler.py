"""APScheduler wiring: the foreground daemon behind `campaign scheduler run`.

Jobs live in the application database (SQLAlchemy job store, table `scheduler_job`, Asia/Shanghai)
and name stable module functions with ids only (`run_due("2024-05-24")`, `resync()`). The job store
is a cache: at start-up it is emptied and rebuilt from the deadline data, so a lost, stale or
pruned job store (APScheduler drops jobs whose function it cannot import) never loses a deadline,
and the start-up tick sends whatever fell due while no scheduler ran. Only the holder of the
database's scheduler lock starts APScheduler, so two schedulers never share a job store.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, time
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.exc import OperationalError

from workflow.clock import SHANGHAI, local_date
from workflow.context import Context
from workflow.scheduling import schedlock
from workflow.scheduling.tick import tick, wake_days

log = logging.getLogger("campaign.scheduler")
ALERT_TIME = time(8, 30)  # alerts of a day go out at 08:30 Shanghai
RESYNC_MINUTES = 15  # a catch-all tick and re-plan (new requests, publicity periods)
JOB_TABLE = "scheduler_job"
_RUNTIME: dict[str, Any] = {}  # the running scheduler's context and APScheduler instance


def run_due(day: str) -> None:
    """Job: the alerts of `day` (a tick does everything due as of now, once)."""
    ctx = _RUNTIME.get("ctx")
    if ctx is None:
        log.warning("job for %s fired outside a running scheduler; ignored", day)
        return
    result = tick(ctx)
    _RUNTIME["echo"](_summary(result, f"计划任务 {day}"))


def resync() -> None:
    """Job: tick (catch-all) and bring the planned jobs up to date with the data."""
    ctx, sched = _RUNTIME.get("ctx"), _RUNTIME.get("scheduler")
    if ctx is None or sched is None:
        return
    result = tick(ctx)
    if result["created"] or result["closed"]:
        _RUNTIME["echo"](_summary(result, "定时检查"))
    cp = result.get("checkpoint")
    if cp and (cp.get("written") or cp.get("error")):  # the day's checkpoint, once a day
        _RUNTIME["echo"](f"每日检查点 {cp['day']}：{cp.get('path') or '失败 ' + cp['error']}")
    sync(sched, ctx)


def build(ctx: Context) -> BackgroundScheduler:
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=ctx.engine, tablename=JOB_TABLE)},
        executors={"default": ThreadPoolExecutor(1)},  # one tick at a time
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=SHANGHAI)


def sync(sched: BackgroundScheduler, ctx: Context, *, fresh: bool = False) -> list[str]:
    """Make the stored jobs match the deadline data; `fresh` empties the job store first."""
    floor = max(ctx.today, local_date(ctx.wall.now()))  # a fixed CAMPAIGN_NOW plans nothing in the past
    wanted = {f"deadline:{d.isoformat()}": d for d in wake_days(ctx) if d > floor}
    if fresh:
        sched.remove_all_jobs()
    have = {j.id for j in sched.get_jobs()}
    for jid in have - set(wanted) - {"resync"}:
        sched.remove_job(jid)
    for jid, day in wanted.items():
        if jid not in have:
            sched.add_job("workflow.scheduling.scheduler:run_due", "date", id=jid, args=[day.isoformat()],
                          run_date=datetime.combine(day, ALERT_TIME, SHANGHAI), replace_existing=True)
    if "resync" not in have:
        sched.add_job("workflow.scheduling.scheduler:resync", "interval", id="resync", minutes=RESYNC_MINUTES,
                      replace_existing=True)
    return sorted(wanted)


def _summary(result: dict[str, Any], label: str) -> str:
    kinds = "，".join(f"{k} {n}" for k, n in sorted(result["by_kind"].items())) or "无新通知"
    closed = f"；年终关闭 {result['closed']} 家" if result["closed"] else ""
    return f"{label}（截至 {result['as_of']}）：新通知 {result['created']} 条（{kinds}）{closed}"


def _standby(lock: schedlock.PgLock | schedlock.FileLock, stop: threading.Event, poll: float,
             echo: Callable[[str], None]) -> bool:
    if lock.try_acquire():
        return True
    if isinstance(lock, schedlock.FileLock):
        schedlock.refuse_second(lock)
    said = None
    while True:
        why = ("数据库服务器不可达" if getattr(lock, "unreachable", False) else "另一个调度器持有锁")
        if why != said:
            echo(f"备用 (standby)：{why}，每 {poll:g} 秒重试（{lock.where}）")
            said = why
        if stop.wait(poll):
            return False
        if lock.try_acquire():
            return True


def run(ctx: Context, *, stop: threading.Event, poll: float, echo: Callable[[str], None]) -> None:
    """Hold the lock (or wait for it), catch up, schedule, run until `stop` is set."""
    lock = schedlock.for_engine(ctx.engine)
    while not stop.is_set():
        if not _standby(lock, stop, poll, echo):
            return
        echo(f"调度器运行中 (active; {lock.where})")
        sched = build(ctx)
        _RUNTIME.update(ctx=ctx, scheduler=sched, echo=echo)
        try:
            echo(_summary(tick(ctx), "启动补发 (catch-up)"))
            sched.start(paused=True)
            planned = sync(sched, ctx, fresh=True)
            sched.resume()
            echo(f"已按截止日数据重建计划任务 {len(planned)} 个 (jobs rebuilt from the deadline data)")
            while not stop.wait(poll):
                if not lock.alive():
                    echo("失去调度锁，停止计划任务并转为备用 (lost the lock; standing by)")
                    break
        except OperationalError as exc:  # the server went away mid-work: the transaction rolled back; redo it
            echo(f"数据库连接中断，转为备用后重做 (database connection lost: {str(exc).splitlines()[0][:160]})")
        finally:
            if sched.running:
                sched.shutdown(wait=True)
            _RUNTIME.clear()
            lock.release()
    echo("调度器已停止 (stopped)")
