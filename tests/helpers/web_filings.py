"""The cities' filings, notices, needs and bulk actions in tests: scans, uploads, a few more
enterprises, the submissions and receipts as the database holds them."""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from tests.conftest import Cli
from tests.helpers.web import Server, csrf
from workflow.demo.filings import scan_pdf
from workflow.domain.creditcode import make

E2 = make("91411000MA45C2R2X")  # two more 许昌 enterprises, for bulk actions
E3 = make("91411000MA45C2R3X")
DISGUISED = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


def pdf(title: str = "attachment1 2024-05 stamped") -> bytes:
    return scan_pdf(title)


def add_enterprises(cli: Cli, *codes: str, now: str = "2024-05-06") -> None:
    for i, code in enumerate(codes, 2):
        cli("enterprise", "add", "--code", code, "--name", f"许昌第{i}耐材有限公司", "--city", "许昌市",
            "--industry", "耐材", "--grade", "C", "--rating-doc", "豫环绩效〔2023〕12号", "--county", "长葛市",
            now=now, actor="许昌联络员")


def upload(client: Any, content: bytes, name: str, *, city: str = "许昌市", kind: str = "attachment1",
           period: str = "2024-05", media_type: str = "application/pdf", note: str = "") -> Any:
    """The 报送 form's POST (multipart, with its CSRF token), not followed."""
    return client.post("/filings/submit", data={"city": city, "kind": kind, "period": period, "note": note,
                                                "_csrf_token": csrf(client, "/filings")},
                       files={"scan": (name, content, media_type)}, follow_redirects=False)


def deadline(cli: Cli, kind: str, period: str, *, city: str = "许昌市", now: str = "2024-05-20") -> dict[str, Any]:
    rows = json.loads(cli("deadlines", "--city", city, "--json", now=now).stdout)
    return next(r for r in rows if r["kind"] == kind and r["period"] == period)


def submissions(cli: Cli) -> list[tuple[Any, ...]]:
    with sqlite3.connect(cli.db.removeprefix("sqlite:///")) as c:
        return list(c.execute("SELECT kind, period, late, file_name, sha256, stored_path FROM deliverable_submission"))


def receipts(cli: Cli) -> list[tuple[Any, ...]]:
    with sqlite3.connect(cli.db.removeprefix("sqlite:///")) as c:
        return list(c.execute("SELECT notice_id, actor, city, read_at FROM notice_read ORDER BY id"))


def notice_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'href="/notices/(\d+)"', html)]


def axe_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page (none expected)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


HomeServer = Server  # the shared server already runs in the test's home (documents stay out of the tree)
