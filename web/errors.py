"""Every failure becomes a page in Chinese with the right status, never a stack trace."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.response import Redirect, Template

from web.auth import PASSWORD_PATH, Forbidden, LoginRequired, MustChangePassword
from workflow.errors import CampaignError, NotFound, Refused
from workflow.services.permissions import PERMISSION_RULES

log = logging.getLogger("campaign.web")

STATUS_TEXT = {
    400: "请求格式不正确，请返回上一页重试。",
    401: "请先登录。",
    403: "没有权限执行此操作。",
    404: "页面不存在，或不在您的管辖范围内。",
    405: "不支持此请求方式。",
    409: "数据已被他人修改，请刷新后重试。",
    413: "提交的内容过大。",
    422: "提交的内容有误。",
    429: "请求过于频繁，请稍后再试。",
    500: "服务器内部错误，已记录。请稍后重试，或联系省级管理员。",
}
API_PREFIX = "/api/"  # web.pages.api's routes: errors there are JSON (ApiError's fields)
CSRF_TEXT = "表单已失效或来源不明（CSRF 校验失败），操作未执行。请返回页面刷新后重新提交。"


def error_page(request: Request[Any, Any, Any], status: int, message: str | None = None) -> Template:
    """A plain error page (no database call: it must render even when the database is away)."""
    return Template(template_name="error.html", status_code=status,
                    context={"status": status, "message": message or STATUS_TEXT.get(status, "请求未能完成。"),
                             "me": None, "counts": {}, "flash": None, "simulation": False,
                             "path": request.url.path})


def _login_required(request: Request[Any, Any, Any], exc: LoginRequired) -> Response[Any]:
    target = "/login" + ("?" + urlencode({"next": exc.next_path}) if exc.next_path not in ("", "/") else "")
    if request.headers.get("hx-request"):
        return Response(content="", status_code=401, headers={"HX-Redirect": target})
    return Redirect(path=target, status_code=303)


def _must_change(request: Request[Any, Any, Any], _exc: MustChangePassword) -> Response[Any]:
    if request.headers.get("hx-request"):
        return Response(content="", status_code=403, headers={"HX-Redirect": PASSWORD_PATH})
    return Redirect(path=PASSWORD_PATH, status_code=303)


def _forbidden(request: Request[Any, Any, Any], exc: Forbidden) -> Response[Any]:
    return error_page(request, 403, exc.message)


def _campaign_error(request: Request[Any, Any, Any], exc: CampaignError) -> Response[Any]:
    if isinstance(exc, NotFound):
        return error_page(request, 404)
    if isinstance(exc, Refused) and exc.rule in PERMISSION_RULES:  # not you, rather than not now
        return error_page(request, 403, str(exc))
    return error_page(request, 422, str(exc))


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if request.url.path.startswith(API_PREFIX):  # routing failed before the API's own handlers: its JSON shape
        return Response(content={"error": STATUS_TEXT.get(status, "请求未能完成。"), "rule": ""}, status_code=status,
                        media_type="application/json", headers={"Cache-Control": "no-store"})
    if isinstance(exc, PermissionDeniedException) and "CSRF" in str(exc.detail):
        return error_page(request, 403, CSRF_TEXT)
    if isinstance(exc, NotAuthorizedException):
        return error_page(request, 401)
    if status >= 500:
        log.error("HTTP %s on %s %s: %s", status, request.method, request.url.path, exc.detail)
    return error_page(request, status)


def _internal(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_page(request, 500)


HANDLERS: dict[type[Exception] | int, Any] = {
    LoginRequired: _login_required,
    MustChangePassword: _must_change,
    Forbidden: _forbidden,
    CampaignError: _campaign_error,
    HTTPException: _http,
    Exception: _internal,
}
