"""What every command shares: the one bootstrap of the service context, JSON and table output.

Commands import this module, never `cli` (which loads the commands): the arrows point from the
click root to the commands, and from the commands to the services.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from workflow.config import Settings
    from workflow.context import Context


def context(click_ctx: click.Context | None = None, *, simulating: bool = False) -> Context:
    """Build the service context once per command (the one bootstrap). `simulating`: the command makes
    the database a simulation (`init --simulation`, `demo`), so CAMPAIGN_NOW is left to it to judge."""
    c = click_ctx or click.get_current_context()
    root = c.find_root()
    obj = root.obj
    if "context" not in obj:
        from models.db import make_engine
        from workflow.clock import parse_instant
        from workflow.context import Context
        from workflow.store.simulation import clocks

        conf = settings(c)
        db = obj["db"]
        if root.get_parameter_source("db") == click.core.ParameterSource.DEFAULT:
            db = conf.get("CAMPAIGN_DB", db)
        env_now = conf.now
        if env_now:
            parse_instant(env_now)  # a malformed CAMPAIGN_NOW is named before the database is opened
        engine = make_engine(db)
        _refuse_missing_file(engine, c.command_path.partition(" ")[2])
        root.call_on_close(engine.dispose)
        clock, wall, simulation = clocks(engine, env_now, making=simulating)  # real database: real time
        obj["context"] = Context(engine=engine, clock=clock, wall=wall, actor=obj["actor"], year=obj["year"],
                                 simulation=simulation, clock_override=env_now is not None, settings=conf)
    ctx_obj: Context = obj["context"]
    return ctx_obj


def settings(click_ctx: click.Context | None = None) -> Settings:
    """The run's settings, read once: the environment (never written) over the config file. Commands
    that open no database (`notices preview`) take them from here; the others from `context()`."""
    root = (click_ctx or click.get_current_context()).find_root()
    if "settings" not in root.obj:
        from pathlib import Path

        from workflow import config

        root.obj["settings"] = config.layered(config.load(root.obj["config"], cwd=Path.cwd()), os.environ)
    conf: Settings = root.obj["settings"]
    return conf


# init, demo and db upgrade create a new SQLite file; workdays and calendar fall back to the shipped one.
MAY_LACK_FILE = ("init", "demo", "db upgrade", "workdays", "calendar")


def _refuse_missing_file(engine: Any, command: str) -> None:
    """A mistyped --db must not leave an empty SQLite file behind."""
    from pathlib import Path

    from workflow.errors import NotFound

    name = engine.url.database if engine.dialect.name == "sqlite" else None
    if not name or name == ":memory:" or engine.url.query.get("mode") or command.startswith(MAY_LACK_FILE):
        return
    if not Path(name).exists():
        engine.dispose()
        raise NotFound(f"数据库文件 {name} 不存在：请检查 --db / CAMPAIGN_DB，或先运行 campaign init "
                       "(no such database file)")


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON only.")


def batch_report(ok: bool, outcomes: list[Any], as_json: bool, applied: str) -> None:
    """How `advance --file` and `assign --file` report: every row (refused ones on stderr; all when
    50 or fewer), a summary, exit 1 when anything was refused (then nothing was written)."""
    if as_json:
        emit_json({"ok": ok, "rows": [o.__dict__ for o in outcomes]})
    else:
        for o in outcomes:
            if not o.ok or len(outcomes) <= 50:
                click.echo(f"第 {o.line} 行 {'✓' if o.ok else '✗'} {o.code} {o.event}: {o.message}", err=not o.ok)
    if not ok:
        bad = sum(1 for o in outcomes if not o.ok)
        click.echo(f"错误 Error: {bad} 行被拒绝，整批未执行；改正后重新提交 (batch rolled back)", err=True)
        click.get_current_context().exit(1)
    if not as_json:
        click.echo(f"已执行 {len(outcomes)} {applied} (applied)")


def table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    """A terminal table (rich), readable on 80 columns."""
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title, show_lines=False)
    for col in columns:
        t.add_column(col, overflow="fold")
    for row in rows:
        t.add_row(*["" if v is None else str(v) for v in row])
    Console(width=max(80, min(160, _term_width()))).print(t)


def _term_width() -> int:
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns
    except OSError:
        return 100


def one_line(text: str) -> str:
    """`text` with control, zero-width and line-break characters escaped as in repr (\\n, \\u200b):
    user input quoted in a message can neither break the line nor hide in it."""
    import unicodedata

    return "".join(ch.encode("unicode_escape").decode("ascii")
                   if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text)
