"""notices list | show | preview | kinds | deliver | retry; contact add | remove | list."""

from __future__ import annotations

import click

from commands.common import context, emit_json, json_option, settings, table

templates_option = click.option(
    "--templates", default=None, metavar="DIR",
    help="Directory of override templates named after the kind (reminder.j2 …); "
         "env CAMPAIGN_TEMPLATES. Rendered in a sandbox with a time and size limit.")

STATUS_ZH = {"pending": "待发送", "sending": "发送中", "delivered": "已送达", "failed": "失败"}


@click.group()
def notices() -> None:
    """Official notices (提醒函、催办通知、公示…): list, show, preview, deliver, retry."""


@notices.command("list")
@click.option("--status", default=None, help="pending, sending, delivered or failed.")
@click.option("--kind", default=None, help="reminder, overdue, … (see `notices kinds`).")
@click.option("--city", default=None, help="Only this city's notices.")
@json_option
def notices_list(status: str | None, kind: str | None, city: str | None, as_json: bool) -> None:
    """List notices, oldest first."""
    from notifications.service import listing
    from workflow.services.contacts import resolve_unit

    ctx = context()
    unit = resolve_unit(ctx, city) if city is not None else None  # 许昌 → 许昌市; 省级 → the province
    rows = listing(ctx, status=status, kind=kind, city=unit, province=city is not None and unit is None)
    if as_json:
        emit_json(rows)
        return
    table(f"通知 Notices（{len(rows)}）", ["编号", "类型", "城市", "企业", "截止", "状态", "尝试"],
          [[r["id"], r["title"], r["city"] or "省级", r["code"] or "", r["due"] or "",
            STATUS_ZH.get(r["status"], r["status"]), r["attempts"]] for r in rows])


@notices.command("show")
@click.argument("notice_id", metavar="ID", type=int)
@json_option
def notices_show(notice_id: int, as_json: bool) -> None:
    """The rendered text of one notice, then its delivery attempts."""
    from notifications.service import show

    r = show(context(), notice_id)
    if as_json:
        emit_json(r)
        return
    if r["text"]:
        click.echo(r["text"], nl=False)
    else:
        click.echo(f"（通知未能生成：{r['error']}）")
    click.echo(f"\n—— 编号 {r['id']} · {r['title']} · {STATUS_ZH.get(r['status'], r['status'])}"
               f" · 模板 {r['template']}")
    for a in r["delivery"]:
        mark = "成功" if a["ok"] else f"失败：{a['error']}"
        click.echo(f"   第{a['round']}轮 {a['attempted_at']} {a['channel']} {a['target']} {mark}")
    if r["status"] == "failed" and r["text"]:
        click.echo(f"   下次重试：{r['next_attempt_at']}；原因：{r['error']}")


@notices.command("preview")
@click.argument("kind")
@templates_option
@json_option
def notices_preview(kind: str, templates: str | None, as_json: bool) -> None:
    """Render KIND's template with sample data (checks an override template)."""
    from notifications.service import preview

    r = preview(kind, templates=templates, settings=settings())
    if as_json:
        emit_json(r)
        return
    click.echo(r["text"], nl=False)


@notices.command("kinds")
@json_option
def notices_kinds(as_json: bool) -> None:
    """The notice kinds, their titles and the context keys their templates use."""
    from notifications.kinds import COMMON_KEYS, KINDS

    rows = [{"kind": k.name, "title": k.title, "template": k.template, "keys": [*k.keys, *COMMON_KEYS]}
            for k in KINDS.values()]
    if as_json:
        emit_json(rows)
        return
    table("通知类型 Notice kinds", ["类型", "名称", "模板", "上下文"],
          [[r["kind"], r["title"], r["template"], ", ".join(r["keys"])] for r in rows])


def _summary(counts: dict[str, int], as_json: bool) -> None:
    if as_json:
        emit_json(counts)
        return
    line = (f"已送达 {counts['delivered']} 条，失败 {counts['failed']} 条（投递尝试 {counts['attempts']} 次）"
            f" (delivered {counts['delivered']}, failed {counts['failed']})")
    if counts.get("skipped"):
        line += f"；{counts['skipped']} 个邮件联系人因未配置 SMTP 而跳过"
    click.echo(line)


@notices.command("deliver")
@templates_option
@json_option
def notices_deliver(templates: str | None, as_json: bool) -> None:
    """Deliver pending notices and those due for retry (what the scheduler does)."""
    from notifications.service import deliver_now

    _summary(deliver_now(context(), templates=templates), as_json)


@notices.command("retry")
@click.argument("notice_id", metavar="[ID]", type=int, required=False)
@templates_option
@json_option
def notices_retry(notice_id: int | None, templates: str | None, as_json: bool) -> None:
    """Render again and deliver again: notice ID, or every failed one, without waiting."""
    from notifications.service import retry

    _summary(retry(context(), notice_id, templates=templates), as_json)


@click.group()
def contact() -> None:
    """Who receives a city's notices: e-mail and webhook (企业微信/钉钉群机器人)."""


@contact.command("add")
@click.option("--city", required=True, help="City, e.g. 许昌市; 省级 for the province.")
@click.option("--email", default=None, help="E-mail address.")
@click.option("--webhook", default=None, help="Group-robot webhook URL (its key is never printed).")
@click.option("--name", default="", help="Person or office, e.g. 大气科.")
def contact_add(city: str, email: str | None, webhook: str | None, name: str) -> None:
    """Add a contact (audited)."""
    from workflow.services.contacts import add

    r = add(context(), city=city, email=email, webhook=webhook, name=name)
    where = ", ".join(x for x in (r["email"], r["webhook"]) if x)
    click.echo(f"已登记联系人 {r['id']}：{r['city'] or '省级'} {r['name']} {where}".replace("  ", " "))


@contact.command("remove")
@click.argument("contact_id", metavar="ID", type=int)
def contact_remove(contact_id: int) -> None:
    """Stop sending to a contact (kept as inactive; audited)."""
    from workflow.services.contacts import remove

    r = remove(context(), contact_id)
    click.echo(f"已停用联系人 {r['id']}：{r['city'] or '省级'} {r['name']}".rstrip())


@contact.command("list")
@click.option("--city", default=None, help="Only this city's contacts; 省级 for the province.")
@click.option("--all", "every", is_flag=True, help="Include removed contacts.")
@json_option
def contact_list(city: str | None, every: bool, as_json: bool) -> None:
    """List contacts (webhook keys masked)."""
    from workflow.services.contacts import listing

    rows = listing(context(), city=city, every=every)
    if as_json:
        emit_json(rows)
        return
    table("联系人 Contacts", ["编号", "城市", "名称", "邮箱", "Webhook", "状态"],
          [[r["id"], r["city"] or "省级", r["name"], r["email"] or "", r["webhook"] or "",
            "在用" if r["active"] else "停用"] for r in rows])
