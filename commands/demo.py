"""demo: a whole campaign year on a synthetic province."""

from __future__ import annotations

from typing import Any

import click

from commands.common import context


@click.command()
@click.option("--enterprises", "n", type=int, default=6000, show_default=True,
              help="How many synthetic enterprises the province has.")
@click.option("--seed", type=int, default=2024, show_default=True, help="Random seed: the same seed, the same year.")
@click.option("--workspace", "workspace", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Also keep a copy of the database as it stood that day (workspace.db), with one "
                   "login per role, for `campaign serve` (make demo uses 2024-10-09).")
def demo(n: int, seed: int, workspace: Any) -> None:
    """Build a synthetic province and run the 2024 campaign year day by day.

    Ends as a coordinator would: where every phase stands, the audit chain verified,
    the dashboard page written to dashboard/, and the targets report.
    """
    from pathlib import Path

    from commands.audit import audit_verify
    from commands.lifecycle import status
    from commands.reports import html, targets
    from workflow.demo.year import run_demo

    ctx = context()
    result = run_demo(ctx, Path.cwd(), n=n, seed=seed, echo=click.echo,
                      workspace=workspace.date() if workspace else None)
    here = click.get_current_context()
    click.echo("\n== 各阶段分布 (campaign status) ==")
    here.invoke(status, as_json=False)
    click.echo("\n== 审计链校验 (campaign audit verify) ==")
    here.invoke(audit_verify, digest=None, as_json=False)
    click.echo("\n== 态势页面 (campaign report html --out dashboard) ==")
    here.invoke(html, out="dashboard")
    click.echo("\n== 目标完成情况 (campaign report targets) ==")
    here.invoke(targets, city=None, as_json=False, xlsx=None)
    ws = result["workspace"]
    if workspace and ws is None:
        click.echo("\n（工作台副本仅在 SQLite 上生成 (the workspace copy needs SQLite)）")
    elif ws:
        click.echo(f"\n== 工作台 (campaign serve) ==\n数据库副本：{ws['db']}，时钟停在 {ws['now']}")
        click.echo(f"演示登录（密码均为 {ws['password']}）：")
        for role, name in ws["logins"]:
            click.echo(f"  {role}：{name}")
