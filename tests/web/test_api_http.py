"""The JSON API at the HTTP level (the app in-process, Litestar's TestClient): bearer tokens only (a
session cookie alone is 401), the same services and checks as the CLI, the error statuses (400, 401,
403, 404, 409, 422) with the CLI's reason text, out of scope as 404 with nothing written, the batch
all or nothing, and the OpenAPI schema served."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from tests.conftest import CODE, Cli
from tests.helpers.lifecycle import ENROLL
from tests.helpers.web import audit_count, csrf, login
from tests.helpers.web_api import bearer, make_token
from workflow.domain.creditcode import make

pytestmark = pytest.mark.browser
Client = Callable[..., AbstractContextManager[Any]]
NOW = "2024-05-20"
JUNE = "2024-06-03"
ENROL = {"code": CODE, "event": "enroll", "consent": "许昌-自愿-001", "target_grade": "B"}
UNREGISTERED = make("91410100MA45C2R1W")


def history(cli: Cli) -> list[dict[str, Any]]:
    r = cli("history", CODE, "--json", now=JUNE, expect=None)
    return [] if r.exit_code else list(json.loads(r.stdout))


def test_only_a_bearer_token_authenticates_never_the_session_cookie(people: Cli, web_client: Client) -> None:
    token = make_token(people, "许昌联络员")
    with web_client(now=NOW) as c:
        assert login(c, "许昌联络员").status_code == 303  # a live session cookie in the client
        assert c.get("/").status_code == 200
        before = audit_count(people, NOW)
        cookie_only = c.get("/api/enterprises")
        assert cookie_only.status_code == 401 and cookie_only.headers["www-authenticate"].startswith("Bearer")
        assert cookie_only.json()["rule"] == "令牌" and "Authorization" in cookie_only.json()["error"]
        posted = c.post("/api/advance", json=ENROL, headers={"x-csrftoken": csrf(c, "/")})
        assert posted.status_code == 401
        for wrong in ("Bearer " + token[:-1] + "x", "Bearer", "Basic " + token, token):
            assert c.get("/api/enterprises", headers={"Authorization": wrong}).status_code == 401
        assert audit_count(people, NOW) == before and history(people) == []

        ok = c.get("/api/enterprises", headers=bearer(token))
        assert ok.status_code == 200 and [e["code"] for e in ok.json()["items"]] == [CODE]
        assert "set-cookie" not in ok.headers  # no session, no CSRF cookie: the API is stateless
    people("actor", "token-revoke", "1", actor="许昌联络员")
    with web_client(now=NOW) as c:
        assert c.get("/api/enterprises", headers=bearer(token)).status_code == 401


def test_a_token_advances_one_enterprise_as_its_person_without_a_csrf_token(people: Cli, web_client: Client) -> None:
    token = make_token(people, "许昌联络员")
    with web_client(now=NOW) as c:
        r = c.post("/api/advance", json=ENROL, headers=bearer(token))
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["from_state"], body["to_state"], body["version"]) == ("unenrolled", "cultivation", 1)
        shown = c.get(f"/api/enterprises/{CODE}", headers=bearer(token)).json()
        assert shown["state"] == "cultivation" and shown["version"] == 1
        assert [h["event"] for h in shown["history"]][-1] == "enroll" and shown["chain_ok"]
        lines = c.get(f"/api/participations/{CODE}/history", headers=bearer(token)).json()
        assert lines[-1]["seq"] == body["seq"] and lines[-1]["actor"] == "许昌联络员" and lines[-1]["ok"]
    entries = history(people)
    assert [(e["event"], e["actor"], e["role"]) for e in entries] == [("enroll", "许昌联络员", "city_coordinator")]
    assert entries[0]["hash"] == body["hash"]


def test_a_batch_applies_all_or_nothing(people: Cli, web_client: Client) -> None:
    people(*ENROLL, now=NOW, actor="许昌联络员")
    token = make_token(people, "许昌联络员")
    rows = [{"code": CODE, "event": "start_assistance"}, {"code": CODE, "event": "begin_tracking"}]
    with web_client(now=JUNE) as c:
        before = audit_count(people, JUNE)
        refused = c.post("/api/advance/batch", json=rows, headers=bearer(token))
        assert refused.status_code == 422
        body = refused.json()
        assert body["ok"] is False and [o["ok"] for o in body["outcomes"]] == [True, False]
        assert body["outcomes"][1]["line"] == 2 and body["error"].startswith("第 2 行：")
        assert audit_count(people, JUNE) == before  # the first row was not kept either
        assert c.post("/api/advance/batch", json=[], headers=bearer(token)).status_code == 400
        done = c.post("/api/advance/batch", json=rows[:1], headers=bearer(token))
        assert done.status_code == 200 and done.json()["ok"] is True
        assert done.json()["outcomes"][0]["message"] == "cultivation → assistance"
    assert [e["event"] for e in history(people)] == ["enroll", "start_assistance"]


def test_each_refusal_has_its_status_and_the_clis_reason(people: Cli, web_client: Client) -> None:
    tokens = {n: make_token(people, n) for n in ("许昌联络员", "许昌评审", "郑州联络员")}
    with web_client(now=NOW) as c:
        def advance(name: str, **body: Any) -> Any:
            return c.post("/api/advance", json=body, headers=bearer(tokens[name]))

        bad = advance("许昌联络员", code="123", event="enroll")  # 400: invalid input
        assert bad.status_code == 400 and "18位" in bad.json()["error"]
        shape = advance("许昌联络员", code=CODE, evnt="enroll")
        assert shape.status_code == 400 and "evnt" in shape.json()["error"]
        cli_says = people("advance", CODE, "enroll", "--consent", "x", "--target-grade", "B", now=NOW,
                          actor="许昌评审", expect=1).stderr
        role = advance("许昌评审", **ENROL)  # 403: a reviewer may not enrol
        assert role.status_code == 403 and role.json()["rule"] == "权限"
        assert role.json()["error"] in cli_says and role.json()["code"] == CODE
        window = advance("许昌联络员", code=CODE, event="start_assistance")  # 422: not in this state / window
        assert window.status_code == 422 and window.json()["error"] and window.json()["rule"]
        assert advance("许昌联络员", **ENROL).status_code == 200
        stale = advance("许昌联络员", code=CODE, event="withdraw", reason="企业自愿退出", expected_version=0)
        assert stale.status_code == 409 and "他人" in stale.json()["error"]  # 409: changed since version 0
        again = advance("许昌联络员", **ENROL)
        assert again.status_code == 422 and again.json()["rule"] == "state"


def test_outside_ones_scope_is_404_and_changes_nothing(people: Cli, web_client: Client) -> None:
    zz = make_token(people, "郑州联络员")
    with web_client(now=NOW) as c:
        before = audit_count(people, NOW)
        listed = c.get("/api/enterprises", headers=bearer(zz)).json()
        assert listed["items"] == [] and listed["total"] == 0
        shown = c.get(f"/api/enterprises/{CODE}", headers=bearer(zz))
        unknown = c.get(f"/api/enterprises/{UNREGISTERED}", headers=bearer(zz))
        assert shown.status_code == unknown.status_code == 404
        assert shown.json()["error"] == unknown.json()["error"].replace(UNREGISTERED, CODE)  # the same answer
        assert c.get(f"/api/participations/{CODE}/history", headers=bearer(zz)).status_code == 404
        moved = c.post("/api/advance", json=ENROL, headers=bearer(zz))
        assert moved.status_code == 404 and "许昌" not in moved.json()["error"]  # nothing about where it is
        batch = c.post("/api/advance/batch", json=[ENROL], headers=bearer(zz))
        assert batch.status_code == 422 and "管辖范围" in batch.json()["outcomes"][0]["message"]
        assert "许昌" not in batch.text
        need = c.post("/api/needs", json={"code": CODE, "subject": "咨询改造资金"}, headers=bearer(zz))
        assert need.status_code == 404
        filing = c.post("/api/deliverables", json={"city": "许昌市", "kind": "attachment1"}, headers=bearer(zz))
        assert filing.status_code == 404
        assert audit_count(people, NOW) == before and history(people) == []
    refusals = people("audit", "refusals", "--json", now=NOW, expect=None)
    if refusals.exit_code == 0:  # the refusals are recorded like the CLI's
        assert "郑州联络员" in refusals.stdout


def test_needs_deliverables_and_the_reads(people: Cli, web_client: Client) -> None:
    xc, zz = make_token(people, "许昌联络员"), make_token(people, "郑州联络员")
    with web_client(now=NOW) as c:
        opened = c.post("/api/needs", json={"code": CODE, "subject": "咨询改造资金"}, headers=bearer(xc))
        assert opened.status_code == 201, opened.text
        need = opened.json()
        assert need["code"] == CODE and need["due"] > NOW
        other = c.post(f"/api/needs/{need['id']}/answer", json={"text": "已答复"}, headers=bearer(zz))
        assert other.status_code == 404
        answered = c.post(f"/api/needs/{need['id']}/answer", json={"text": "已转发改委"}, headers=bearer(xc))
        assert answered.status_code == 200 and answered.json()["late"] is False
        twice = c.post(f"/api/needs/{need['id']}/answer", json={"text": "再答"}, headers=bearer(xc))
        assert twice.status_code == 422
        assert c.post("/api/needs/999/answer", json={"text": "x"}, headers=bearer(xc)).status_code == 404

        filed = c.post("/api/deliverables", json={"city": "许昌市", "kind": "attachment1", "note": "第一批"},
                       headers=bearer(xc))
        assert filed.status_code == 201 and filed.json()["late"] is False and filed.json()["file"] is None
        kind = c.post("/api/deliverables", json={"city": "许昌市", "kind": "attachment9"}, headers=bearer(xc))
        assert kind.status_code == 400 and "attachment9" in kind.json()["error"]
        rows = c.get("/api/deadlines", params={"city": "许昌市"}, headers=bearer(xc)).json()
        first = next(r for r in rows if r["kind"] == "attachment1")
        assert first["status"] == "submitted" and first["submitted_on"] == NOW
        figures = c.get("/api/targets", headers=bearer(xc)).json()
        assert figures["province"]["target"] == 600 and figures["cities"]
        assert c.get("/api/enterprises", params={"sort": "nonsense"}, headers=bearer(xc)).status_code == 400
    events = [e["event"] for e in history(people)]
    assert events == ["open_request", "answer_request"]


def test_the_openapi_schema_lists_the_endpoints(people: Cli, web_client: Client) -> None:
    with web_client(now=NOW) as c:
        r = c.get("/api/openapi.json")
        assert r.status_code == 200
        schema = r.json()
    paths = schema["paths"]
    assert set(paths) == {"/api/enterprises", "/api/enterprises/{code}", "/api/participations/{code}/history",
                          "/api/deadlines", "/api/targets", "/api/advance", "/api/advance/batch",
                          "/api/deliverables", "/api/needs", "/api/needs/{need_id}/answer"}
    assert schema["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    advance = paths["/api/advance"]["post"]
    assert {"200", "400", "401", "403", "404", "409", "422"} <= set(advance["responses"])
    assert "AdvanceIn" in json.dumps(advance["requestBody"]) and "expected_version" in json.dumps(schema)
    assert {"get"} == set(paths["/api/enterprises"]) and any(p["name"] == "state" for p in
                                                              paths["/api/enterprises"]["get"]["parameters"])


def test_a_wrong_method_under_the_api_is_answered_in_json(people: Cli, web_client: Client) -> None:
    token = make_token(people, "许昌联络员")
    with web_client(now=NOW) as c:
        for r in (c.delete("/api/enterprises", headers=bearer(token)), c.get("/api/advance", headers=bearer(token))):
            assert r.status_code == 405 and r.headers["content-type"].startswith("application/json")
            assert "不支持此请求方式" in r.json()["error"]
        page = c.delete("/enterprises")  # the workspace keeps its page
        assert page.status_code == 405 and page.headers["content-type"].startswith("text/html")
