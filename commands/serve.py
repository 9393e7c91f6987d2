"""campaign serve: the web workspace (web/) under uvicorn, optionally with the deadline scheduler."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import click

from commands.common import context

if TYPE_CHECKING:
    from litestar import Litestar

    from workflow.context import Context

# What the worker processes of `--workers N` read to build the same context as the parent.
ENV_DB, ENV_YEAR, ENV_CONFIG = "CAMPAIGN_SERVE_DB", "CAMPAIGN_SERVE_YEAR", "CAMPAIGN_SERVE_CONFIG"
SECRET = "CAMPAIGN_WEB_SECRET"


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface; put HTTPS in front).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes; above 1 needs PostgreSQL.")
@click.option("--scheduler", "with_scheduler", is_flag=True,
              help="Also run the deadline scheduler in this process (one per database, under its lock).")
def serve(host: str, port: int, workers: int, with_scheduler: bool) -> None:
    """Serve the web workspace on the configured database until Ctrl-C."""
    import secrets
    import threading

    import uvicorn

    ctx = context()
    if workers > 1 and ctx.engine.dialect.name == "sqlite":
        raise click.UsageError("SQLite 只支持单个工作进程：--workers 大于 1 时请使用 PostgreSQL 数据库"
                               "（SQLite allows one worker）")
    if not os.environ.get(SECRET) and not ctx.settings.get(SECRET):
        os.environ[SECRET] = secrets.token_hex(32)  # one CSRF key for every worker of this server
    secret = os.environ.get(SECRET) or ctx.settings.get(SECRET)
    stop = threading.Event()
    thread = _scheduler_thread(ctx, stop) if with_scheduler else None
    mark = "【模拟 SIMULATION】" if ctx.simulation else ""
    click.echo(f"{mark}工作台：http://{host}:{port}/ （{workers} 个工作进程"
               f"{'，含截止日调度器' if with_scheduler else ''}；Ctrl-C 停止）")
    try:
        if workers == 1:
            from web.app import create_app

            uvicorn.run(create_app(lambda: ctx, secret=secret), host=host, port=port, log_level="info",
                        timeout_graceful_shutdown=5)
        else:
            root = click.get_current_context().find_root()
            os.environ[ENV_DB] = ctx.engine.url.render_as_string(hide_password=False)
            os.environ[ENV_YEAR] = "" if root.obj.get("year") is None else str(root.obj["year"])
            os.environ[ENV_CONFIG] = root.obj.get("config") or ""
            uvicorn.run("commands.serve:worker_app", factory=True, host=host, port=port, workers=workers,
                        log_level="info", timeout_graceful_shutdown=5)
    finally:
        stop.set()
        if thread is not None:
            thread.join(timeout=30)


def _scheduler_thread(ctx: Context, stop: Any) -> Any:
    """The scheduler of `campaign scheduler run`, in a thread of this (the parent) process only."""
    import threading

    from workflow.scheduling.scheduler import run

    def echo(line: str) -> None:
        click.echo(f"调度器：{line}", err=True)

    def main() -> None:
        try:
            run(ctx, stop=stop, poll=5.0, echo=echo)
        except Exception as exc:  # e.g. another scheduler holds the SQLite lock: the workspace keeps serving
            echo(f"未能运行 (not running)：{exc}")

    thread = threading.Thread(target=main, name="campaign-scheduler", daemon=True)
    thread.start()
    return thread


def worker_app() -> Litestar:
    """uvicorn's factory for each worker process of `--workers N`: the parent's database, campaign and
    configuration (from the environment it set), the same bootstrap, the same CSRF key."""
    from web.app import create_app

    year = os.environ.get(ENV_YEAR) or None
    ctx = bootstrap(os.environ[ENV_DB], year=int(year) if year else None, config=os.environ.get(ENV_CONFIG) or None)
    return create_app(lambda: ctx, secret=os.environ.get(SECRET))


def bootstrap(db: str, *, year: int | None = None, config: str | None = None) -> Context:
    """The server's base context outside a command line (a worker process, a test): the one bootstrap
    (commands.common.context) on `db`, with the settings of the environment and `config`."""
    return context(click.Context(serve, info_name="campaign serve",
                                 obj={"db": db, "actor": None, "year": year, "config": config}))
