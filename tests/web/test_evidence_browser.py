"""Evidence files in a real browser (Debian's chromium, Playwright, a real `campaign serve`): the expert
attaches a report to the pre-assessment; a disguised file is refused next to the form; the city's
coordinator downloads the report from the history, another city's coordinator gets 404.

Needs /usr/bin/chromium: skipped without it, a failure with CAMPAIGN_REQUIRE_CHROMIUM=1."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CODE, Cli
from tests.helpers.lifecycle import ENROLL
from tests.helpers.web import ARTIFACTS, PASSWORD, Server
from tests.helpers.web_evidence import DISGUISED_HTML, ServerAtHome, evidence_rows, pdf, stored_files

pytestmark = pytest.mark.browser
NOW = "2024-06-05"
LABEL = "佐证材料（可多选，选填）"


@contextmanager
def signed_in(browser: Any, server: Server, name: str) -> Iterator[Any]:
    """A page of `name`'s own browser context, logged in through the form."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(server.url + "/login")
        page.get_by_label("用户名").fill(name)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state()
        assert "/login" not in page.url
        yield page
    finally:
        context.close()


def test_evidence_is_uploaded_with_an_event_and_downloaded_only_within_scope(people: Cli, browser: Any,
                                                                            tmp_path: Path) -> None:
    from playwright.sync_api import expect

    people(*ENROLL, now="2024-05-20", actor="许昌联络员")
    people("advance", CODE, "start_assistance", now="2024-06-03", actor="许昌联络员")
    report = pdf("Pre-assessment report (browser)")
    sha = hashlib.sha256(report).hexdigest()
    with ServerAtHome(people, now=NOW) as server:
        with signed_in(browser, server, "王专家") as page:
            page.goto(f"{server.url}/enterprises/{CODE}")
            form = page.locator(f'form[action="/enterprises/{CODE}/events/record_pre_assessment"]')
            # an HTML page renamed .pdf: refused next to the form, nothing stored
            form.get_by_label("预评估发现的问题").fill("无组织排放管控不足")
            form.get_by_label(LABEL).set_input_files(
                files=[{"name": "预评估报告.pdf", "mimeType": "application/pdf", "buffer": DISGUISED_HTML}])
            form.get_by_role("button", name="记录预评估").click()
            page.wait_for_load_state()
            expect(page.locator("#err-record_pre_assessment")).to_contain_text("的内容不是 PDF")
            assert stored_files(people.home) == [] and evidence_rows(people) == []
            # the real report: the event is applied and its history row links the file
            form = page.locator(f'form[action="/enterprises/{CODE}/events/record_pre_assessment"]')
            form.get_by_label("预评估发现的问题").fill("无组织排放管控不足")
            form.get_by_label(LABEL).set_input_files(
                files=[{"name": "预评估报告.pdf", "mimeType": "application/pdf", "buffer": report}])
            form.get_by_role("button", name="记录预评估").click()
            page.wait_for_load_state()
            expect(page.locator(".flash")).to_contain_text("佐证材料 1 份")
            expect(page.get_by_role("link", name="预评估报告.pdf")).to_have_attribute(
                "href", f"/evidence/{CODE}/{sha}")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "evidence.png"), full_page=True)
        with signed_in(browser, server, "许昌联络员") as page:
            page.goto(f"{server.url}/enterprises/{CODE}")
            with page.expect_download() as got:
                page.get_by_role("link", name="预评估报告.pdf").click()
            download = got.value
            assert download.suggested_filename == "预评估报告.pdf"
            saved = tmp_path / "downloaded.pdf"
            download.save_as(saved)
            assert saved.read_bytes() == report
        with signed_in(browser, server, "郑州联络员") as page:
            response = page.goto(f"{server.url}/evidence/{CODE}/{sha}")
            assert response is not None and response.status == 404
            expect(page.locator("main")).to_contain_text("不在您的管辖范围")
    payload = json.loads(people("history", CODE, "--json", now=NOW).stdout)[-1]["payload"]
    assert [e["sha256"] for e in payload["evidence"]] == [sha]
    people("audit", "verify", "--files", now=NOW)
