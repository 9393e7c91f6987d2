"""The cities' filings, notices and bulk actions in a real browser (Debian's chromium, Playwright,
a real `campaign serve`): a bulk action refused whole and then applied; a city filing a deliverable
with a scan before and after its due date (the server's clock: CAMPAIGN_NOW on a simulation, the
server restarted at the later date); a notice read receipt the province sees.

Needs /usr/bin/chromium: skipped without it, a failure with CAMPAIGN_REQUIRE_CHROMIUM=1."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import CODE, Cli
from tests.helpers.web import ARTIFACTS, PASSWORD, Server
from tests.helpers.web_filings import E2, E3, HomeServer, add_enterprises, axe_violations, deadline, pdf, receipts

pytestmark = pytest.mark.browser


class Person:
    """One person's own browser session on the server."""

    def __init__(self, browser: Any, server: Server, name: str) -> None:
        self.context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.server = server
        self.page.goto(server.url + "/login")
        self.page.get_by_label("用户名").fill(name)
        self.page.get_by_label("密码").fill(PASSWORD)
        self.page.get_by_role("button", name="登录").click()
        self.page.wait_for_load_state()

    def __enter__(self) -> Person:
        return self

    def __exit__(self, *exc: object) -> None:
        self.context.close()

    def open(self, path: str) -> Any:
        self.page.goto(self.server.url + path)
        return self.page


def events(cli: Cli, code: str, now: str) -> list[str]:
    r = cli("history", code, "--json", now=now, expect=None)
    return [] if r.exit_code != 0 else [e["event"] for e in json.loads(r.stdout)]


def test_a_bulk_enrolment_is_refused_whole_then_applied(people: Cli, browser: Any) -> None:
    from playwright.sync_api import expect

    now = "2024-05-20"
    add_enterprises(people, E2, E3)
    people("advance", E3, "enroll", "--consent", "自愿", "--target-grade", "B", now=now, actor="许昌联络员")
    with HomeServer(people, now=now) as server, Person(browser, server, "许昌联络员") as me:
        page = me.open("/enterprises")
        for code in (CODE, E2, E3):
            page.locator(f"#sel-{code}").check()
        page.get_by_role("button", name="批量办理勾选的企业…").click()
        page.get_by_label("事件", exact=True).select_option("enroll")
        page.get_by_role("button", name="下一步：填写字段").click()
        page.get_by_label("企业自愿申请编号").fill("许昌-自愿-批量")
        page.get_by_label("目标等级").fill("B")
        page.get_by_role("button", name="对 3 家企业执行：纳入培育清单").click()
        result = page.locator("#bulk-result")
        expect(result).to_be_visible()
        expect(result.locator("tr", has_text=E3)).to_contain_text("✗ 被拒绝")
        expect(page.locator("#bulk-error")).to_contain_text("整批未执行")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "bulk-refused.png"), full_page=True)
        assert axe_violations(page) == []
        assert events(people, CODE, now) == [] and events(people, E2, now) == []
        page.locator(f"#pick-{E3}").uncheck()
        page.get_by_role("button", name="对 3 家企业执行：纳入培育清单").click()
        expect(page.locator(".flash")).to_contain_text("已批量完成：纳入培育清单 2 家企业")
        assert page.url.endswith("/enterprises")
    assert events(people, CODE, now) == ["enroll"] and events(people, E2, now) == ["enroll"]
    assert events(people, E3, now) == ["enroll"]


def _file(me: Person, kind: str, period: str, name: str) -> Any:
    page = me.open("/filings")
    form = page.locator(f'form[aria-label$="{period}"]:has(input[name="kind"][value="{kind}"])')
    form.locator('input[type="file"]').set_input_files({"name": name, "mimeType": "application/pdf",
                                                       "buffer": pdf(f"{kind} {period}")})
    form.get_by_role("button", name="报送").click()
    page.wait_for_load_state()
    return page


def test_a_city_files_scans_before_and_after_the_due_date_and_reads_a_notice(people: Cli, browser: Any) -> None:
    from playwright.sync_api import expect

    people("scheduler", "tick", now="2024-05-28")  # 提醒函: 附件1 due 2024-05-31
    with HomeServer(people, now="2024-05-28") as server:
        with Person(browser, server, "许昌联络员") as me:
            page = _file(me, "attachment1", "2024-05", "附件1盖章签字.pdf")
            expect(page.locator(".flash")).to_contain_text("按时报送")
            row = page.locator("#slot-许昌市-attachment1-2024-05")
            expect(row).to_contain_text("按时报送")
            expect(row.get_by_role("link", name="附件1盖章签字.pdf")).to_be_visible()
            page = me.open("/notices")
            page.locator('a[href^="/notices/"]').first.click()
            expect(page.locator('[role="status"]')).to_contain_text("已记录您的阅读回执")
            notice_url = page.url
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "notice-read.png"), full_page=True)
            assert axe_violations(page) == []
        with Person(browser, server, "省管理员") as admin:
            page = admin.page
            page.goto(notice_url)
            expect(page.locator("section", has_text="阅读回执")).to_contain_text("许昌联络员")
    assert deadline(people, "attachment1", "2024-05", now="2024-05-28")["status"] == "submitted"
    assert [r[1] for r in receipts(people)] == ["许昌联络员", "省管理员"]
    with HomeServer(people, now="2024-06-20") as server, Person(browser, server, "许昌联络员") as me:
        page = me.open("/filings")
        expect(page.locator("#slot-许昌市-attachment2-2024-06")).to_contain_text("已逾期 5 天")
        page = _file(me, "attachment2", "2024-06", "附件2.pdf")
        expect(page.locator(".flash")).to_contain_text("逾期 5 天报送")
        expect(page.locator("#slot-许昌市-attachment2-2024-06")).to_contain_text("逾期报送")
        page.screenshot(path=str(ARTIFACTS / "filings-late.png"), full_page=True)
        assert axe_violations(page) == []
    assert deadline(people, "attachment2", "2024-06", now="2024-06-20")["status"] == "late"
    assert len(list((people.home / "documents").rglob("*.pdf"))) == 2  # the two scans, in the campaign home
