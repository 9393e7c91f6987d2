"""Build the static dashboard page from the reports and write it into a directory."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from . import dashboard, overdue, reports
from .context import Context
from .errors import InvalidInput

PAGE = "index.html"


def dashboard_page(ctx: Context, out_dir: str | Path) -> dict[str, Any]:
    """Write DIR/index.html (created if missing); return its path and the numbers shown."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"--out {out} 已存在且不是目录 (not a directory)")
    targets, funnel = reports.targets(ctx), reports.funnel(ctx)
    cal, late = reports.calendar(ctx), overdue.matrix(ctx)
    html = dashboard.render(targets, funnel, late, cal["phases"], cal["dues"], ctx.today)
    out.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".index.", suffix=".html", dir=out)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(html)
    path = out / PAGE
    os.replace(tmp, path)
    return {"path": str(path), "bytes": len(html.encode()), "as_of": targets["as_of"],
            "province": targets["province"]}
