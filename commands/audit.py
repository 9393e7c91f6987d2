"""audit verify | digest | actors | log."""

from __future__ import annotations

import click

from cli import context, emit_json, json_option, table


@click.group()
def audit() -> None:
    """The append-only, hash-chained audit log (审计日志)."""


@audit.command("verify")
@click.option("--digest", default=None, help="A digest taken earlier by `audit digest`.")
@json_option
def audit_verify(digest: str | None, as_json: bool) -> None:
    """Recompute every hash; exit 3 naming the first broken entry."""
    from workflow.queries import verify

    r = verify(context(), digest)
    if as_json:
        emit_json(r)
        return
    extra = "，摘要仍在链中" if digest else ""
    click.echo(f"审计链完整 (intact)：{r['entries']} 条{extra}")


@audit.command("digest")
@json_option
def audit_digest(as_json: bool) -> None:
    """One digest of the whole log (the hex digest alone on the last line)."""
    from workflow.queries import digest

    r = digest(context())
    if as_json:
        emit_json(r)
        return
    click.echo(f"审计条目 {r['entries']} 条；摘要 (digest)：")
    click.echo(r["digest"])


@audit.command("actors")
@click.argument("code")
@json_option
def audit_actors(code: str, as_json: bool) -> None:
    """The accountability record: who acted on CODE in this campaign, with what and when."""
    from workflow.accountability import accountability

    r = accountability(context(), code)
    if as_json:
        emit_json(r)
        return
    d = r["disqualified"]
    if d:
        click.echo(f"{r['code']} 已于 {d['at'][:10]} 被 {d['actor']} 取消评级资格：{d['reason']}（审计 #{d['seq']}）")
    table(f"{r['code']}：{r['year']} 年行动的经办人员 (accountability)", ["操作人", "角色", "#", "操作", "时间"],
          [[a["actor"] if i == 0 else "", ", ".join(a["roles"]) if i == 0 else "", x["seq"], x["event"],
            x["at"][:16]] for a in r["actors"] for i, x in enumerate(a["actions"])])


@audit.command("log")
@click.option("--actor", "who", default=None, help="Only this actor's entries.")
@click.option("--city", default=None, help="Only this city's entries.")
@click.option("--code", default=None, help="Only this enterprise's entries.")
@click.option("--event", default=None, help="Only this event (e.g. pass_acceptance, spot_check).")
@click.option("--since", default=None, help="From this day (YYYY-MM-DD, inclusive).")
@click.option("--until", default=None, help="Up to this day (YYYY-MM-DD, inclusive).")
@json_option
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False), default=None, help="Write an XLSX file.")
def audit_log(who: str | None, city: str | None, code: str | None, event: str | None, since: str | None,
              until: str | None, as_json: bool, xlsx: str | None) -> None:
    """Audit entries for the discipline inspection (纪检), filtered."""
    from workflow.accountability import log

    if as_json and xlsx:
        raise click.UsageError("--json 与 --xlsx 只能选一个")
    if xlsx:
        from workflow.writers import check_out

        check_out(xlsx, "--xlsx")  # before the query: a bad path is named as the option the user gave
    rows = log(context(), actor=who, city=city, code=code, event=event, since=since, until=until)
    if as_json:
        emit_json(rows)
        return
    if xlsx:
        from workflow.accountability import write_xlsx

        path = write_xlsx(rows, xlsx)
        click.echo(f"已写出 {len(rows)} 条审计记录：{path}")
        return
    table(f"审计日志 Audit log（{len(rows)} 条）", ["#", "时间", "操作人", "角色", "事件", "企业", "城市", "理由"],
          [[r["seq"], r["effective_at"][:16], r["actor"], r["role"], r["event"], r["code"], r["city"], r["reason"]]
           for r in rows])
