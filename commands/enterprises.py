"""enterprise add | update | correct-grade | import | list | show."""

from __future__ import annotations

import sys

import click

from commands.common import context, emit_json, json_option, table


@click.group()
def enterprise() -> None:
    """Enterprise master data (企业信息)."""


@enterprise.command("add")
@click.option("--code", required=True, help="统一社会信用代码 (18 characters).")
@click.option("--name", required=True, help="企业名称.")
@click.option("--city", required=True, help="所属城市, e.g. 许昌市.")
@click.option("--industry", required=True, help="行业: one of the calendar's industries (钢铁 … 磨料磨具, 其他).")
@click.option("--industry-detail", default="", help="行业细分: the enterprise's own wording, e.g. 陶瓷.")
@click.option("--grade", required=True, help="现绩效等级: 未评级 D C B- B A 非引领性 引领性.")
@click.option("--rating-doc", default="", help="评级文件文号 of the grade (required unless 未评级).")
@click.option("--county", default="", help="区县.")
@click.option("--ule", default="", help="超低排放: not_started in_progress completed publicized.")
@click.option("--ule-ref", default="", help="超低排放公示文号 or URL (with --ule publicized).")
@click.option("--ule-date", default="", help="超低排放公示日期 YYYY-MM-DD (with --ule publicized).")
@click.option("--livelihood", is_flag=True, help="民生保障类.")
def enterprise_add(livelihood: bool, **fields: str) -> None:
    """Register one enterprise."""
    from workflow.services.enterprises import add

    r = add(context(), {**fields, "livelihood": "1" if livelihood else "0"})
    industry = r["industry"] + (f"（{r['industry_detail']}）" if r["industry_detail"] else "")
    click.echo(f"已登记 {r['code']} {r['name']}（{r['city']}，{industry}，{r['grade']}）")
    for warning in r["warnings"]:
        click.echo(f"警告 Warning: {warning}", err=True)


@enterprise.command("update")
@click.argument("code")
@click.option("--name", help="New 企业名称.")
@click.option("--county", help="New 区县.")
@click.option("--industry", help="行业: one of the calendar's industries.")
@click.option("--industry-detail", help="行业细分.")
@click.option("--grade", help="Refused: a grade changes only through the process or correct-grade.")
@click.option("--ule", help="超低排放: not_started in_progress completed publicized.")
@click.option("--ule-ref", help="超低排放公示文号 or URL (required with --ule publicized).")
@click.option("--ule-date", help="超低排放公示日期 YYYY-MM-DD (required with --ule publicized).")
@click.option("--livelihood", type=click.Choice(["yes", "no"]), help="民生保障类: yes or no.")
def enterprise_update(code: str, **fields: str | None) -> None:
    """Change master data (audited). ULE publicized: city reviewer or province only."""
    from workflow.services.enterprises import update_master

    changes = {k: v for k, v in fields.items() if v is not None}
    r = update_master(context(), code, changes)
    parts = "，".join(f"{k}: {a} → {b}" for k, (a, b) in r["changed"].items())
    click.echo(f"已更新 {r['code']}：{parts}")


@enterprise.command("correct-grade")
@click.argument("code")
@click.option("--grade", required=True, help="The corrected grade, on the industry's scale.")
@click.option("--reason", required=True, help="Why the recorded grade was wrong.")
@click.option("--rating-doc", required=True, help="评级文件文号 of the corrected grade.")
@json_option
def enterprise_correct_grade(code: str, grade: str, reason: str, rating_doc: str, as_json: bool) -> None:
    """Province correction of a wrongly recorded grade (grade_correction), audited; never during an
    open participation."""
    from workflow.services.corrections import correct_grade

    r = correct_grade(context(), code, grade, reason=reason, rating_doc=rating_doc)
    if as_json:
        emit_json(r)
        return
    click.echo(f"已更正 {r['code']} 绩效等级：{r['from']} → {r['to']}（评级文件文号 {r['rating_doc']}；"
               f"理由：{r['reason']}），审计 #{r['seq']}")


_SHOWN = 200  # bad rows listed one per line; the rest are counted


@enterprise.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
def enterprise_import(file: str) -> None:
    """Import CSV or XLSX, all or nothing (Chinese or English headers)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from workflow.services.enterprises import import_file

    with Progress(SpinnerColumn(), TextColumn("{task.description} {task.completed} 行"),
                  transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("导入中", total=None)
        ok, outcomes = import_file(context(), file, progress=lambda n: bar.advance(task, n))
    if not ok:
        from commands.common import one_line

        bad = [o for o in outcomes if not o.ok]
        shown = bad[:_SHOWN]
        click.echo(f"错误 Error: {len(bad)} 行有误，未导入任何企业；以下逐行列出"
                   f"{'' if len(shown) == len(bad) else f'前 {len(shown)} 行'}，改正后重新导入 "
                   "(nothing imported; one line per bad row follows)", err=True)
        for o in shown:
            click.echo(f"第 {o.line} 行：{one_line(o.message)}", err=True)
        if len(bad) > len(shown):
            click.echo(f"……另有 {len(bad) - len(shown)} 行错误", err=True)
        click.get_current_context().exit(1)
    click.echo(f"已导入 {len(outcomes)} 家企业 (imported)")


@enterprise.command("list")
@click.option("--city", default=None, help="Only this city's enterprises, e.g. 许昌市.")
@click.option("--state", default=None, help="Only this state, e.g. tracking or 跟踪评估.")
@click.option("--limit", type=int, default=None, help="At most this many rows (1 or more).")
@json_option
def enterprise_list(city: str | None, state: str | None, limit: int | None, as_json: bool) -> None:
    """List enterprises with their state in the current campaign."""
    from workflow.services.enterprises import listing

    rows = list(listing(context(), city=city, state=state, limit=limit))
    if as_json:
        emit_json(rows)
        return
    table(f"企业 Enterprises（{len(rows)}）", ["代码", "名称", "城市", "行业", "行业细分", "等级", "状态"],
          [[r["code"], r["name"], r["city"], r["industry"], r["industry_detail"], r["grade"],
            r["state"] or "—"] for r in rows])


@enterprise.command("show")
@click.argument("code")
@json_option
def enterprise_show(code: str, as_json: bool) -> None:
    """One enterprise and its participation."""
    from workflow.services.enterprises import show

    r = show(context(), code)
    if as_json:
        emit_json(r)
        return
    for k, v in r.items():
        click.echo(f"{k}: {'' if v is None else v}")
