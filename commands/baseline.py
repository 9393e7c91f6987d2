"""audit baseline: bring an existing database's rows under the audit log (registered in commands/audit.py)."""

from __future__ import annotations

from typing import Any

import click

from commands.common import context, emit_json, json_option


def verified_line(r: dict[str, Any], digest: str | None) -> str:
    """The success line of `audit verify`, naming the baselines it replayed."""
    extra = "，摘要仍在链中" if digest else ""
    if r.get("baselines"):
        extra += f"，含 {r['baselines']} 条基线记录 (baseline entries)"
    return f"审计链完整 (intact)：{r['entries']} 条{extra}"


@click.command("baseline")
@click.option("--reason", required=True, help="Why the rows are taken as they stand (e.g. the upgrade).")
@json_option
def baseline(reason: str, as_json: bool) -> None:
    """province_admin: one `baseline` entry per row the log cannot explain yet, carrying its values."""
    from workflow.services.baseline import baseline as do_baseline
    from workflow.services.queries import verify

    ctx = context()
    r = do_baseline(ctx, reason)
    if as_json:
        emit_json(r)
        return
    if not r["baselines"]:
        click.echo("审计链已能解释全部数据行，无需基线记录 (nothing to baseline)")
        return
    per = "，".join(f"{t} {n}" for t, n in r["tables"].items())
    click.echo(f"已写入 {r['baselines']} 条基线记录（{per}）")
    click.echo(verified_line(verify(ctx), None))


def verify_listing(ctx: Any, digest: str | None, as_json: bool) -> dict[str, Any]:
    """`audit verify`'s result; with --json, rows that differ from the log are listed (all of them, up
    to 10,000) on stdout before exit 3, instead of the one-line error."""
    from workflow.services.queries import verify
    from workflow.store.projection import RowsDiffer

    try:
        return verify(ctx, digest)
    except RowsDiffer as exc:
        if not as_json:
            raise
        emit_json({"ok": False, "differences": exc.total, "breaks": [b.as_dict() for b in exc.breaks]})
        raise click.exceptions.Exit(3) from None
