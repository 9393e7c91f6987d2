"""export attachment1…5 | equipment record | equipment list."""

from __future__ import annotations

import click

from commands.common import context, emit_json, json_option, table


@click.command()
@click.argument("kind", metavar="attachment{1,2,3,4,5}|positive-list|emission-list")
@click.option("--city", default=None, help="Reporting unit, e.g. 许昌市 (positive-list: default the province).")
@click.option("--all-cities", is_flag=True, help="Province workbook: one sheet per city.")
@click.option("--period", default=None, help="YYYY-MM: 附件4 the evaluation month, 附件5 the report.")
@click.option("--out", "out", required=True, type=click.Path(),
              help="FILE.xlsx (printable) or FILE.csv.")
@json_option
def export(kind: str, city: str | None, all_cities: bool, period: str | None, out: str,
           as_json: bool) -> None:
    """Export one of the plan's five attachments (附件1–5), the 正面清单 (positive-list) or a city's
    修订完善的应急减排清单 (emission-list)."""
    from workflow.errors import InvalidInput
    from workflow.reports.exports import LISTS, attachment, certification_list, normalise_kind
    from workflow.reports.writers import check_out, write

    if city and all_cities:
        raise click.UsageError("--city 与 --all-cities 不能同时使用")
    kind = normalise_kind(kind)
    check_out(out)
    if kind in LISTS:
        if period:
            raise InvalidInput(f"--period 不适用于 {kind}：清单反映导出当日的数据 (no --period for lists)")
        sheets, records = certification_list(context(), kind, city=city, all_cities=all_cities)
    else:
        sheets, records = attachment(context(), kind, city=city, all_cities=all_cities, period=period), []
    path = write(sheets, out, simulation=context().simulation)
    rows = sum(len(s.rows) for s in sheets)
    if as_json:
        emit_json({"kind": kind, "title": sheets[0].title, "out": str(path), "rows": rows,
                   **({"records": records} if kind in LISTS else {})})
        return
    label = f"{sheets[0].label} " if kind not in LISTS else ""
    what = f"全省 {len(sheets)} 个城市" if len(sheets) > 1 else f"《{sheets[0].title}》"
    click.echo(f"已导出 {label}{what}，{rows} 行 → {path}")


@click.group()
def equipment() -> None:
    """Equipment updates (附件3 开展设备更新企业名单)."""


@equipment.command("record")
@click.argument("code")
@click.option("--project", required=True, help="设备更新项目名称.")
@click.option("--equipment", "equipment_", required=True, help="更新的设备（设施）.")
@click.option("--investment", default=None, help="投资额（万元）.")
@click.option("--completed", default=None, help="完成时间 YYYY-MM-DD.")
@click.option("--funding", default="", help="资金来源, e.g. 大气污染防治资金.")
@json_option
def equipment_record(code: str, project: str, equipment_: str, investment: str | None,
                     completed: str | None, funding: str, as_json: bool) -> None:
    """Record an equipment update on a participation (audited)."""
    from workflow.services.equipment import Update, record

    r = record(context(), Update(code, project, equipment_, investment, completed, funding))
    if as_json:
        emit_json(r)
        return
    money = f"，投资 {r['investment']:g} 万元" if r["investment"] is not None else ""
    click.echo(f"已登记设备更新 #{r['id']} {r['code']}：{r['project']}{money}，审计 #{r['seq']}")


@equipment.command("list")
@click.option("--city", default=None, help="Only this city's equipment updates.")
@json_option
def equipment_list(city: str | None, as_json: bool) -> None:
    """Equipment updates of the current campaign."""
    from workflow.services.equipment import listing

    rows = listing(context(), city=city)
    if as_json:
        emit_json(rows)
        return
    table(f"设备更新 Equipment updates（{len(rows)}）", ["#", "企业", "城市", "项目", "设备", "万元", "完成"],
          [[r["id"], r["name"], r["city"], r["project"], r["equipment"],
            "" if r["investment"] is None else f"{r['investment']:g}", r["completed"] or ""]
           for r in rows])
