"""我的待办 (/) and the enterprise list (/enterprises): filters and sorting in the query string, so a
view can be bookmarked and shared."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.response import Template

from web.auth import signed_in
from web.pages import NavItem
from web.render import page
from web.state import blocking
from workflow.services import tasks

PER_PAGE = 50
SORTS = ("code", "name", "city", "state", "days_left")
SORT_ZH = {"code": "统一社会信用代码", "name": "企业名称", "city": "城市", "state": "状态", "days_left": "剩余天数"}
URGENCY_ZH = {"red": "逾期", "yellow": "即将到期", "green": "正常", "none": "无期限"}


def _text(request: Request[Any, Any, Any], key: str, limit: int = 100) -> str | None:
    value = (request.query_params.get(key) or "").strip()[:limit]
    return value or None


def _page_no(request: Request[Any, Any, Any]) -> int:
    raw = request.query_params.get("page") or "1"
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


def _pages(total: int, per_page: int) -> int:
    return max(1, -(-total // max(per_page, 1)))


def _url(path: str, params: dict[str, str | None], **changes: str | int | None) -> str:
    merged = {**params, **{k: None if v is None else str(v) for k, v in changes.items()}}
    query = urlencode({k: v for k, v in merged.items() if v})
    return path + ("?" + query if query else "")


def days_text(days: int | None) -> str:
    """Days left as words, so that colour is never the only signal."""
    if days is None:
        return "—"
    if days < 0:
        return f"已逾期 {-days} 天"
    if days == 0:
        return "今天截止"
    return f"剩 {days} 天"


@get("/", name="tasks")
async def my_tasks(request: Request[Any, Any, Any]) -> Template:
    me = await signed_in(request)
    params = {"city": _text(request, "city"), "state": _text(request, "state"), "industry": _text(request, "industry"),
              "q": _text(request, "q"), "overdue": "1" if request.query_params.get("overdue") == "1" else None}
    flt = tasks.TaskFilter(city=params["city"], state=params["state"], industry=params["industry"],
                           overdue_only=params["overdue"] == "1", q=params["q"])
    result = await blocking(tasks.my_tasks, me.ctx, flt, page=_page_no(request), per_page=PER_PAGE)
    pages = _pages(result.total, result.per_page)
    return await page(request, "tasks.html", me, counts=dict(result.counts), result=result, params=params,
                      pages=pages, urgency_zh=URGENCY_ZH, days_text=days_text,
                      state_choices=STATES,
                      prev_url=_url("/", params, page=result.page - 1) if result.page > 1 else None,
                      next_url=_url("/", params, page=result.page + 1) if result.page < pages else None)


@get("/enterprises", name="enterprises")
async def enterprise_list(request: Request[Any, Any, Any]) -> Template:
    me = await signed_in(request)
    sort = request.query_params.get("sort") or "code"
    if sort.lstrip("-") not in SORTS:
        sort = "code"
    params = {"q": _text(request, "q"), "city": _text(request, "city"), "state": _text(request, "state"),
              "sort": None if sort == "code" else sort}
    result = await blocking(tasks.enterprises, me.ctx, q=params["q"], city=params["city"], state=params["state"],
                            sort=sort, page=_page_no(request), per_page=PER_PAGE)
    pages = _pages(result.total, result.per_page)
    columns = []
    for key in SORTS:
        current = sort.lstrip("-") == key
        descending = sort.startswith("-")
        columns.append({
            "key": key, "label": SORT_ZH[key],
            "aria": ("descending" if descending else "ascending") if current else None,
            "url": _url("/enterprises", params, sort=("-" + key) if current and not descending else key, page=None),
            "mark": ("↓" if descending else "↑") if current else "",
        })
    return await page(request, "enterprises.html", me, result=result, params=params, pages=pages,
                      col={c["key"]: c for c in columns},
                      days_text=days_text, state_choices=STATES,
                      prev_url=_url("/enterprises", params, page=result.page - 1) if result.page > 1 else None,
                      next_url=_url("/enterprises", params, page=result.page + 1) if result.page < pages else None)


def _state_choices() -> list[tuple[str, str]]:
    """(state, Chinese label) for the state filter, as the services name them."""
    return list(tasks.STATE_LABELS.items())


STATES = _state_choices()

ROUTES = [my_tasks, enterprise_list]
NAV = [NavItem(20, "/enterprises", "企业")]
