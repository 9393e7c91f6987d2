"""The web workspace in a real browser: Debian's chromium driven by Playwright against a real
`campaign serve` (uvicorn) on a free port. One enterprise walks from enrolment to certification,
each step by the person whose step it is; the pages pass axe-core and work with the keyboard.

Needs /usr/bin/chromium: skipped without it, a failure with CAMPAIGN_REQUIRE_CHROMIUM=1."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import CODE, Cli
from tests.helpers.lifecycle import ENROLL
from tests.helpers.web import ARTIFACTS, PASSWORD, Server, set_password

pytestmark = pytest.mark.browser
ADMIN_SET = "given-by-the-admin-1"
OWN = "xuchang-own-password-9"


class Person:
    """One person's browser session on the server (a context of their own, as on their own machine)."""

    def __init__(self, browser: Any, server: Server, name: str, password: str = PASSWORD) -> None:
        self.context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.server = server
        self.name = name
        self.page.goto(server.url + "/login")
        self.page.get_by_label("用户名").fill(name)
        self.page.get_by_label("密码").fill(password)
        self.page.get_by_role("button", name="登录").click()
        self.page.wait_for_load_state()

    def __enter__(self) -> Person:
        return self

    def __exit__(self, *exc: object) -> None:
        self.context.close()

    def open(self, path: str) -> Any:
        self.page.goto(self.server.url + path)
        return self.page

    def act(self, event: str, fields: dict[str, str] | None = None, selects: dict[str, str] | None = None) -> None:
        """Fill the event's form on the enterprise page (fields by their labels) and submit it."""
        from playwright.sync_api import expect

        page = self.page
        if f"/enterprises/{CODE}" not in page.url:
            self.open(f"/enterprises/{CODE}")
        form = page.locator(f'form[action="/enterprises/{CODE}/events/{event}"]')
        expect(form).to_have_count(1)
        for label, value in (fields or {}).items():
            form.get_by_label(label).fill(value)
        for label, value in (selects or {}).items():
            form.get_by_label(label).select_option(value)
        form.locator('button[type="submit"]').click()  # the evidence file input is a "button" too
        page.wait_for_load_state()
        expect(page.locator(".flash")).to_contain_text("已完成", timeout=10_000)


def history(cli: Cli, now: str) -> list[dict[str, Any]]:
    return list(json.loads(cli("history", CODE, "--json", now=now).stdout))


def test_one_enterprise_walks_to_certification_in_the_browser(people: Cli, browser: Any) -> None:
    from playwright.sync_api import expect

    # the admin sets the coordinator's password: the first login must change it
    set_password(people, "许昌联络员", ADMIN_SET, by="省管理员", now="2024-09-02")
    with Server(people, now="2024-09-02") as server:  # every window up to 公示 is open on 09-02
        with Person(browser, server, "许昌联络员", ADMIN_SET) as xc:
            expect(xc.page).to_have_url(server.url + "/password")
            xc.page.get_by_label("当前密码").fill(ADMIN_SET)
            xc.page.get_by_label("新密码", exact=True).fill(OWN)
            xc.page.get_by_label("再次输入新密码").fill(OWN)
            xc.page.get_by_role("button", name="修改密码").click()
            expect(xc.page.locator(".flash")).to_contain_text("密码已修改")
            xc.open("/enterprises?q=恒达").get_by_role("link", name="许昌恒达耐材有限公司").click()
            xc.act("enroll", {"企业自愿申请编号": "许昌-自愿-001"}, {"目标等级": "B"})
            xc.act("start_assistance")
        with Person(browser, server, "王专家") as expert:
            expert.page.locator("#task-results").get_by_role("link", name="许昌恒达耐材有限公司").click()
            expect(expert.page.locator("h1")).to_have_text("许昌恒达耐材有限公司")
            expert.act("record_pre_assessment", {"预评估发现的问题": "无组织排放管控不足"})
            expert.act("submit_plan", {"方案概要": "提标改造", "提升措施": "更换除尘器", "计划完成日期": "2024-09-30"})
        with Person(browser, server, "许昌联络员", OWN) as xc:
            xc.act("begin_tracking")
        with Person(browser, server, "王专家") as expert:
            expert.act("record_evaluation", {"评估月份": "2024-08"})
        with Person(browser, server, "许昌联络员", OWN) as xc:
            xc.act("submit_for_acceptance")
        with Person(browser, server, "许昌评审") as reviewer:
            reviewer.act("pass_acceptance")
        with Person(browser, server, "省复核员") as recheck:
            recheck.act("waive_recheck")
        with Person(browser, server, "许昌联络员", OWN) as xc:
            xc.act("publicize")
    # the 公示 is over: the province certifies
    with Server(people, now="2024-09-12") as server, Person(browser, server, "省管理员") as admin:
        admin.act("certify")
        expect(admin.page.locator(".sub")).to_contain_text("已认定")
        expect(admin.page.locator(".ok").first).to_contain_text("全部一致")

    walked = [(e["event"], e["actor"]) for e in history(people, "2024-09-12")]
    assert walked == [
        ("enroll", "许昌联络员"), ("start_assistance", "许昌联络员"), ("record_pre_assessment", "王专家"),
        ("submit_plan", "王专家"), ("begin_tracking", "许昌联络员"), ("record_evaluation", "王专家"),
        ("submit_for_acceptance", "许昌联络员"), ("pass_acceptance", "许昌评审"), ("waive_recheck", "省复核员"),
        ("publicize", "许昌联络员"), ("certify", "省管理员")]
    assert history(people, "2024-09-12")[-1]["to_state"] == "certified"


def _axe(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def test_the_main_pages_pass_axe_work_with_the_keyboard_and_are_kept_as_screenshots(
        people: Cli, browser: Any) -> None:
    people(*ENROLL, now="2024-05-20", actor="许昌联络员")
    people("advance", CODE, "start_assistance", now="2024-06-03", actor="许昌联络员")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with Server(people, now="2024-06-05") as server:
        ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        login = ctx.new_page()
        login.goto(server.url + "/login")
        assert _axe(login) == []
        login.screenshot(path=str(ARTIFACTS / "login.png"), full_page=True)
        ctx.close()
        with Person(browser, server, "王专家") as expert:
            page = expert.page
            assert "/login" not in page.url
            assert _axe(page) == []
            page.screenshot(path=str(ARTIFACTS / "tasks.png"), full_page=True)
            # the keyboard alone reaches the task list's links
            reached = None
            for _ in range(40):
                page.keyboard.press("Tab")
                reached = page.evaluate("() => { const a = document.activeElement;"
                                        " return a && a.closest('#task-results') && a.tagName === 'A'"
                                        " ? a.getAttribute('href') : null; }")
                if reached:
                    break
            assert reached == f"/enterprises/{CODE}"
            page.keyboard.press("Enter")
            page.wait_for_url(f"**/enterprises/{CODE}")
            assert _axe(page) == []
            page.screenshot(path=str(ARTIFACTS / "enterprise.png"), full_page=True)
