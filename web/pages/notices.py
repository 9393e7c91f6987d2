"""通知 (/notices): the notices addressed to the person's city (the province: every notice), each
opened as its official text; the first opening records a read receipt, which the province sees."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.response import Template

from web.auth import signed_in
from web.errors import error_page
from web.pages import NavItem
from web.render import page
from web.state import blocking
from workflow.errors import InvalidInput, NotFound, Refused
from workflow.services import notice_reads

PER_PAGE = 50
STATUS_ZH = {"pending": "待发送", "delivered": "已发送", "failed": "发送失败", "sending": "发送中"}


@get("/notices", name="notices")
async def notice_list(request: Request[Any, Any, Any]) -> Template:
    me = await signed_in(request)
    q = request.query_params
    params = {"city": (q.get("city") or "").strip()[:20] or None, "kind": (q.get("kind") or "").strip()[:40] or None,
              "unread": "1" if q.get("unread") == "1" else None}
    raw = q.get("page") or "1"
    page_no = int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1
    try:
        result = await blocking(notice_reads.notices, me.ctx, city=params["city"], kind=params["kind"],
                                unread=params["unread"] == "1", page=page_no, per_page=PER_PAGE)
    except NotFound:
        return error_page(request, 404)
    except (Refused, InvalidInput) as exc:
        return error_page(request, 403 if isinstance(exc, Refused) else 422, str(exc))
    pages = max(1, -(-result.total // PER_PAGE))

    def url(**changes: Any) -> str:
        merged = {k: v for k, v in {**params, **changes}.items() if v}
        return "/notices" + ("?" + urlencode(merged) if merged else "")

    return await page(request, "notices.html", me, result=result, params=params, pages=pages,
                      kinds=list(notice_reads.KIND_LABELS.items()), status_zh=STATUS_ZH,
                      cities=await blocking(_cities, me) if me.province else [],
                      prev_url=url(page=result.page - 1) if result.page > 1 else None,
                      next_url=url(page=result.page + 1) if result.page < pages else None)


def _cities(me: Any) -> list[str]:
    from workflow.services import filings

    return list(filings.filings_cities(me.ctx))


@get("/notices/{nid:int}", name="notice")
async def notice(request: Request[Any, Any, Any]) -> Template:
    me = await signed_in(request)
    try:
        shown = await blocking(notice_reads.open_notice, me.ctx, int(request.path_params["nid"]))
    except NotFound:
        return error_page(request, 404)
    except Refused as exc:
        return error_page(request, 403, str(exc))
    return await page(request, "notice.html", me, n=shown, status_zh=STATUS_ZH)


ROUTES = [notice_list, notice]
NAV = [NavItem(45, "/notices", "通知")]
