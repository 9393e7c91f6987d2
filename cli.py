"""The `campaign` command line: parse, call one service, print. Errors become exit codes here.

Heavy modules (SQLAlchemy, transitions, Jinja2, APScheduler) are imported only
inside commands, so `campaign --help` stays fast.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

import click

from commands import COMMANDS
from commands.common import one_line


class LazyGroup(click.Group):
    """Imports a subcommand's module only when that subcommand (or --help) needs it."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(n for n in COMMANDS if self.get_command(ctx, n) is not None)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name == module:  # a command area not built yet
                return None
            raise
        cmd = getattr(mod, attr, None)
        return cmd if isinstance(cmd, click.Command) else None

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:  # the root's own options: one line, like every other error
            if isinstance(exc, _HELP_ERRORS):
                raise
            _fail(ctx, *usage(exc))
            raise  # not reached: _fail exits

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort):
            raise
        except click.UsageError as exc:
            if isinstance(exc, _HELP_ERRORS):
                raise
            _fail(ctx, *usage(exc))
        except click.ClickException:
            raise
        except Exception as exc:
            code, message = describe(exc)
            if os.environ.get("CAMPAIGN_DEBUG"):
                raise
            _fail(ctx, code, message)


_HELP_ERRORS = tuple(t for t in (getattr(click.exceptions, "NoArgsIsHelpError", None),) if t is not None)


def _fail(ctx: click.Context, code: int, message: str) -> None:
    """The one error line on stderr, then exit."""
    click.echo(f"错误 Error: {one_line(message)}", err=True)
    ctx.exit(code)


def usage(exc: click.UsageError) -> tuple[int, str]:
    """A click usage error as (exit code, one line) instead of click's usage block: exit 2; a path
    that is not usable (a directory given as a file, a missing file) is invalid input, exit 1."""
    message = exc.format_message()
    if (isinstance(exc, click.BadParameter) and not isinstance(exc, click.MissingParameter)
            and isinstance(getattr(exc.param, "type", None), click.Path)):
        return 1, f"路径不可用：{message} (unusable path)"
    where = exc.ctx.command_path if exc.ctx is not None else "campaign"
    return 2, f"{message}（用法见 {where} --help；usage error)"


DB_ERRORS = {"OperationalError", "DatabaseError", "InterfaceError", "ProgrammingError", "IntegrityError",
             "DataError", "NotSupportedError", "InternalError"}


def _database_error(text: str) -> str:
    """One line for a database-level failure: what happened and what to do; nothing was written."""
    low = text.lower()
    if "readonly" in low or "read-only" in low:
        return f"数据库为只读，无法写入：{text} (read-only database; nothing was written)"
    if "locked" in low or "busy" in low:
        return "数据库正忙，请稍后重试 (database busy; nothing was written)"
    if "disk" in low and "full" in low:
        return f"磁盘已满：{text} (nothing was written)"
    if "permission denied" in low or "insufficientprivilege" in low or "row-level security" in low:
        return (f"数据库拒绝了当前登录的操作：{text}（个人数据库登录只读；写入须经引擎的服务登录，"
                "由服务器管理员执行，或通过网页/接口；permission denied; nothing was written)")
    if "no such table" in low or ("relation" in low and "does not exist" in low):
        return "数据库尚未初始化或结构过旧：请先运行 campaign init 或 campaign db upgrade (schema missing)"
    if "connection" in low and ("refused" in low or "failed" in low or "closed" in low or "terminat" in low):
        return f"无法连接数据库，请检查服务器是否运行及 --db 地址：{text} (connection failed; nothing was written)"
    return f"数据库错误：{text} (database error; nothing was written)"


def describe(exc: BaseException) -> tuple[int, str]:
    """Map an exception to (exit code, one line)."""
    from models.db import DatabaseUnusable
    from workflow.errors import CampaignError

    if isinstance(exc, CampaignError | DatabaseUnusable):
        return getattr(exc, "exit_code", 1), str(exc)
    name = type(exc).__name__
    text = str(exc).splitlines()[0] if str(exc) else name
    if name in DB_ERRORS:
        return 1, _database_error(text)
    if isinstance(exc, OverflowError):
        return 1, f"数值超出范围：{text} (number out of range; nothing was written)"
    if isinstance(exc, OSError):
        return 1, f"文件错误：{exc}"
    return 1, f"内部错误 {name}: {text}（设置 CAMPAIGN_DEBUG=1 查看详情）"


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", envvar="CAMPAIGN_DB", default="campaign.db", show_default=True,
              help="SQLAlchemy URL or SQLite path (env CAMPAIGN_DB).")
@click.option("--actor", envvar="CAMPAIGN_ACTOR", default=None,
              help="Who acts (env CAMPAIGN_ACTOR).")
@click.option("--campaign", "year", type=int, default=None,
              help="Campaign year (default: the current one).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
              help="Configuration file (default: ./campaign.toml if present).")
@click.pass_context
def main(ctx: click.Context, db: str, actor: str | None, year: int | None,
         config_file: str | None) -> None:
    """创A晋B行动 — campaign engine for heavy-pollution-weather performance grading."""
    ctx.obj = {"db": db, "actor": actor, "year": year, "config": config_file}


if __name__ == "__main__":
    main()
