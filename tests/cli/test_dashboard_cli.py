"""The static dashboard page: self-contained, Chinese, and showing the numbers of `report targets`.

The browser test needs Debian's chromium at /usr/bin/chromium. Without it the test is
skipped, unless CAMPAIGN_REQUIRE_CHROMIUM=1 (CI), where a missing browser is a failure.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli
from tests.helpers.progress import build

NOW = "2024-09-20"
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class Numbers(HTMLParser):
    """Collects <tr data-city> rows' data-field cells, the province section, and any external refs."""

    def __init__(self) -> None:
        super().__init__()
        self.cities: dict[str, dict[str, int]] = {}
        self.province: dict[str, str] = {}
        self.kpis: dict[str, str] = {}
        self.external: list[str] = []
        self._city: str | None = None
        self._field: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("src", "href"):
            if a.get(key) and not str(a[key]).startswith(("#", "data:")):
                self.external.append(str(a[key]))
        if tag == "tr" and a.get("data-city"):
            self._city = a["data-city"]
            self.cities[str(self._city)] = {}
        if tag == "section" and a.get("id") == "province":
            self.province = {k: str(v) for k, v in a.items()}
        self._field = a.get("data-field") if tag in ("td", "b") else None

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._city = None
        self._field = None

    def handle_data(self, data: str) -> None:
        if self._city and self._field:
            self.cities[self._city][self._field] = int(data)
        elif self._field:  # the province's cards: the text a reader sees
            self.kpis[self._field] = data


def parse(html: str) -> Numbers:
    p = Numbers()
    p.feed(html)
    return p


def expected(cli: Cli) -> dict[str, Any]:
    r = json.loads(cli("report", "targets", "--json", now=NOW).stdout)
    return r  # type: ignore[no-any-return]


def assert_matches(page: Numbers, r: dict[str, Any]) -> None:
    assert page.cities == {c["city"]: {k: c[k] for k in ("target", "achieved", "in_pipeline", "gap")}
                           for c in r["cities"]}
    p = r["province"]
    assert (page.province["data-target"], page.province["data-achieved"],
            page.province["data-in-pipeline"]) == (str(p["target"]), str(p["achieved"]), str(p["in_pipeline"]))
    assert {k: page.kpis[k] for k in ("achieved", "in_pipeline", "gap", "participations")} == \
        {"achieved": f"{p['achieved']} / {p['target']}", "in_pipeline": str(p["in_pipeline"]),
         "gap": str(p["gap"]), "participations": str(p["participations"])}


def test_the_dashboard_is_one_self_contained_chinese_page(cli: Cli, tmp_path: Path) -> None:
    build(cli)
    out = tmp_path / "dash"
    r = cli("report", "html", "--out", str(out), now=NOW)
    assert "index.html" in r.stdout
    html = (out / "index.html").read_text("utf-8")
    page = parse(html)
    assert page.external == [] and "<script" not in html and "@import" not in html
    assert_matches(page, expected(cli))
    labels = ("各地目标完成情况", "推进漏斗", "报送情况矩阵", "年度时间轴", "谋划部署阶段", "认定应用阶段", "许昌市")
    for label in labels:
        assert label in html
    assert re.search(r"<svg[^>]*aria-label=\"年度时间轴\"", html)
    (tmp_path / "file").write_text("x")
    r = cli("report", "html", "--out", str(tmp_path / "file"), now=NOW, expect=None)
    assert r.exit_code != 0


def test_a_page_that_cannot_be_written_leaves_no_temporary_file(cli: Cli, tmp_path: Path) -> None:
    build(cli)
    out = tmp_path / "dash"
    (out / "index.html").mkdir(parents=True)  # the page's own name is taken by a directory
    r = cli("report", "html", "--out", str(out), now=NOW, expect=1)
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def test_chromium_shows_the_same_numbers_as_report_targets(sqlite_cli: Cli, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CAMPAIGN_REQUIRE_CHROMIUM") == "1":
            pytest.fail("CAMPAIGN_REQUIRE_CHROMIUM=1 but /usr/bin/chromium is missing (apt-get install chromium)")
        pytest.skip("/usr/bin/chromium not installed (apt-get install chromium); "
                    "set CAMPAIGN_REQUIRE_CHROMIUM=1 to make this a failure")
    build(sqlite_cli)
    out = tmp_path / "dash"
    sqlite_cli("report", "html", "--out", str(out), now=NOW)
    url = (out / "index.html").resolve().as_uri()
    dom = _chromium("--dump-dom", url, profile=tmp_path / "profile")
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = parse(dom.stdout)
    assert page.external == []
    assert_matches(page, expected(sqlite_cli))
    shot = tmp_path / "dashboard.png"
    run = _chromium(f"--screenshot={shot}", "--window-size=1280,2000", url, profile=tmp_path / "profile")
    assert run.returncode == 0 and shot.stat().st_size > 10_000, run.stderr[-2000:]
