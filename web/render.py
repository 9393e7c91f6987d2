"""One way to render a page: the layout's shared values (who, the task counts for the navigation,
the flash message, the simulation mark) plus the page's own."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from litestar import Request
from litestar.response import Template

from web.auth import FLASH_COOKIE, Me, cleared, flash_of, token_of
from web.state import blocking, web_of
from workflow.services import tasks

BADGE_SECONDS = 20.0  # how long the navigation's task counts may lag others' changes; one's own clear them


class Badges:
    """The navigation's task counts per session, kept `BADGE_SECONDS` so that a page view does not
    recompute the person's whole task list; any write in the session forgets them (`forget`, before
    the write), so one's own changes show at once. Bounded: the oldest go first."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._held: OrderedDict[str, tuple[float, str, dict[str, int]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str, today: str) -> dict[str, int] | None:
        with self._lock:
            held = self._held.get(token)
            if held is None or held[0] < time.monotonic() or held[1] != today:
                return None
            return held[2]

    def put(self, token: str, today: str, counts: dict[str, int]) -> None:
        with self._lock:
            self._held[token] = (time.monotonic() + BADGE_SECONDS, today, counts)
            self._held.move_to_end(token)
            while len(self._held) > self.size:
                self._held.popitem(last=False)

    def forget(self, token: str) -> None:
        with self._lock:
            self._held.pop(token, None)


BADGES = Badges()


def forget_badges(request: Request[Any, Any, Any]) -> None:
    """Litestar's before_request: a request that may write clears its session's counts first."""
    if request.method not in ("GET", "HEAD") and (token := token_of(request)):
        BADGES.forget(token)


def _counts(me: Me) -> dict[str, int]:
    today = me.ctx.today.isoformat()
    held = BADGES.get(me.token, today)
    if held is not None:
        return held
    try:
        counts = dict(tasks.my_tasks(me.ctx, tasks.TaskFilter(), page=1, per_page=1).counts)
    except Exception:  # the badge must never break a page
        return {}
    BADGES.put(me.token, today, counts)
    return counts


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
