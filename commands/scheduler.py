"""scheduler run, scheduler tick, scheduler plan."""

from __future__ import annotations

import click

from commands.common import context, emit_json, json_option, table


@click.group()
def scheduler() -> None:
    """Deadline alerts, exactly once: the daemon (run) or one pass (tick)."""


@scheduler.command("run")
@click.option("--poll", type=float, default=5.0, show_default=True,
              help="Seconds between lock checks (a standby retries this often).")
def scheduler_run(poll: float) -> None:
    """Run in the foreground until SIGTERM or SIGINT (one active scheduler per database)."""
    import logging
    import signal
    import threading

    from workflow.scheduling.scheduler import run

    if poll <= 0:
        raise click.BadParameter("应为正数", param_hint="--poll")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        click.echo(f"收到信号 {signal.Signals(signum).name}，正在停止 (stopping)", err=True)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        run(context(), stop=stop, poll=poll, echo=click.echo)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@scheduler.command("tick")
@click.option("--no-deliver", is_flag=True, help="Record the notices but leave delivery for later.")
@json_option
def scheduler_tick(no_deliver: bool, as_json: bool) -> None:
    """Do all the work due as of the campaign clock (CAMPAIGN_NOW) once, and exit."""
    from workflow.scheduling.tick import tick

    r = tick(context(), send=not no_deliver)
    if as_json:
        emit_json(r)
        return
    kinds = "，".join(f"{k} {n}" for k, n in sorted(r["by_kind"].items())) or "无"
    click.echo(f"截至 {r['as_of']}：新通知 {r['created']} 条（{kinds}）")
    if r["closed"] or r["close_refused"]:
        click.echo(f"年终关闭 {r['closed']} 家 (not_achieved)")
    for line in r["close_refused"]:
        click.echo(f"未能关闭：{line}", err=True)
    if r["delivery"] and r["delivery"].get("error"):
        click.echo(f"投递失败，将重试 (delivery failed, will retry)：{r['delivery']['error']}", err=True)


@scheduler.command("plan")
@json_option
def scheduler_plan(as_json: bool) -> None:
    """The days on which alerts (or the year-end close) fall due from now on."""
    from workflow.scheduling.tick import wake_days

    days = [d.isoformat() for d in wake_days(context())]
    if as_json:
        emit_json(days)
        return
    table("计划提醒日 (alert days)", ["日期"], [[d] for d in days])
