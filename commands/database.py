"""db provision | grant (PostgreSQL roles, row-level security, login → actor)."""

from __future__ import annotations

import click

from cli import context, emit_json, json_option


@click.group()
def db() -> None:
    """The database itself: roles and row-level security (PostgreSQL)."""


@db.command("provision")
@json_option
def db_provision(as_json: bool) -> None:
    """Create group roles, row-level-security policies and audit-table grants (re-runnable)."""
    from workflow.provision import provision

    r = provision(context())
    if as_json:
        emit_json(r)
        return
    click.echo(f"已配置角色 {', '.join(r['roles'])}；行级安全：{', '.join(r['row_level_security'])}；"
               f"仅追加：{', '.join(r['append_only'])}")


@db.command("grant")
@click.argument("login")
@click.option("--city", default=None, help="City of a city-level login.")
@click.option("--role", required=True,
              help="city_coordinator, city_reviewer, expert (city group) or province_admin, province_reviewer.")
@click.option("--actor", "actor_name", default=None, help="The actor the login writes as (default: LOGIN).")
@json_option
def db_grant(login: str, city: str | None, role: str, actor_name: str | None, as_json: bool) -> None:
    """Map a database login to an actor, creating the login role if needed (no password is set)."""
    from workflow.provision import grant

    r = grant(context(), login, city=city, role=role, actor=actor_name)
    if as_json:
        emit_json(r)
        return
    click.echo(f"数据库登录 {r['login']} → 操作人 {r['actor']}（{r['role']}，{r['group']}"
               f"{'，' + r['city'] if r['city'] else ''}），审计 #{r['seq']}")
