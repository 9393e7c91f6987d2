"""Evidence files in the web workspace at the HTTP level (the app in-process): an upload with an
event form, the history's download link, the download's headers, its scope, and refusals."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from tests.conftest import CODE, Cli
from tests.helpers.lifecycle import ENROLL
from tests.helpers.web import csrf, login
from tests.helpers.web_evidence import (
    DISGUISED_HTML,
    PDF_TYPE,
    disposition_name,
    evidence_rows,
    pdf,
    stored_files,
)

pytestmark = pytest.mark.browser
Client = Callable[..., AbstractContextManager[Any]]
NOW = "2024-06-05"
PRE = f"/enterprises/{CODE}/events/record_pre_assessment"


def to_assistance(cli: Cli) -> None:
    cli(*ENROLL, now="2024-05-20", actor="许昌联络员")
    cli("advance", CODE, "start_assistance", now="2024-06-03", actor="许昌联络员")


def upload(client: Any, path: str, fields: dict[str, str], files: list[tuple[str, bytes, str]]) -> Any:
    """A multipart event form as the browser sends it: its fields, the CSRF token, the chosen files."""
    return client.post(path, data={**fields, "_csrf_token": csrf(client, "/")},
                       files=[("evidence", f) for f in files], follow_redirects=False)


def test_an_event_form_carries_files_and_the_history_links_them(people: Cli, web_client: Client) -> None:
    to_assistance(people)
    report = pdf("web upload")
    sha = hashlib.sha256(report).hexdigest()
    with web_client(now=NOW) as c:
        login(c, "王专家")
        page = c.get(f"/enterprises/{CODE}").text
        assert 'enctype="multipart/form-data"' in page
        assert 'name="evidence" type="file" multiple' in page
        assert 'for="record_pre_assessment-evidence"' in page
        r = upload(c, PRE, {"data:findings": "无组织排放管控不足"},
                   [("../../预评估报告.pdf", report, "application/pdf")])
        assert r.status_code == 303, r.text
        page = c.get(f"/enterprises/{CODE}").text
        assert f'href="/evidence/{CODE}/{sha}"' in page and "预评估报告.pdf" in page
    history = json.loads(people("history", CODE, "--json", now=NOW).stdout)
    assert history[-1]["payload"]["evidence"] == [
        {"sha256": sha, "name": "预评估报告.pdf", "size": len(report), "media_type": PDF_TYPE}]
    assert history[-1]["actor"] == "王专家"
    people("audit", "verify", "--files", now=NOW)


def test_a_download_is_an_attachment_for_who_may_see_the_enterprise_only(people: Cli, web_client: Client) -> None:
    to_assistance(people)
    report = pdf("downloaded")
    sha = hashlib.sha256(report).hexdigest()
    with web_client(now=NOW) as c:
        login(c, "王专家")
        assert upload(c, PRE, {"data:findings": "不足"}, [("预评估 报告.pdf", report, "text/html")]).status_code == 303
    for who in ("许昌联络员", "省复核员"):
        with web_client(now=NOW) as c:
            login(c, who)
            r = c.get(f"/evidence/{CODE}/{sha}")
            assert r.status_code == 200 and r.content == report
            assert r.headers["content-type"].startswith(PDF_TYPE)  # detected, not what the browser claimed
            assert r.headers["content-disposition"].startswith("attachment;")
            assert disposition_name(r.headers["content-disposition"]) == "预评估 报告.pdf"
            assert "filename*=UTF-8''" in r.headers["content-disposition"]
            assert r.headers["x-content-type-options"] == "nosniff"
    with web_client(now=NOW) as c:
        login(c, "郑州联络员")  # another city: the same answer as for an unknown file
        r = c.get(f"/evidence/{CODE}/{sha}")
        assert r.status_code == 404 and report not in r.content and "不在您的管辖范围" in r.text
        assert c.get(f"/evidence/{CODE}/{'0' * 64}").status_code == 404
    with web_client(now=NOW) as c:
        login(c, "许昌联络员")
        assert c.get(f"/evidence/{CODE}/{'0' * 64}").status_code == 404
        assert c.get(f"/evidence/{CODE}/..%2F..%2Fcampaign.db").status_code == 404
    with web_client(now=NOW) as c:  # not logged in: to the login page
        r = c.get(f"/evidence/{CODE}/{sha}", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_a_disguised_file_is_refused_next_to_the_form_and_nothing_is_stored(people: Cli, web_client: Client) -> None:
    to_assistance(people)
    with web_client(now=NOW) as c:
        login(c, "王专家")
        r = upload(c, PRE, {"data:findings": "不足"},
                   [("好报告.pdf", pdf("fine"), "application/pdf"), ("报告.pdf", DISGUISED_HTML, "application/pdf")])
        assert r.status_code == 422
        assert 'id="err-record_pre_assessment"' in r.text and "报告.pdf 的内容不是 PDF" in r.text
        assert "不足" in r.text  # the fields typed are kept
    assert stored_files(people.home) == [] and evidence_rows(people) == []
    events = [e["event"] for e in json.loads(people("history", CODE, "--json", now=NOW).stdout)]
    assert "record_pre_assessment" not in events


def test_an_event_refused_with_files_stores_none(people: Cli, web_client: Client) -> None:
    to_assistance(people)
    with web_client(now=NOW) as c:
        login(c, "王专家")  # the plan before the pre-assessment: refused by a rule
        r = upload(c, f"/enterprises/{CODE}/events/submit_plan",
                   {"data:summary": "提标", "data:measures": "除尘", "data:completion_date": "2024-09-30"},
                   [("方案.pdf", pdf("plan"), "application/pdf")])
        assert r.status_code in (404, 422)
    assert stored_files(people.home) == [] and evidence_rows(people) == []


def test_a_file_over_the_limit_is_refused_next_to_the_form(people: Cli, web_client: Client) -> None:
    to_assistance(people)
    with web_client(now=NOW, CAMPAIGN_EVIDENCE_MAX_MB="0.001") as c:
        login(c, "王专家")
        page = c.get(f"/enterprises/{CODE}").text
        assert "不超过 0.001 MB" in page
        r = upload(c, PRE, {"data:findings": "不足"}, [("大报告.pdf", pdf("x" * 3000), "application/pdf")])
        assert r.status_code == 422 and "超过大小上限" in r.text
    assert stored_files(people.home) == [] and evidence_rows(people) == []
