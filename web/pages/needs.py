"""企业诉求 (/needs): open, answer and list enterprises' needs with their due dates (the N-th working
day after receipt, 5 by default), as `campaign request` does."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.response import Redirect, Template

from web.auth import Me, flash_cookie, signed_in
from web.errors import error_page
from web.pages import NavItem
from web.render import page
from web.state import blocking, web_of
from workflow.errors import CampaignError, InvalidInput, NotFound, Refused
from workflow.services import filings
from workflow.services.permissions import PERMISSION_RULES

STATUS_ZH = {"open": "待答复", "overdue": "已超期", "answered": "已按时答复", "late": "超期答复"}
STATUS_TAG = {"open": "yellow", "overdue": "red", "answered": "green", "late": "yellow"}


def days_of(r: Any) -> str:
    if r["days_left"] is not None:
        return "今天截止" if r["days_left"] == 0 else f"剩 {r['days_left']} 天"
    if r["days_overdue"] is not None:
        return f"已超期 {r['days_overdue']} 天"
    return "—"


def _params(request: Request[Any, Any, Any]) -> dict[str, str | None]:
    q = request.query_params
    return {"city": (q.get("city") or "").strip()[:20] or None, "overdue": "1" if q.get("overdue") == "1" else None}


async def _render(request: Request[Any, Any, Any], me: Me, params: dict[str, str | None], *, status: int = 200,
                  error: dict[str, str] | None = None, values: dict[str, str] | None = None) -> Template:
    city, cities, rows = await blocking(filings.needs_listing, me.ctx, city=params["city"],
                                        overdue=params["overdue"] == "1")
    return await page(request, "needs.html", me, status=status, rows=rows, city=city, cities=cities,
                      params=params, error=error, values=values or {}, status_zh=STATUS_ZH,
                      status_tag=STATUS_TAG, days_of=days_of)


@get("/needs", name="needs")
async def needs_page(request: Request[Any, Any, Any]) -> Template:
    me = await signed_in(request)
    try:
        return await _render(request, me, _params(request))
    except NotFound:
        return error_page(request, 404)
    except (Refused, InvalidInput) as exc:
        return error_page(request, 403 if isinstance(exc, Refused) else 422, str(exc))


def _status(exc: CampaignError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Refused) and exc.rule in PERMISSION_RULES:
        return 403
    return 422


async def _refused(request: Request[Any, Any, Any], me: Me, exc: CampaignError, where: str,
                   values: dict[str, str]) -> Template:
    status = _status(exc)
    if status == 404:
        return error_page(request, 404)
    try:
        return await _render(request, me, {"city": None, "overdue": None}, status=status,
                             error={"where": where, "message": str(exc)}, values=values)
    except CampaignError:
        return error_page(request, status, str(exc))


@post("/needs", name="need_open")
async def open_need(request: Request[Any, Any, Any]) -> Template | Redirect:
    me = await signed_in(request)
    form = await request.form()
    code, subject = str(form.get("code") or "")[:40], str(form.get("subject") or "")[:2000]
    try:
        r = await blocking(filings.open_need, me.ctx, code, subject)
    except CampaignError as exc:
        return await _refused(request, me, exc, "open", {"code": code, "subject": subject})
    msg = f"已登记企业诉求 #{r['id']}：{r['enterprise']}，请于 {r['due']} 前答复（{r['workdays']} 个工作日）"
    return Redirect(path="/needs?" + urlencode({"city": r["city"]}), status_code=303,
                    cookies=[flash_cookie(web_of(request), msg)])


@post("/needs/{rid:int}/answer", name="need_answer")
async def answer_need(request: Request[Any, Any, Any]) -> Template | Redirect:
    me = await signed_in(request)
    rid = int(request.path_params["rid"])
    form = await request.form()
    text = str(form.get("text") or "")[:4000]
    try:
        r = await blocking(filings.answer_need, me.ctx, rid, text)
    except CampaignError as exc:
        return await _refused(request, me, exc, f"answer-{rid}", {f"text-{rid}": text})
    late = f"，超期 {r['days_late']} 天" if r["late"] else "，按时"
    return Redirect(path="/needs?" + urlencode({"city": r["city"]}), status_code=303,
                    cookies=[flash_cookie(web_of(request), f"已答复企业诉求 #{rid}{late}")])


ROUTES = [needs_page, open_need, answer_need]
NAV = [NavItem(50, "/needs", "企业诉求", "city")]
