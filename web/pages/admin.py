"""登录记录 (/admin/logins): the login log and the unlock form (province admin)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.response import Redirect, Template

from web.auth import Forbidden, flash_cookie, signed_in
from web.pages import NavItem
from web.render import page
from web.state import blocking, web_of
from workflow.errors import CampaignError
from workflow.services import logins


@get("/admin/logins", name="admin_logins")
async def login_log(request: Request[Any, Any, Any]) -> Template:
    me = await signed_in(request)
    if not me.admin:
        raise Forbidden("登录记录仅对省级管理员开放。")
    name = (request.query_params.get("name") or "").strip()[:200] or None
    events = await blocking(logins.events, me.ctx, name=name, limit=200)
    return await page(request, "admin_logins.html", me, events=events, name=name or "",
                      outcome_zh=logins.OUTCOME_ZH, error=None, unlock={})


@post("/admin/logins/unlock", name="admin_unlock")
async def unlock(request: Request[Any, Any, Any]) -> Template | Redirect:
    me = await signed_in(request)
    if not me.admin:
        raise Forbidden("只有省级管理员可以解除登录锁定。")
    form = await request.form()
    name, client = str(form.get("name", "")).strip(), str(form.get("client", "")).strip()
    try:
        await blocking(logins.unlock, me.ctx, name, client)
    except CampaignError as exc:
        events = await blocking(logins.events, me.ctx, limit=200)
        return await page(request, "admin_logins.html", me, status=422, events=events, name="",
                          outcome_zh=logins.OUTCOME_ZH, error=str(exc),
                          unlock={"name": name, "client": client})
    target = "/admin/logins?" + urlencode({"name": name})
    return Redirect(path=target, status_code=303,
                    cookies=[flash_cookie(web_of(request), f"已解除 {name} 在 {client} 的登录锁定。")])

ROUTES = [login_log, unlock]
NAV = [NavItem(90, "/admin/logins", "登录记录", "admin")]
