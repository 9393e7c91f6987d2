"""Log in, log out, change one's own password."""

from __future__ import annotations

import contextlib
from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from web.auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    cleared,
    client_of,
    flash_cookie,
    maybe_signed_in,
    safe_next,
    session_cookie,
    signed_in,
    token_of,
)
from web.render import page
from web.state import blocking, web_of
from workflow.errors import CampaignError
from workflow.services import logins


@get("/login", name="login")
async def login_form(request: Request[Any, Any, Any]) -> Template | Redirect:
    me = await maybe_signed_in(request)
    if me is not None and not me.who.must_change:
        return Redirect(path=safe_next(request.query_params.get("next")), status_code=303)
    return await page(request, "login.html", None, next=safe_next(request.query_params.get("next")),
                      name="", error=None)


@post("/login", name="login_post")
async def login(request: Request[Any, Any, Any]) -> Template | Redirect:
    web = web_of(request)
    form = await request.form()
    name = str(form.get("name", "")).strip()
    password = str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")))
    if not name or not password:
        return await page(request, "login.html", None, status=422, next=target, name=name,
                          error="请输入用户名和密码。")
    try:
        opened = await blocking(logins.login, web.base, name, password, client_of(request))
    except CampaignError as exc:
        return await page(request, "login.html", None, status=401, next=target, name=name, error=str(exc))
    # a fresh session id (and a fresh CSRF token on the next page) at every login
    cookies = [session_cookie(web, opened.token), cleared(web, CSRF_COOKIE)]
    if opened.who.must_change:
        cookies.append(flash_cookie(web, "您的密码由管理员设置，请先修改密码。"))
        return Redirect(path="/password", status_code=303, cookies=cookies)
    return Redirect(path=target, status_code=303, cookies=cookies)


@post("/logout", name="logout")
async def logout(request: Request[Any, Any, Any]) -> Redirect:
    web = web_of(request)
    token = token_of(request)
    if token:
        with contextlib.suppress(CampaignError):  # already ended: logging out again is no error
            await blocking(logins.logout, web.base, token, client_of(request))
    return Redirect(path="/login", status_code=303,
                    cookies=[cleared(web, SESSION_COOKIE), cleared(web, CSRF_COOKIE),
                             flash_cookie(web, "已退出登录。")])


@get("/password", name="password")
async def password_form(request: Request[Any, Any, Any]) -> Template:
    me = await signed_in(request, allow_must_change=True)
    return await page(request, "password.html", me, error=None)


@post("/password", name="password_post")
async def change_password(request: Request[Any, Any, Any]) -> Template | Redirect:
    me = await signed_in(request, allow_must_change=True)
    web = web_of(request)
    form = await request.form()
    old, new, again = (str(form.get(k, "")) for k in ("old", "new", "again"))
    if new != again:
        return await page(request, "password.html", me, status=422, error="两次输入的新密码不一致，请重新输入。")
    try:
        opened = await blocking(logins.change_own, web.base, me.token, old, new, client_of(request))
    except CampaignError as exc:
        return await page(request, "password.html", me, status=422, error=str(exc))
    return Redirect(path="/", status_code=303,
                    cookies=[session_cookie(web, opened.token), cleared(web, CSRF_COOKIE),
                             flash_cookie(web, "密码已修改，其他会话已全部退出。")])

ROUTES = [login_form, login, logout, password_form, change_password]
