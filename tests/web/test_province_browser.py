"""The province's desk in a real browser (Debian's chromium, Playwright, a real `campaign serve`): the
province reviewer draws a spot check and sees seed and selection, then opens the audit page and runs
verify. The pages pass axe-core (no serious or critical violations); screenshots go to artifacts/."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Cli
from tests.helpers.spot_checks import XU
from tests.helpers.web import ARTIFACTS, PASSWORD, Server
from tests.helpers.web_province import (  # noqa: F401  (fixtures)
    DESK_DAY,
    desk_fixture,
    desk_template_fixture,
    drawn_codes,
    verify_runs,
)

pytestmark = pytest.mark.browser


def _axe(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def test_the_province_draws_a_spot_check_and_verifies_the_audit_log(desk: Cli, browser: Any) -> None:
    from playwright.sync_api import expect

    from workflow.services.spotcheck import draw

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with Server(desk, now=DESK_DAY) as server:
        ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        ctx.set_default_timeout(10_000)
        page = ctx.new_page()
        try:
            page.goto(server.url + "/login")
            page.get_by_label("用户名").fill("省复核员")
            page.get_by_label("密码").fill(PASSWORD)
            page.get_by_role("button", name="登录").click()
            page.get_by_role("navigation", name="主导航").get_by_role("link", name="省级工作台").click()
            expect(page.locator("h1")).to_have_text("省级工作台")
            assert _axe(page) == []

            form = page.locator('form[action="/province/spot-checks"]')
            form.get_by_label("抽查比例").fill("0.5")
            form.get_by_label("范围").select_option("许昌市")
            form.get_by_label("随机种子").fill("20240801")
            form.get_by_role("button", name="抽样").click()
            expect(page.locator(".flash")).to_contain_text("种子 20240801")
            card = page.locator("article.draw").first
            expect(card).to_contain_text("✓ 一致（可复现）")
            expect(card.locator("code.seed")).to_have_text("20240801")
            assert drawn_codes(page.content()) == draw(sorted(XU), 0.5, 20240801)
            expect(card.locator("ul.selected li")).to_have_count(3)
            page.screenshot(path=str(ARTIFACTS / "province.png"), full_page=True)

            page.get_by_role("navigation", name="主导航").get_by_role("link", name="审计").click()
            expect(page.locator("h1")).to_have_text("审计")
            expect(page.locator("#log tbody tr").first).to_contain_text("抽查复核抽样")  # the draw, newest first
            page.get_by_role("button", name="立即校验").click()
            expect(page.locator("#verify-result")).to_contain_text("✓ 审计链完整")
            assert _axe(page) == []
            page.screenshot(path=str(ARTIFACTS / "audit.png"), full_page=True)
        finally:
            ctx.close()
    assert verify_runs(desk)[-1] == ("省复核员", True)
