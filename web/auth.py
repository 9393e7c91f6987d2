"""Who is asking: the session cookie → the person (logins.resume, read fresh on every request) →
a Context that names them. No session → the login page; a password someone else set → /password."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from litestar import Request
from litestar.datastructures import Cookie

from web.state import Web, blocking, web_of
from workflow.context import Context
from workflow.services import logins

SESSION_COOKIE = "campaign_session"
CSRF_COOKIE = "campaign_csrf"
FLASH_COOKIE = "campaign_flash"
PASSWORD_PATH = "/password"
PROVINCE_ROLES = ("province_admin", "province_reviewer")


class LoginRequired(Exception):
    """No live session: send the browser to the login page (and back to `next` afterwards)."""

    def __init__(self, next_path: str = "/") -> None:
        super().__init__(next_path)
        self.next_path = next_path


class MustChangePassword(Exception):
    """The password was set by someone else: nothing but /password until it is changed."""


class Forbidden(Exception):
    """A page this person's roles do not open (the services refuse the actions anyway)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Me:
    """The authenticated person of one request and the context that acts as them."""

    who: logins.Who
    ctx: Context
    token: str

    @property
    def province(self) -> bool:
        return any(r.startswith("province_") for r in self.who.roles)

    @property
    def admin(self) -> bool:
        return "province_admin" in self.who.roles


def client_of(request: Request[Any, Any, Any]) -> str:
    """The client address the login log and the lock-out key on."""
    return request.client.host if request.client else "unknown"


def token_of(request: Request[Any, Any, Any]) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


async def signed_in(request: Request[Any, Any, Any], *, allow_must_change: bool = False) -> Me:
    """The person behind the session cookie, or LoginRequired / MustChangePassword."""
    web = web_of(request)
    token = token_of(request)
    who = await blocking(logins.resume, web.base, token) if token else None
    if who is None or token is None:
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        raise LoginRequired(target if request.method == "GET" else "/")
    if who.must_change and not allow_must_change:
        raise MustChangePassword()
    return Me(who=who, ctx=dataclasses.replace(web.base, actor=who.name), token=token)


async def maybe_signed_in(request: Request[Any, Any, Any]) -> Me | None:
    """The person, if a live session is there (error pages and the login page use it)."""
    try:
        return await signed_in(request, allow_must_change=True)
    except LoginRequired:
        return None


def session_cookie(web: Web, token: str) -> Cookie:
    """The session id: HttpOnly, SameSite=Lax, Secure when configured; no Max-Age (the server ends it)."""
    return Cookie(key=SESSION_COOKIE, value=token, path="/", httponly=True, samesite="lax", secure=web.secure)


def cleared(web: Web, key: str) -> Cookie:
    return Cookie(key=key, value="", path="/", max_age=0, httponly=True, samesite="lax", secure=web.secure)


def flash_cookie(web: Web, message: str) -> Cookie:
    """One message shown on the next page (then cleared)."""
    return Cookie(key=FLASH_COOKIE, value=quote(message, safe=""), path="/", max_age=120, httponly=True,
                  samesite="lax", secure=web.secure)


def flash_of(request: Request[Any, Any, Any]) -> str | None:
    raw = request.cookies.get(FLASH_COOKIE)
    return unquote(raw)[:300] if raw else None


def safe_next(target: str | None) -> str:
    """Only a path on this site: never another origin (`//evil`, `https://…`, `/\\evil`)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
