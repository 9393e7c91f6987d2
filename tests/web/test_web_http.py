"""The web workspace at the HTTP level (the app in-process, Litestar's TestClient): sessions, CSRF,
scope, escaping, cookie flags, refusals and conflicts. Each test fails without the defence it names."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from tests.conftest import CODE, Cli
from tests.helpers.lifecycle import ENROLL
from tests.helpers.web import (
    CSRF_COOKIE,
    PASSWORD,
    SESSION_COOKIE,
    audit_count,
    csrf,
    login,
    post,
    set_password,
)
from workflow.domain.creditcode import make

pytestmark = pytest.mark.browser
Client = Callable[..., AbstractContextManager[Any]]
NOW = "2024-05-20"
ENROL_FORM = {"consent": "许昌-自愿-001", "target_grade": "B"}


def history(cli: Cli, code: str = CODE) -> list[dict[str, Any]]:
    """The enterprise's audit entries (`campaign history --json`); none before it enrolled."""
    r = cli("history", code, "--json", now=NOW, expect=None)
    if r.exit_code == 1 and "没有记录" in r.stderr:
        return []
    assert r.exit_code == 0, r.stderr
    return list(json.loads(r.stdout))


def set_cookies(response: Any) -> dict[str, str]:
    """Each Set-Cookie header of a response by cookie name."""
    return {h.split("=", 1)[0]: h for h in response.headers.get_list("set-cookie")}


def enrol_version(client: Any) -> str:
    page = client.get(f"/enterprises/{CODE}")
    assert page.status_code == 200
    marker = 'name="version" value="'
    start = page.text.index(marker) + len(marker)
    return str(page.text[start:page.text.index('"', start)])


# --- CSRF -----------------------------------------------------------------------------------------

def test_a_post_without_the_csrf_token_is_refused_and_writes_nothing(people: Cli, web_client: Client) -> None:
    with web_client(now=NOW) as c:
        assert login(c, "许昌联络员").status_code == 303
        before = audit_count(people, NOW)
        bare = c.post(f"/enterprises/{CODE}/events/enroll", data=ENROL_FORM, follow_redirects=False)
        assert bare.status_code == 403 and "CSRF" in bare.text
        forged = c.post(f"/enterprises/{CODE}/events/enroll", data={**ENROL_FORM, "_csrf_token": "0" * 128},
                        follow_redirects=False)
        assert forged.status_code == 403
        assert audit_count(people, NOW) == before and history(people) == []
        assert "Traceback" not in bare.text
        ok = post(c, f"/enterprises/{CODE}/events/enroll", ENROL_FORM)  # the same form with its token
        assert ok.status_code == 303
    assert [e["event"] for e in history(people)] == ["enroll"]
    assert history(people)[0]["actor"] == "许昌联络员"  # the audit entry names the person logged in


def test_the_htmx_header_carries_the_token_too(people: Cli, web_client: Client) -> None:
    with web_client(now=NOW) as c:
        login(c, "许昌联络员")
        token = csrf(c, "/")
        r = c.post(f"/enterprises/{CODE}/events/enroll", data=ENROL_FORM, headers={"x-csrftoken": token},
                   follow_redirects=False)
        assert r.status_code == 303
        assert 'hx-headers=\'{"x-csrftoken": "' in c.get("/").text


def test_logging_in_needs_the_csrf_token(people: Cli, web_client: Client) -> None:
    with web_client(now=NOW) as c:
        c.get("/login")
        r = c.post("/login", data={"name": "许昌联络员", "password": PASSWORD}, follow_redirects=False)
        assert r.status_code == 403 and SESSION_COOKIE not in set_cookies(r)


# --- scope ----------------------------------------------------------------------------------------

def test_another_citys_enterprise_is_not_found_and_nothing_changes(people: Cli, web_client: Client) -> None:
    from workflow.domain.creditcode import make

    zz = make("91410100MA46QY00K")
    people("enterprise", "add", "--code", zz, "--name", "郑州宏达铸造有限公司", "--city", "郑州市",
           "--industry", "铸造", "--grade", "C", "--rating-doc", "豫环绩效〔2023〕7号", now="2024-05-06",
           actor="郑州联络员")
    before = audit_count(people, NOW)
    with web_client(now=NOW) as c:
        login(c, "许昌联络员")
        page = c.get(f"/enterprises/{zz}")
        assert page.status_code == 404 and "郑州宏达" not in page.text
        r = post(c, f"/enterprises/{zz}/events/enroll", ENROL_FORM)
        assert r.status_code == 404 and "郑州宏达" not in r.text
        assert c.get("/enterprises/91410100MA45C2R1XA").status_code == 404  # unknown: the same answer
        assert "郑州宏达" not in c.get("/enterprises?q=郑州").text
        assert c.get(f"/enterprises/{CODE}").status_code == 200  # their own city's is there
    assert audit_count(people, NOW) == before and history(people, zz) == []


# --- escaping and headers -------------------------------------------------------------------------

def test_an_enterprise_name_with_a_script_tag_renders_as_text(people: Cli, web_client: Client) -> None:
    from workflow.domain.creditcode import make

    evil = make("91410100MA46XT001")
    name = '<script>alert("x")</script>许昌<b>耐材</b>'
    people("enterprise", "add", "--code", evil, "--name", name, "--city", "许昌市", "--industry", "耐材",
           "--grade", "C", "--rating-doc", "豫环绩效〔2023〕9号", now="2024-05-06", actor="许昌联络员")
    with web_client(now=NOW) as c:
        login(c, "许昌联络员")
        for path in (f"/enterprises/{evil}", "/enterprises?q=script", "/"):
            page = c.get(path)
            assert page.status_code == 200
            assert "<script>alert" not in page.text and "<b>耐材" not in page.text
        assert "&lt;script&gt;alert(" in c.get(f"/enterprises/{evil}").text


def test_every_response_carries_the_security_headers(people: Cli, web_client: Client) -> None:
    with web_client(now=NOW) as c:
        for r in (c.get("/login"), c.get("/no/such/page"), c.get("/static/site.css")):
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["x-frame-options"] == "DENY"
            csp = r.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
        missing = c.get("/no/such/page")
        assert missing.status_code == 404 and "页面不存在" in missing.text and 'lang="zh-CN"' in missing.text


# --- sessions -------------------------------------------------------------------------------------

def test_the_session_id_is_new_at_every_login_and_dead_after_logout(people: Cli, web_client: Client) -> None:
    with web_client(now=NOW) as c:
        c.cookies.set(SESSION_COOKIE, "fixated-by-an-attacker", domain="testserver.local")
        first = login(c, "许昌联络员")
        token1 = c.cookies.get(SESSION_COOKIE)
        assert first.status_code == 303 and token1 and token1 != "fixated-by-an-attacker"
        login(c, "许昌联络员")
        token2 = c.cookies.get(SESSION_COOKIE)
        assert token2 and token2 != token1
        assert post(c, "/logout").status_code == 303
        assert c.cookies.get(SESSION_COOKIE) in (None, "")
        c.cookies.clear()
        c.cookies.set(SESSION_COOKIE, token2, domain="testserver.local")  # the old cookie, replayed
        r = c.get("/", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_deactivation_and_a_password_reset_end_the_sessions(people: Cli, web_client: Client) -> None:
    with web_client(now=NOW) as c:
        login(c, "许昌联络员")
        assert c.get("/", follow_redirects=False).status_code == 200
        set_password(people, "许昌联络员", "a-brand-new-password-2", by="省管理员", now=NOW)
        assert c.get("/", follow_redirects=False).status_code == 303
    with web_client(now=NOW) as c:
        login(c, "许昌评审")
        assert c.get("/", follow_redirects=False).status_code == 200
        people("actor", "deactivate", "许昌评审", now=NOW, actor="省管理员")
        assert c.get("/", follow_redirects=False).status_code == 303
        again = login(c, "许昌评审")
        assert again.status_code == 401 and "用户名或密码错误" in again.text


def test_the_sixth_wrong_password_is_refused_even_with_the_right_one(people: Cli, web_client: Client) -> None:
    with web_client(now=NOW) as c:
        for _ in range(5):
            r = login(c, "许昌联络员", "not-the-password-123")
            assert r.status_code == 401 and "用户名或密码错误" in r.text
        locked = login(c, "许昌联络员", PASSWORD)
        assert locked.status_code == 401 and "锁定" in locked.text
        assert SESSION_COOKIE not in set_cookies(locked)
        # the province admin sees the lock-out and lifts it from the login log page
        login(c, "省管理员")
        log = c.get("/admin/logins")
        assert log.status_code == 200 and "已锁定" in log.text and "testclient" in log.text
        assert post(c, "/admin/logins/unlock", {"name": "许昌联络员", "client": "testclient"}).status_code == 303
        assert login(c, "许昌联络员").status_code == 303


def test_cookie_flags(people: Cli, web_client: Client) -> None:
    with web_client(now=NOW) as c:
        form = c.get("/login")
        assert "httponly" in set_cookies(form)[CSRF_COOKIE].lower()
        r = login(c, "许昌联络员")
        cookie = set_cookies(r)[SESSION_COOKIE].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    with web_client(now=NOW, base_url="https://testserver.local", CAMPAIGN_COOKIE_SECURE="1") as c:
        r = login(c, "许昌联络员")
        cookie = set_cookies(r)[SESSION_COOKIE].lower()
        assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie


def test_a_password_set_by_the_admin_must_be_changed_first(people: Cli, web_client: Client) -> None:
    set_password(people, "许昌联络员", "given-by-the-admin-1", by="省管理员", now=NOW)
    with web_client(now=NOW) as c:
        r = login(c, "许昌联络员", "given-by-the-admin-1")
        assert r.status_code == 303 and r.headers["location"] == "/password"
        for path in ("/", "/enterprises", f"/enterprises/{CODE}"):
            forced = c.get(path, follow_redirects=False)
            assert forced.status_code == 303 and forced.headers["location"] == "/password"
        assert post(c, f"/enterprises/{CODE}/events/enroll", ENROL_FORM).headers["location"] == "/password"
        assert history(people) == []
        form = c.get("/password")
        assert form.status_code == 200 and "请先设置您自己的密码" in form.text
        short = post(c, "/password", {"old": "given-by-the-admin-1", "new": "short", "again": "short"})
        assert short.status_code == 422
        done = post(c, "/password", {"old": "given-by-the-admin-1", "new": "my-own-password-77",
                                     "again": "my-own-password-77"})
        assert done.status_code == 303 and done.headers["location"] == "/"
        assert c.get("/", follow_redirects=False).status_code == 200
    with web_client(now=NOW) as c:
        assert login(c, "许昌联络员", "given-by-the-admin-1").status_code == 401
        assert login(c, "许昌联络员", "my-own-password-77").status_code == 303


def test_pages_need_a_login(people: Cli, web_client: Client) -> None:
    with web_client(now=NOW) as c:
        r = c.get(f"/enterprises/{CODE}?x=1", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
        login_page = c.get(r.headers["location"])
        assert 'name="next" value="/enterprises/' in login_page.text
        assert post(c, f"/enterprises/{CODE}/events/enroll", ENROL_FORM).status_code == 303
        assert history(people) == []
        # after the login the browser goes back where it was going; never to another site
        c.get("/login")
        back = c.post("/login", data={"name": "许昌联络员", "password": PASSWORD, "next": "//evil.example/",
                                      "_csrf_token": csrf(c)}, follow_redirects=False)
        assert back.headers["location"] == "/"


# --- events: refusals, invalid input, conflicts ----------------------------------------------------

def test_a_refused_event_shows_the_engines_reason_next_to_its_form(people: Cli, web_client: Client) -> None:
    with web_client(now=NOW) as c:
        login(c, "许昌联络员")
        before = audit_count(people, NOW)
        missing = post(c, f"/enterprises/{CODE}/events/enroll", {"consent": "", "target_grade": "B"})
        assert missing.status_code == 422 and 'id="err-enroll"' in missing.text
        assert 'value="B" selected' in missing.text  # what was typed is kept
        people(*ENROLL, now=NOW, actor="许昌联络员")
        before = audit_count(people, NOW)
        early = post(c, f"/enterprises/{CODE}/events/start_assistance")  # its window opens 06-01
        assert early.status_code == 422 and "window opens 2024-06-01" in early.text
        assert 'id="err-start_assistance"' not in early.text or "未执行" in early.text
        no_reason = post(c, f"/enterprises/{CODE}/events/withdraw", {"reason": ""})
        assert no_reason.status_code == 422 and 'id="err-withdraw"' in no_reason.text
        assert audit_count(people, NOW) == before


def test_an_expert_cannot_do_the_coordinators_step(people: Cli, web_client: Client) -> None:
    with web_client(now=NOW) as c:
        login(c, "王专家")
        page = c.get(f"/enterprises/{CODE}")
        assert page.status_code == 200 and "/events/enroll" not in page.text  # no form for it
        r = post(c, f"/enterprises/{CODE}/events/enroll", ENROL_FORM)  # posted anyway
        assert r.status_code == 403 and "权限" in r.text
    assert history(people) == []


def test_a_stale_form_is_a_conflict_that_shows_the_current_state(people: Cli, web_client: Client) -> None:
    people(*ENROLL, now=NOW, actor="许昌联络员")
    with web_client(now="2024-06-03") as c:
        login(c, "许昌联络员")
        version = enrol_version(c)
        people("advance", CODE, "start_assistance", now="2024-06-03", actor="许昌联络员")  # someone else, meanwhile
        r = post(c, f"/enterprises/{CODE}/events/withdraw", {"reason": "企业主动退出", "version": version})
        assert r.status_code == 409 and "被他人修改" in r.text
        assert "帮扶服务" in r.text  # the state as it is now
    assert [e["event"] for e in history(people)] == ["enroll", "start_assistance"]


def test_the_event_post_and_the_flash_on_both_databases(cli: Cli, tmp_path: Any) -> None:
    """The event POST end to end on SQLite and on PostgreSQL."""
    from litestar.testing import TestClient

    from tests.conftest import DOC, bootstrap
    from tests.helpers.web import make_app

    bootstrap(cli)
    cli("enterprise", "add", "--code", CODE, "--name", "许昌恒达耐材有限公司", "--city", "许昌市", "--industry", "耐材",
        "--grade", "C", "--rating-doc", DOC, now="2024-05-06", actor="许昌联络员")
    set_password(cli, "许昌联络员", now="2024-05-06")
    with TestClient(make_app(cli, now=NOW), base_url="http://testserver.local") as c:
        login(c, "许昌联络员")
        r = post(c, f"/enterprises/{CODE}/events/enroll", ENROL_FORM)
        assert r.status_code == 303 and r.headers["location"] == f"/enterprises/{CODE}"
        page = c.get(r.headers["location"])
        assert "已完成：纳入培育清单" in page.text and "当前阶段" in page.text
        again = post(c, f"/enterprises/{CODE}/events/enroll", ENROL_FORM)
        assert again.status_code in (409, 422)
    events = json.loads(cli("history", CODE, "--json", now=NOW).stdout)
    assert [(e["event"], e["actor"]) for e in events] == [("enroll", "许昌联络员")]


# --- pages by role --------------------------------------------------------------------------------

def test_tasks_show_the_step_days_left_and_urgency_in_words(people: Cli, web_client: Client) -> None:
    people(*ENROLL, now=NOW, actor="许昌联络员")
    with web_client(now="2024-11-14") as c:  # start_assistance closes 11-15: one day left
        login(c, "许昌联络员")
        page = c.get("/")
        assert page.status_code == 200 and "开始帮扶" in page.text and "剩 1 天" in page.text
        assert "即将到期" in page.text
        assert f'href="/enterprises/{CODE}"' in page.text
        bookmarked = c.get("/?overdue=1&city=许昌市")
        assert bookmarked.status_code == 200 and "没有符合条件的待办事项" in bookmarked.text
        assert 'id="f-overdue" name="overdue" type="checkbox" value="1" checked' in bookmarked.text


def test_the_overview_is_for_province_roles_only(people: Cli, web_client: Client) -> None:
    with web_client(now=NOW) as c:
        login(c, "许昌联络员")
        assert c.get("/overview").status_code == 403
        assert c.get("/admin/logins").status_code == 403
        login(c, "省复核员")
        page = c.get("/overview")
        assert page.status_code == 200 and 'id="province"' in page.text and "全省目标" in page.text


# --- the navigation's task counts (issue 16: not recomputed on every page) -------------------------

OTHER = make("91411000000000777")


def _badge(client: Any, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200
    marker = 'title="待办总数">'
    start = page.text.index(marker) + len(marker)
    return str(page.text[start:page.text.index("<", start)])


def test_the_task_badge_is_kept_a_short_while_and_ones_own_write_refreshes_it(people: Cli,
                                                                              web_client: Client) -> None:
    people("enterprise", "add", "--code", OTHER, "--name", "许昌第二耐材有限公司", "--city", "许昌市", "--industry",
           "耐材", "--grade", "C", "--rating-doc", "许环〔2023〕2号", now="2024-05-06", actor="许昌联络员")
    people(*ENROLL, now=NOW, actor="许昌联络员")
    with web_client(now=NOW) as c:
        assert login(c, "许昌联络员").status_code == 303
        before = _badge(c, f"/enterprises/{CODE}")
        assert before == "1"  # CODE enrolled: its assistance is due
        people("advance", OTHER, "enroll", "--consent", "许昌-自愿-002", "--target-grade", "B", now=NOW,
               actor="许昌联络员")  # meanwhile, outside this session
        assert _badge(c, f"/enterprises/{CODE}") == before  # kept: the task list is not recomputed per page
        assert post(c, f"/enterprises/{OTHER}/events/enroll", {**ENROL_FORM, "consent": ""}).status_code == 422
        assert _badge(c, f"/enterprises/{CODE}") == "2"  # any write in the session clears the kept counts
