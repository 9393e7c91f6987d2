"""audit verify | digest | actors | log | logins | keygen | checkpoint | accept-restore."""

from __future__ import annotations

from typing import Any

import click

from commands.baseline import baseline
from commands.common import context, emit_json, json_option, table


@click.group()
def audit() -> None:
    """The append-only, hash-chained audit log (审计日志)."""


@audit.command("verify")
@click.option("--digest", default=None, help="A digest taken earlier by `audit digest`.")
@click.option("--checkpoints", "folder", type=click.Path(), default=None,
              help="A directory of signed checkpoints the log must extend.")
@click.option("--pubkey", "pubkeys", multiple=True, type=click.Path(dir_okay=False),
              help="A public key (KEYFILE.pub) whose signatures count; repeatable.")
@click.option("--files", "check_files", is_flag=True,
              help="Also check that every file an entry names (evidence, filed scans) is present and "
                   "matches its SHA-256.")
@json_option
def audit_verify(digest: str | None, folder: str | None, pubkeys: tuple[str, ...], check_files: bool,
                 as_json: bool) -> None:
    """Recompute every hash and replay the log against every audited table; exit 3 naming the first
    broken entry or differing row, a checkpoint the log does not extend, or (--files) a file that is
    missing or altered."""
    from commands.baseline import verified_line, verify_listing

    if pubkeys and not folder:
        raise click.UsageError("--pubkey 须与 --checkpoints 同用")
    ctx = context()
    r = verify_listing(ctx, digest, as_json)
    if folder:
        from workflow.store import witness

        r = {**r, "witness": witness.verify(ctx, folder, pubkeys)}
    if check_files:
        from workflow.services.evidence import verify_files

        r = {**r, "files": verify_files(ctx)}
    if as_json:
        emit_json(r)
        return
    click.echo(verified_line(r, digest))
    if folder:
        _say_witness(r["witness"])
    if check_files:
        click.echo(f"文件完整 (files intact)：{r['files']['files']} 个文件，{r['files']['references']} 处引用，"
                   "均在且与哈希一致")


def _say_witness(w: dict[str, Any]) -> None:
    last = w["latest"]
    latest = f"；最新为第 {last['size']} 条（{last['file']}，签名 {', '.join(last['signers'])}）" if last else ""
    click.echo(f"检查点 {w['checkpoints']} 个，签名有效，当前日志延续其中 {w['extended']} 个{latest} "
               "(log extends its checkpoints)")
    for r in w["restores"]:
        click.echo(f"已确认的备份恢复 (accepted restore)：{r['text']}")
    if w["superseded"]:
        click.echo(f"被备份恢复取代的检查点 {len(w['superseded'])} 个：{', '.join(w['superseded'])}")


@audit.command("keygen")
@click.argument("keyfile", type=click.Path(dir_okay=False))
@click.option("--name", default=None, help="The key's name in signature lines (default: KEYFILE's stem).")
@json_option
def audit_keygen(keyfile: str, name: str | None, as_json: bool) -> None:
    """Make an Ed25519 checkpoint key pair: KEYFILE (private, mode 0600) and KEYFILE.pub."""
    from pathlib import Path

    from workflow.files.keyfiles import keygen

    r = keygen(keyfile, name or Path(keyfile).stem)
    if as_json:
        emit_json(r)
        return
    click.echo(f"私钥 (private, 0600)：{r['private']}，请离线保管，勿放入数据库")
    click.echo(f"公钥 (public)：{r['public']}")
    click.echo(r["verifier"])


@audit.command("checkpoint")
@click.option("--key", type=click.Path(dir_okay=False), default=None,
              help="The private key file (default: CAMPAIGN_CHECKPOINT_KEY).")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="The witness directory (default: CAMPAIGN_CHECKPOINT_DIR, else checkpoints/).")
@json_option
def audit_checkpoint(key: str | None, out: str | None, as_json: bool) -> None:
    """Sign the log's size and head hash (a signed note); countersign one of the same size in --out."""
    from workflow.errors import InvalidInput
    from workflow.files.keyfiles import settings
    from workflow.store import witness

    ctx = context()
    conf = settings(ctx.home, ctx.settings)
    key = key or (str(conf.key) if conf.key else None)
    if not key:
        raise InvalidInput("请用 --key 或 CAMPAIGN_CHECKPOINT_KEY 指明签名私钥 (no checkpoint key)")
    r = witness.sign(ctx, key, out or conf.dir)
    if as_json:
        emit_json(r)
        return
    what = ("已加签 (countersigned)" if r["countersigned"] else "已签名 (signed)") if r["signed"] \
        else "已有此密钥的签名，未改动 (already signed by this key)"
    click.echo(f"检查点{what}：{r['path']}")
    click.echo(r["note"], nl=False)


@audit.command("accept-restore")
@click.option("--reason", required=True, help="Why and how the database was restored.")
@click.option("--checkpoint", "paths", multiple=True, required=True, type=click.Path(),
              help="A checkpoint the restored log no longer reaches (a file or a directory); repeatable.")
@click.option("--key", "keys", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="A checkpoint private key that signs the acceptance; repeatable.")
@click.option("--pubkey", "pubkeys", multiple=True, type=click.Path(dir_okay=False),
              help="A public key that signed those checkpoints (beyond the --key ones); repeatable.")
@json_option
def audit_accept_restore(reason: str, paths: tuple[str, ...], keys: tuple[str, ...], pubkeys: tuple[str, ...],
                         as_json: bool) -> None:
    """Record that the database was restored from a backup behind its checkpoints (province_admin)."""
    from workflow.services.restore import accept_restore

    r = accept_restore(context(), reason, list(paths), list(keys), list(pubkeys))
    if as_json:
        emit_json(r)
        return
    click.echo(f"已记录备份恢复（审计第 {r['seq']} 条）：第 {r['restored_from']} 条之后的历史被替换，取代第 "
               f"{', '.join(map(str, r['superseded']))} 条的检查点；签名 {', '.join(r['signers'])} "
               "(restore accepted)")


@audit.command("digest")
@json_option
def audit_digest(as_json: bool) -> None:
    """One digest of the whole log (the hex digest alone on the last line)."""
    from workflow.services.queries import digest

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
    from workflow.services.accountability import accountability

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
@click.option("--xlsx", "xlsx", type=click.Path(), default=None, help="Write an XLSX file.")
def audit_log(who: str | None, city: str | None, code: str | None, event: str | None, since: str | None,
              until: str | None, as_json: bool, xlsx: str | None) -> None:
    """Audit entries for the discipline inspection (纪检), filtered."""
    from workflow.services.accountability import log

    if as_json and xlsx:
        raise click.UsageError("--json 与 --xlsx 只能选一个")
    if xlsx:
        from workflow.reports.writers import check_out

        check_out(xlsx, "--xlsx")  # before the query: a bad path is named as the option the user gave
    rows = log(context(), actor=who, city=city, code=code, event=event, since=since, until=until)
    if as_json:
        emit_json(rows)
        return
    if xlsx:
        from workflow.services.accountability import write_xlsx

        path = write_xlsx(rows, xlsx, simulation=context().simulation)
        click.echo(f"已写出 {len(rows)} 条审计记录：{path}")
        return
    table(f"审计日志 Audit log（{len(rows)} 条）", ["#", "时间", "操作人", "角色", "事件", "企业", "城市", "理由"],
          [[r["seq"], r["effective_at"][:16], r["actor"], r["role"], r["event"], r["code"], r["city"], r["reason"]]
           for r in rows])


@audit.command("logins")
@click.option("--name", default=None, help="Only this user name's logins.")
@click.option("--limit", type=click.IntRange(min=1), default=200, show_default=True,
              help="At most this many, newest first.")
@json_option
def audit_logins(name: str | None, limit: int, as_json: bool) -> None:
    """The web workspace's login log (province_admin): logins, failures, lock-outs, logouts, unlocks
    and expired sessions, with time (Asia/Shanghai) and client address, newest first."""
    from dataclasses import asdict

    from workflow.services.logins import OUTCOME_ZH, events

    rows = events(context(), name=name, limit=limit)
    if as_json:
        emit_json([asdict(r) for r in rows])
        return
    table(f"登录记录 Logins（{len(rows)} 条）", ["时间", "用户名", "客户端地址", "结果", "说明"],
          [[r.at[:19].replace("T", " "), r.name, r.client, f"{OUTCOME_ZH.get(r.outcome, r.outcome)} ({r.outcome})",
            r.detail] for r in rows])

audit.add_command(baseline)
