"""db upgrade | current | check | provision | grant (migrations, data check, PostgreSQL roles and RLS)."""

from __future__ import annotations

import click

from commands.common import context, emit_json, json_option, table


@click.group()
def db() -> None:
    """The database itself: schema migrations, roles and row-level security (PostgreSQL)."""


@db.command("upgrade")
@json_option
def db_upgrade(as_json: bool) -> None:
    """Apply every pending schema migration (Alembic); safe to re-run. `init` does this too."""
    from models import migrate

    engine = context().engine
    before = migrate.current(engine)
    applied = migrate.pending(engine)
    migrate.upgrade(engine)
    after = migrate.current(engine)
    if as_json:
        emit_json({"from": before, "to": after, "applied": applied})
        return
    if applied:
        click.echo(f"数据库结构已升级 (upgraded)：{before or '空库'} → {after}，应用迁移 {', '.join(applied)}")
    else:
        click.echo(f"数据库结构已是最新 (up to date)：{after}")


@db.command("current")
@json_option
def db_current(as_json: bool) -> None:
    """Show the database's schema revision, the newest one this release knows and what is pending."""
    from models import migrate

    engine = context().engine
    at, head, todo = migrate.current(engine), migrate.head(), migrate.pending(engine)
    if as_json:
        emit_json({"current": at, "head": head, "pending": todo})
        return
    click.echo(f"当前结构版本 (current)：{at or '未初始化'}；最新 (head)：{head}")
    if todo:
        click.echo(f"待应用迁移 (pending)：{', '.join(todo)}；运行 campaign db upgrade")


@db.command("provision")
@json_option
def db_provision(as_json: bool) -> None:
    """Make the database safe to share (PostgreSQL; re-run after every upgrade): read-only group roles
    for person logins, row-level security by city on every table holding city data, and triggers
    that check the engine's own writes (audit entry role, audit entry with every state change)."""
    from workflow.store.provision import provision

    r = provision(context())
    if as_json:
        emit_json(r)
        return
    click.echo(f"已配置只读角色 {', '.join(r['roles'])}（个人登录只读，写入只经引擎的服务登录）；"
               f"按城市行级安全：{', '.join(r['row_level_security'])}；全体可读：{', '.join(r['shared'])}；"
               f"个人登录不可读：{', '.join(r['no_access']) or '无'}；数据库检查：{', '.join(r['checks'])}")


@db.command("grant")
@click.argument("login")
@click.option("--city", default=None, help="City of a city-level login.")
@click.option("--role", required=True,
              help="city_coordinator, city_reviewer, expert (city group) or province_admin, province_reviewer.")
@click.option("--actor", "actor_name", default=None,
              help="The actor the login belongs to (default: LOGIN); it sets the login's city.")
@json_option
def db_grant(login: str, city: str | None, role: str, actor_name: str | None, as_json: bool) -> None:
    """Give a person a READ-ONLY database login for analysis, scoped to their actor's city (province
    roles: every city), creating the login role if needed (no password is set). Person logins write
    nothing: the engine writes with its service login."""
    from workflow.store.provision import grant

    r = grant(context(), login, city=city, role=role, actor=actor_name)
    if as_json:
        emit_json(r)
        return
    click.echo(f"只读数据库登录 {r['login']} → 操作人 {r['actor']}（{r['role']}，{r['group']}"
               f"{'，仅 ' + r['city'] if r['city'] else '，全省'}），审计 #{r['seq']}")


@db.command("check")
@json_option
def db_check(as_json: bool) -> None:
    """Report enterprise rows today's rules would refuse (unknown industry, grade without 评级文件文号 …);
    nothing is rewritten. Exit 1 when something is reported."""
    from workflow.services.db_check import check

    r = check(context())
    if as_json:
        emit_json(r)
    else:
        for p in r["problems"]:
            table(f"{p['zh']}（{len(p['rows'])} 家）", ["代码", "名称", "城市", "行业", "等级"],
                  [[x["code"], x["name"], x["city"], x["industry"], x["grade"]] for x in p["rows"]])
            click.echo(f"更正 (fix)：{p['fix']}")
        if not r["problems"]:
            click.echo(f"数据检查通过 (clean)：{r['enterprises']} 家企业均符合 {r['year']} 年行动的规则")
    if r["problems"]:
        parts = "，".join(f"{p['zh']} {len(p['rows'])} 家" for p in r["problems"])
        click.echo(f"数据检查发现 {r['total']} 处问题：{parts}；未作任何修改 (issues found, nothing changed)",
                   err=True)
        click.get_current_context().exit(1)
