"""The cities' filings (报送), notices with read receipts, 企业诉求 and bulk actions at the HTTP level
(the app in-process): scope in the services, scans checked by content, all-or-nothing bulk."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from tests.conftest import CODE, Cli
from tests.helpers.web import audit_count, csrf, login, post
from tests.helpers.web_filings import (
    DISGUISED,
    E2,
    E3,
    add_enterprises,
    deadline,
    notice_ids,
    pdf,
    receipts,
    submissions,
    upload,
)
from workflow.clock import SHANGHAI, parse_stored

pytestmark = pytest.mark.browser
Client = Callable[..., AbstractContextManager[Any]]
NOW = "2024-05-20"


def history(cli: Cli, code: str) -> list[str]:
    r = cli("history", code, "--json", now=NOW, expect=None)
    return [] if r.exit_code != 0 else [e["event"] for e in json.loads(r.stdout)]


# --- 报送 -------------------------------------------------------------------------------------------

def test_a_city_sees_only_its_own_filings_and_the_province_every_city(web_client: Client) -> None:
    with web_client(now=NOW) as c:
        login(c, "许昌联络员")
        page = c.get("/filings")
        assert page.status_code == 200 and "许昌市" in page.text and "郑州市" not in page.text
        assert "2024-05-31" in page.text and "剩 11 天" in page.text  # 附件1 due 5-31, pending
        assert 'href="/filings"' in c.get("/").text  # in the navigation
        assert c.get("/filings?city=郑州市").status_code == 404
        assert c.get("/filings/generated?city=郑州市&kind=attachment1&period=2024-05").status_code == 404
    with web_client(now=NOW) as c:
        login(c, "省管理员")
        every = c.get("/filings")
        assert every.status_code == 200 and "许昌市" in every.text and "郑州市" in every.text
        one = c.get("/filings?city=郑州市")
        assert one.status_code == 200 and "<h1>报送 — 郑州市</h1>" in one.text
    with web_client(now=NOW) as c:
        login(c, "王专家")
        assert c.get("/filings").status_code == 403


def test_the_generated_attachment_downloads_as_an_xlsx_attachment(web_client: Client) -> None:
    with web_client(now=NOW) as c:
        login(c, "许昌联络员")
        r = c.get("/filings/generated?city=许昌市&kind=attachment1&period=2024-05")
        assert r.status_code == 200 and r.content[:2] == b"PK"
        assert r.headers["content-disposition"].startswith("attachment;")
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "spreadsheetml" in r.headers["content-type"]


def test_a_scan_is_filed_with_its_hash_and_a_disguised_file_is_refused_with_nothing_stored(
        people: Cli, web_client: Client) -> None:
    with web_client(now=NOW) as c:
        login(c, "许昌联络员")
        before = audit_count(people, NOW)
        bad = upload(c, DISGUISED, "附件1盖章.pdf")
        assert bad.status_code == 422
        assert "不是 PDF、JPEG 或 PNG" in bad.text and "未保存" in bad.text
        assert 'id="err-attachment1-2024-05"' in bad.text  # next to the form it came from
        assert submissions(people) == [] and audit_count(people, NOW) == before
        assert not (people.home / "documents").exists() or not any((people.home / "documents").rglob("*.*"))
        good = pdf()
        ok = upload(c, good, "../../附件1盖章.pdf")
        assert ok.status_code == 303 and ok.headers["location"].startswith("/filings")
        page = c.get(ok.headers["location"])
        assert "已报送" in page.text and "按时报送" in page.text
        [(kind, period, late, name, sha, stored)] = submissions(people)
        assert (kind, period, late, name) == ("attachment1", "2024-05", 0, "附件1盖章.pdf")
        assert sha == hashlib.sha256(good).hexdigest() and (people.home / stored).read_bytes() == good
        entry = json.loads(people("audit", "log", "--event", "submit_deliverable", "--json", now=NOW).stdout)[-1]
        assert entry["payload"]["sha256"] == sha and entry["actor"] == "许昌联络员"
        assert deadline(people, "attachment1", "2024-05")["status"] == "submitted"
        assert "/filings/scans/1" in page.text
        scan = c.get("/filings/scans/1")
        assert scan.status_code == 200 and scan.content == good
        assert scan.headers["content-disposition"].startswith("attachment;")
        assert scan.headers["content-type"].startswith("application/pdf")
    with web_client(now=NOW) as c:
        login(c, "郑州联络员")
        assert c.get("/filings/scans/1").status_code == 404
        other = upload(c, pdf(), "x.pdf")  # another city's deliverable: as unknown
        assert other.status_code == 404 and len(submissions(people)) == 1


# --- 通知 -------------------------------------------------------------------------------------------

def test_a_read_receipt_is_recorded_once_and_the_province_sees_who_read_when(people: Cli, web_client: Client) -> None:
    people("scheduler", "tick", now="2024-05-28")  # 提醒函 to every city: 附件1 due 05-31
    with web_client(now="2024-05-28") as c:
        login(c, "许昌联络员")
        listed = c.get("/notices")
        assert listed.status_code == 200 and "未读" in listed.text and "郑州市" not in listed.text
        [nid] = notice_ids(listed.text)
        first = c.get(f"/notices/{nid}")
        assert first.status_code == 200 and "许昌市" in first.text and "已记录您的阅读回执" in first.text
        assert "提醒函" in first.text
        again = c.get(f"/notices/{nid}")
        assert "已记录您的阅读回执" not in again.text
        assert [(r[0], r[1], r[2]) for r in receipts(people)] == [(nid, "许昌联络员", "许昌市")]
        assert "已读" in c.get("/notices").text
    with web_client(now="2024-05-28") as c:
        login(c, "郑州联络员")
        assert c.get(f"/notices/{nid}").status_code == 404
        assert nid not in notice_ids(c.get("/notices").text)
    with web_client(now="2024-05-28") as c:
        login(c, "省管理员")
        assert len(notice_ids(c.get("/notices").text)) == 19
        page = c.get(f"/notices/{nid}")
        when = parse_stored(receipts(people)[0][3]).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        assert f"<tr><th scope=\"row\">许昌联络员</th><td>{when}</td></tr>" in page.text
    with web_client(now="2024-05-28") as c:
        login(c, "王专家")
        assert notice_ids(c.get("/notices").text) == [] and c.get(f"/notices/{nid}").status_code == 404


# --- 企业诉求 ---------------------------------------------------------------------------------------

def test_needs_are_opened_answered_and_listed_within_the_city(people: Cli, web_client: Client) -> None:
    with web_client(now=NOW) as c:
        login(c, "许昌联络员")
        missing = post(c, "/needs", {"code": CODE, "subject": " "})
        assert missing.status_code == 422 and 'id="err-open"' in missing.text
        r = post(c, "/needs", {"code": CODE, "subject": "申请帮扶除尘设施提标改造技术指导"})
        assert r.status_code == 303
        page = c.get("/needs")
        assert "申请帮扶除尘设施提标改造技术指导" in page.text and "2024-05-27" in page.text  # 5 working days
        assert "待答复" in page.text
    with web_client(now=NOW) as c:
        login(c, "郑州联络员")
        assert "申请帮扶除尘设施" not in c.get("/needs").text
        assert post(c, "/needs/1/answer", {"text": "越权答复"}).status_code == 404
        assert post(c, "/needs", {"code": CODE, "subject": "越权登记"}).status_code == 404
    with web_client(now=NOW) as c:
        login(c, "许昌联络员")
        assert post(c, "/needs/1/answer", {"text": "已安排专家对接"}).status_code == 303
        assert "已按时答复" in c.get("/needs").text
    rows = json.loads(people("request", "list", "--json", now=NOW).stdout)
    assert [(x["id"], x["status"], x["answered_by"]) for x in rows] == [(1, "answered", "许昌联络员")]


# --- 批量办理 ---------------------------------------------------------------------------------------

ENROL = {"event": "enroll", "consent": "许昌-自愿-批量", "target_grade": "B", "back": "/enterprises"}


def test_a_bulk_action_is_all_or_nothing_with_a_table_of_each_row(people: Cli, web_client: Client) -> None:
    add_enterprises(people, E2, E3)
    people("advance", E3, "enroll", "--consent", "自愿", "--target-grade", "B", now=NOW, actor="许昌联络员")
    with web_client(now=NOW) as c:
        login(c, "许昌联络员")
        listing = c.get("/enterprises")
        assert 'form="bulk-form"' in listing.text and 'id="bulk-form"' in listing.text
        chosen = c.get(f"/bulk?event=enroll&code={CODE}&code={E2}&code={E3}&back=/enterprises")
        assert chosen.status_code == 200 and "纳入培育清单" in chosen.text and E3 in chosen.text
        before = audit_count(people, NOW)
        refused = c.post("/bulk", data={**ENROL, "code": [CODE, E2, E3], "_csrf_token": csrf(c, "/")},
                         follow_redirects=False)
        assert refused.status_code == 422 and 'id="bulk-result"' in refused.text
        table = refused.text[refused.text.index('id="bulk-result"'):]
        assert table.count("✗ 被拒绝") == 1 and table.count("✓ 可执行") == 2 and "整批未执行" in refused.text
        assert audit_count(people, NOW) == before and history(people, CODE) == [] and history(people, E2) == []
        ok = c.post("/bulk", data={**ENROL, "code": [CODE, E2], "_csrf_token": csrf(c, "/")},
                    follow_redirects=False)
        assert ok.status_code == 303 and ok.headers["location"] == "/enterprises"
        assert "已批量完成" in c.get("/enterprises").text
    assert history(people, CODE) == ["enroll"] and history(people, E2) == ["enroll"]


def test_a_bulk_action_outside_ones_scope_is_refused_whole(people: Cli, web_client: Client) -> None:
    with web_client(now=NOW) as c:
        login(c, "郑州联络员")
        before = audit_count(people, NOW)
        r = c.post("/bulk", data={**ENROL, "code": [CODE], "_csrf_token": csrf(c, "/")},
                   follow_redirects=False)
        assert r.status_code == 422 and "不在您的管辖范围内" in r.text and audit_count(people, NOW) == before
        missing = c.post("/bulk", data={"event": "enroll", "code": [CODE], "_csrf_token": csrf(c, "/")},
                         follow_redirects=False)
        assert missing.status_code == 422 and "请填写" in missing.text
    assert history(people, CODE) == []


# --- PostgreSQL: read receipts under row security ----------------------------------------------------

@pytest.mark.postgres
def test_a_city_login_reads_only_its_own_citys_read_receipts(provisioned: Cli, xc_login: str) -> None:
    from tests.helpers.insider import admin_exec, connect

    admin_exec(provisioned, *(f"INSERT INTO notice_read (notice_id, actor, city, read_at) SELECT id, '{who}', city, "
                              f"'2024-05-21T01:00:00Z' FROM notice WHERE city = '{city}'"
                              for who, city in (("许昌联络员", "许昌市"), ("郑州联络员", "郑州市"))))
    with connect(provisioned, xc_login) as conn:
        rows = conn.execute("SELECT actor, city FROM notice_read").fetchall()
    assert rows == [("许昌联络员", "许昌市")]
