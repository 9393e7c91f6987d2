"""Build the static dashboard page from the reports and write it into a directory."""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict

from workflow.context import Context
from workflow.errors import InvalidInput
from workflow.reports import dashboard, overdue
from workflow.reports import figures as reports
from workflow.reports.writers import atomic

PAGE = "index.html"


class Published(TypedDict):
    path: str
    bytes: int
    as_of: str
    province: reports.TargetLine


def dashboard_page(ctx: Context, out_dir: str | Path) -> Published:
    """Write DIR/index.html (created if missing); return its path and the numbers shown."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"--out {out} 已存在且不是目录 (not a directory)")
    view = reports.overview(ctx)
    targets = view["targets"]
    html = dashboard.render(targets, view["funnel"], overdue.matrix(ctx), view["phases"], view["dues"],
                            ctx.today, simulation=ctx.simulation)
    out.mkdir(parents=True, exist_ok=True)
    path = out / PAGE
    atomic(path, lambda tmp: tmp.write_text(html, encoding="utf-8"))
    return {"path": str(path), "bytes": len(html.encode()), "as_of": targets["as_of"],
            "province": targets["province"]}
