"""省级总览 (/overview): the dashboard `campaign report html` draws, live from the database, inside
the workspace's layout (province roles)."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, get
from litestar.response import Template
from markupsafe import Markup

from web.auth import Forbidden, Me, signed_in
from web.pages import NavItem
from web.render import page
from web.state import blocking
from workflow.reports import dashboard, overdue
from workflow.reports import figures as reports

_MAIN = re.compile(r"<main>(.*)</main>", re.S)


def scoped_css(css: str, scope: str = ".dash") -> str:
    """The dashboard's stylesheet with every selector moved under `scope`, so that it styles only the
    embedded dashboard and not the workspace around it (`body` becomes the scope itself)."""
    rules = []
    for chunk in css.split("}"):
        if "{" not in chunk:
            continue
        selectors, body = chunk.split("{", 1)
        scoped = []
        for sel in selectors.split(","):
            sel = sel.strip()
            scoped.append(scope if sel == "body" else f"{scope} {sel}")
        rules.append(f"{','.join(scoped)}{{{body}}}")
    return "\n".join(rules)


def _dashboard(me: Me) -> tuple[str, str]:
    """(the dashboard's sections as HTML, its as-of date), from the same data and renderer as the file."""
    ctx = me.ctx
    view = reports.overview(ctx)
    targets = view["targets"]
    html = dashboard.render(targets, view["funnel"], overdue.matrix(ctx), view["phases"], view["dues"], ctx.today,
                            simulation=ctx.simulation)
    found = _MAIN.search(html)
    return (found.group(1) if found else ""), str(targets["as_of"])


@get("/overview", name="overview")
async def overview(request: Request[Any, Any, Any]) -> Template:
    me = await signed_in(request)
    if not me.province:
        raise Forbidden("省级总览仅对省级角色开放（省级管理员、省级复核员）。")
    body, as_of = await blocking(_dashboard, me)
    # the renderer escapes every value it takes from the data (workflow/reports/dashboard.py)
    return await page(request, "overview.html", me, dashboard=Markup(body),
                      dashboard_css=Markup(scoped_css(dashboard.CSS)), as_of=as_of)

ROUTES = [overview]
NAV = [NavItem(80, "/overview", "省级总览", "province")]
