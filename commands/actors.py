"""actor add | list | deactivate | declare-conflict | password | unlock."""

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
