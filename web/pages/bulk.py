"""Bulk actions (/bulk): the participations selected in the task or enterprise list, one event, its
fields filled once, applied all or nothing (`workflow.services.bulk.apply`, i.e. advance_batch);
when any row is refused nothing is written and a table shows each row's result."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from web.auth import Me, flash_cookie, safe_next, signed_in
from web.pages import NavItem
from web.render import page
from web.state import blocking, web_of
from workflow.errors import InvalidInput
from workflow.services import bulk

NAV: list[NavItem] = []  # reached from the lists' checkboxes


def _back(raw: str | None) -> str:
    """Where to return after success: a path on this site only (the list the selection came from)."""
    return safe_next(raw)


async def _render(request: Request[Any, Any, Any], me: Me, codes: list[str], event: str | None, back: str, *,
                  status: int = 200, error: str | None = None, result: bulk.BulkResult | None = None,
                  values: dict[str, str] | None = None) -> Template:
    choices = await blocking(bulk.choices, me.ctx)
    try:
        selected, unseen = await blocking(bulk.selection, me.ctx, codes)
    except InvalidInput as exc:
        selected, unseen, error = [], [], error or str(exc)
        status = 422
    chosen = next((c for c in choices if c.event == event), None)
    return await page(request, "bulk.html", me, status=status, choices=choices, chosen=chosen, selected=selected,
                      unseen=unseen, back=back, error=error, result=result, values=values or {})


@get("/bulk", name="bulk")
async def bulk_page(request: Request[Any, Any, Any]) -> Template:
    me = await signed_in(request)
    codes = [c[:40] for c in request.query_params.getall("code", [])][:bulk.MAX_ROWS + 1]
    event = (request.query_params.get("event") or "").strip()[:40] or None
    return await _render(request, me, codes, event, _back(request.query_params.get("back")))


@post("/bulk", name="bulk_apply")
async def bulk_apply(request: Request[Any, Any, Any]) -> Template | Redirect:
    me = await signed_in(request)
    form = await request.form()
    codes = [str(c)[:40] for c in form.getall("code", []) if isinstance(c, str)][:bulk.MAX_ROWS + 1]
    event = str(form.get("event") or "")[:40]
    back = _back(str(form.get("back") or "/"))
    fields = {k: str(v)[:4000] for k, v in form.items()
              if isinstance(v, str) and k not in ("_csrf_token", "code", "event", "back", "version")}
    try:
        result = await blocking(bulk.apply, me.ctx, event, codes, fields)
    except InvalidInput as exc:
        return await _render(request, me, codes, event or None, back, status=422, error=str(exc), values=fields)
    if not result.ok:
        refused = sum(1 for r in result.rows if not r.ok)
        return await _render(request, me, codes, event, back, status=422, result=result, values=fields,
                             error=f"{refused} 行被拒绝，整批未执行（全部或全不）：请按下表修改后重新提交。")
    msg = f"已批量完成：{result.label} {len(result.rows)} 家企业（全部写入审计链）"
    return Redirect(path=back, status_code=303, cookies=[flash_cookie(web_of(request), msg)])


ROUTES = [bulk_page, bulk_apply]
