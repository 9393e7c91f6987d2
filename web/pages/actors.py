"""操作人 (/admin/actors) and 权限矩阵 (/admin/permissions): the province admin adds people, sets their
roles and city, deactivates them, resets a password (to be changed at first login) and declares a
conflict of interest; every action is one audited service call that checks the role itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.response import Redirect, Template

from web.auth import Forbidden, Me, flash_cookie, signed_in
from web.errors import error_page
from web.pages import NavItem
from web.pages.province import form_text, status_of
from web.render import page
from web.state import blocking, web_of
from workflow.errors import CampaignError, NotFound
from workflow.services import access, actors, logins, permissions, province_desk

ROLE_CHOICES = [(r, actors.ROLE_ZH[r]) for r in actors.ROLES]
CITY_ROLES = ("city_coordinator", "city_reviewer")


ONLY_ADMIN = "操作人管理仅对省级管理员开放。"


def _admin(me: Me) -> None:
    if not me.admin:
        raise Forbidden(ONLY_ADMIN)


async def _cities(me: Me) -> list[str]:
    return await blocking(province_desk.cities, me.ctx)


async def _list(request: Request[Any, Any, Any], me: Me, *, status: int = 200, error: str | None = None,
                values: dict[str, Any] | None = None) -> Template:
    people = await blocking(actors.listing, me.ctx)
    return await page(request, "actors.html", me, status=status, people=people, role_zh=actors.ROLE_ZH,
                      role_choices=ROLE_CHOICES, cities=await _cities(me), error=error, values=values or {})


async def _one(request: Request[Any, Any, Any], me: Me, name: str, *, status: int = 200,
               error: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> Template:
    person = next((p for p in await blocking(actors.listing, me.ctx) if p["name"] == name), None)
    if person is None:
        return error_page(request, 404, f"操作人 {name} 不存在。")
    return await page(request, "actor.html", me, status=status, person=person, role_zh=actors.ROLE_ZH,
                      role_choices=ROLE_CHOICES, cities=await _cities(me), error=error or {}, values=values or {})


@get("/admin/actors", name="actors")
async def actor_list(request: Request[Any, Any, Any]) -> Template:
    me = await signed_in(request)
    _admin(me)
    return await _list(request, me)


@get("/admin/actors/one", name="actor")
async def actor_page(request: Request[Any, Any, Any]) -> Template:
    me = await signed_in(request)
    _admin(me)
    return await _one(request, me, (request.query_params.get("name") or "").strip()[:200])


def _roles(form: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in form.getall("roles", []) if isinstance(v, str))[:10]


def _back(request: Request[Any, Any, Any], name: str, message: str) -> Redirect:
    return Redirect(path="/admin/actors/one?" + urlencode({"name": name}), status_code=303,
                    cookies=[flash_cookie(web_of(request), message)])


@post("/admin/actors", name="actor_add")
async def add(request: Request[Any, Any, Any]) -> Template | Redirect:
    me = await signed_in(request)
    form = await request.form()
    name, city, password = form_text(form, "name"), form_text(form, "city", 40), form_text(form, "password", 200)
    roles = _roles(form)
    values = {"name": name, "city": city, "roles": roles}
    try:
        added = await blocking(actors.add, me.ctx, name, roles, city or None)
    except CampaignError as exc:
        status = status_of(exc)
        if not me.admin:
            raise Forbidden(str(exc) if status == 403 else ONLY_ADMIN) from exc
        return await _list(request, me, status=status, error=str(exc), values=values)
    if password:
        try:
            await blocking(logins.set_password, me.ctx, added["name"], password)
        except CampaignError as exc:  # registered, but the password was not set: say so next to its form
            message = f"已登记 {added['name']}，但初始密码未设置：{exc}"
            return await _one(request, me, added["name"], status=status_of(exc),
                              error={"form": "password", "message": message})
    extra = "，已设初始密码（首次登录须修改）" if password else "，尚未设置登录密码"
    return _back(request, added["name"], f"已登记操作人 {added['name']}{extra}")


async def _act(request: Request[Any, Any, Any], which: str, call: Callable[[Me, Any, str], Any],
               done: Callable[[str, Any], str]) -> Template | Redirect:
    """One per-person form: run `call(me, form, name)`; a refusal is shown next to form `which`."""
    me = await signed_in(request)
    form = await request.form()
    name = form_text(form, "name")
    try:
        result = await blocking(call, me, form, name)
    except CampaignError as exc:
        status = status_of(exc)
        if not me.admin:  # the service refused someone who has no business here: the 403 page
            raise Forbidden(str(exc) if status == 403 else ONLY_ADMIN) from exc
        if isinstance(exc, NotFound) and which != "conflict":
            return error_page(request, 404, str(exc))
        values = {k: form_text(form, k) for k in ("code", "reason", "city")} | {"roles": _roles(form)}
        return await _one(request, me, name, status=status, error={"form": which, "message": str(exc)},
                          values=values)
    return _back(request, name, done(name, result))


def _set_roles(me: Me, form: Any, name: str) -> Any:
    return actors.set_roles(me.ctx, name, _roles(form), form_text(form, "city", 40) or None)


def _deactivate(me: Me, form: Any, name: str) -> Any:
    return access.deactivate(me.ctx, name)


def _password(me: Me, form: Any, name: str) -> Any:
    return logins.set_password(me.ctx, name, str(form.get("password", ""))[:200])


def _conflict(me: Me, form: Any, name: str) -> Any:
    return access.declare_conflict(me.ctx, name, form_text(form, "code", 40), form_text(form, "reason", 500))


@post("/admin/actors/roles", name="actor_roles")
async def set_roles(request: Request[Any, Any, Any]) -> Template | Redirect:
    return await _act(request, "roles", _set_roles,
                      lambda n, r: f"已更改 {n} 的角色为 {'、'.join(actors.ROLE_ZH.get(x, x) for x in r['roles'])}"
                                   f"{'（' + r['city'] + '）' if r['city'] else ''}（审计 #{r['seq']}）")


@post("/admin/actors/deactivate", name="actor_deactivate")
async def deactivate(request: Request[Any, Any, Any]) -> Template | Redirect:
    return await _act(request, "deactivate", _deactivate,
                      lambda n, r: f"已停用 {n}，其登录会话已全部结束（审计 #{r['seq']}）")


@post("/admin/actors/password", name="actor_password")
async def reset_password(request: Request[Any, Any, Any]) -> Template | Redirect:
    return await _act(request, "password", _password,
                      lambda n, r: f"已重设 {n} 的登录密码：其现有会话已结束，首次登录须修改密码")


@post("/admin/actors/conflict", name="actor_conflict")
async def conflict(request: Request[Any, Any, Any]) -> Template | Redirect:
    return await _act(request, "conflict", _conflict,
                      lambda n, r: f"已登记 {n} 与企业 {r['code']} 的利益冲突（审计 #{r['seq']}）")


@get("/admin/permissions", name="permissions")
async def matrix(request: Request[Any, Any, Any]) -> Template:
    me = await signed_in(request)
    if not me.province:
        raise Forbidden("权限矩阵仅对省级角色开放。")
    return await page(request, "matrix.html", me, rows=permissions.matrix(), role_zh=actors.ROLE_ZH)


ROUTES = [actor_list, actor_page, add, set_roles, deactivate, reset_password, conflict, matrix]
NAV = [NavItem(86, "/admin/actors", "操作人", "admin"), NavItem(87, "/admin/permissions", "权限矩阵", "province")]
