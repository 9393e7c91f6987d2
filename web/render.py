"""One way to render a page: the layout's shared values (who, the task counts for the navigation,
the flash message, the simulation mark) plus the page's own."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template

from web.auth import FLASH_COOKIE, Me, cleared, flash_of
from web.state import blocking, web_of
from workflow.services import tasks


def _counts(me: Me) -> dict[str, int]:
    try:
        return dict(tasks.my_tasks(me.ctx, tasks.TaskFilter(), page=1, per_page=1).counts)
    except Exception:  # the badge must never break a page
        return {}


async def page(request: Request[Any, Any, Any], template: str, me: Me | None, /, *, status: int = 200,
               counts: dict[str, int] | None = None, **values: Any) -> Template:
    """`template` with the layout's values; the flash cookie is shown once and cleared."""
    web = web_of(request)
    if me is not None and counts is None and not me.who.must_change:
        counts = await blocking(_counts, me)
    flash = flash_of(request)
    ctx = me.ctx if me is not None else web.base
    context = {
        "me": me, "counts": counts or {}, "flash": flash, "simulation": ctx.simulation,
        "nav": [n for n in web.nav if me is not None and n.shown_to(me)],
        "today": ctx.today.isoformat(), "path": request.url.path, **values,
    }
    cookies = [cleared(web, FLASH_COOKIE)] if flash else []
    return Template(template_name=template, context=context, status_code=status, cookies=cookies)
