"""actor add | list | deactivate | declare-conflict | password | unlock | token | token-revoke | tokens."""

from __future__ import annotations

import click

from commands.common import context, emit_json, json_option, table


@click.group()
def actor() -> None:
    """Registered actors (操作人) and their roles."""


@actor.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True,
              help="province_admin, province_reviewer, city_coordinator, city_reviewer, expert "
                   "(repeat for several).")
@click.option("--city", default=None, help="City of a city-level actor.")
def actor_add(name: str, roles: tuple[str, ...], city: str | None) -> None:
    """Register an actor (the first needs no --actor). NAME is kept in one normal form (NFKC, no
    surrounding spaces); invisible or control characters and the scheduler's name 'system' are refused."""
    from workflow.services.actors import add

    r = add(context(), name, roles, city)
    click.echo(f"已登记操作人 {r['name']}（{', '.join(r['roles'])}{'，' + str(r['city']) if r['city'] else ''}）")


@actor.command("list")
@json_option
def actor_list(as_json: bool) -> None:
    """List actors."""
    from workflow.services.actors import listing

    rows = listing(context())
    if as_json:
        emit_json(rows)
        return
    table("操作人 Actors", ["姓名", "角色", "城市", "状态"],
          [[r["name"], ",".join(r["roles"]), r["city"] or "省级", "在用" if r["active"] else "停用"]  # type: ignore[arg-type]
           for r in rows])


@actor.command("deactivate")
@click.argument("name")
def actor_deactivate(name: str) -> None:
    """Deactivate an actor (province_admin); their history stays attributed to them."""
    from workflow.services.access import deactivate

    r = deactivate(context(), name)
    click.echo(f"已停用操作人 {r['name']}，审计 #{r['seq']}")


@actor.command("declare-conflict")
@click.argument("name")
@click.argument("code")
@click.option("--reason", required=True, help="The conflict of interest (利益冲突情况).")
def actor_declare_conflict(name: str, code: str, reason: str) -> None:
    """Declare NAME's conflict of interest with enterprise CODE: NAME may not act on it at all."""
    from workflow.services.access import declare_conflict

    r = declare_conflict(context(), name, code, reason)
    click.echo(f"已申报利益冲突：{r['actor']} 回避企业 {r['code']}（{r['city']}），审计 #{r['seq']}")


@actor.command("password")
@click.argument("name")
@click.option("--stdin", "from_stdin", is_flag=True,
              help="Read the password from the first line of standard input instead of prompting (for scripts).")
def actor_password(name: str, from_stdin: bool) -> None:
    """Set NAME's password for the web workspace (at least 12 characters): the province admin for
    anyone (NAME must change it at first login), or NAME themself (--actor NAME). Prompted twice without
    echo; never printed or recorded. Ends every web session of NAME's."""
    import sys
    import unicodedata

    from workflow.errors import InvalidInput
    from workflow.services.logins import set_password

    ctx = context()
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("新密码 (new password)", hide_input=True, default="", show_default=False)
        again = click.prompt("再次输入 (repeat)", hide_input=True, default="", show_default=False)
        if password != again:
            raise InvalidInput("两次输入的密码不一致，密码未更改 (the passwords differ)")
    set_password(ctx, name, password)
    same = ctx.actor is not None and unicodedata.normalize("NFKC", ctx.actor).strip() == \
        unicodedata.normalize("NFKC", name).strip()
    click.echo(f"已设置本人 {name.strip()} 的登录密码" if same else
               f"已为 {name.strip()} 设置登录密码；其本人首次登录网页工作台时须更改")


@actor.command("unlock")
@click.argument("name")
@click.option("--client", required=True, help="The client address the login of NAME is locked for.")
def actor_unlock(name: str, client: str) -> None:
    """Lift the lock-out of NAME's logins from one client address (province_admin)."""
    from workflow.services.logins import unlock

    unlock(context(), name, client)
    click.echo(f"已解除 {name.strip()} 在地址 {client.strip()} 的登录锁定")


@actor.command("token")
@click.argument("name")
@click.option("--days", type=int, default=90, show_default=True,
              help="How many days the token stays valid (1–366).")
@click.option("--label", default="", help="A note saying what the token is for (e.g. the system using it).")
def actor_token(name: str, days: int, label: str) -> None:
    """Create an API token for NAME (the province admin for anyone, or NAME themself): it acts as NAME
    on the JSON API (/api/, `Authorization: Bearer …`). Printed once, never again; only its SHA-256 is
    stored. Audited; revoke it with `actor token-revoke ID`."""
    from workflow.services.tokens import create

    r = create(context(), name, days=days, label=label)
    click.echo(r.token)
    click.echo(f"已为 {r.name} 创建 API 令牌 #{r.id}{'（' + r.label + '）' if r.label else ''}，"
               f"有效期至 {r.expires_at}，审计 #{r.seq}。令牌只显示这一次，请妥善保存。", err=True)


@actor.command("token-revoke")
@click.argument("token_id", type=int, metavar="ID")
def actor_token_revoke(token_id: int) -> None:
    """Revoke API token ID (its person, or the province admin): it stops working at once."""
    from workflow.services.tokens import revoke

    r = revoke(context(), token_id)
    click.echo(f"已吊销 {r.name} 的 API 令牌 #{r.id}，审计 #{r.seq}")


@actor.command("tokens")
@click.option("--name", default=None, help="Only this person's tokens (default: all for the province "
                                           "admin, one's own for anyone else).")
@json_option
def actor_tokens(name: str | None, as_json: bool) -> None:
    """List API tokens: id, person, note, created, expiry, last use and status (never the token)."""
    import dataclasses

    from workflow.services.tokens import STATUS_ZH, listing

    rows = listing(context(), name)
    if as_json:
        emit_json([dataclasses.asdict(r) for r in rows])
        return
    if not rows:
        click.echo("没有 API 令牌 (no tokens)")
        return
    table("API 令牌 (tokens)", ["#", "操作人", "备注", "创建", "有效期至", "最近使用", "状态"],
          [[r.id, r.name, r.label, r.created_at[:16], r.expires_at[:16], (r.last_used_at or "")[:16],
            STATUS_ZH[r.status]] for r in rows])
