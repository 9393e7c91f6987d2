"""Done when (issue 15): an API client with a token advances an enterprise and is refused outside its
scope, against a real `campaign serve` over HTTP (httpx), as the province's platform would call it."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import CODE, Cli
from tests.helpers.web import Server, audit_count
from tests.helpers.web_api import bearer, make_token

pytestmark = pytest.mark.browser
NOW = "2024-05-20"


def test_a_client_with_a_token_advances_an_enterprise_and_is_refused_outside_its_scope(people: Cli) -> None:
    xc = make_token(people, "许昌联络员", by="许昌联络员")  # the coordinator's own token for their script
    zz = make_token(people, "郑州联络员")  # made by the province admin
    with Server(people, now=NOW) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        schema = client.get("/api/openapi.json").json()
        assert "/api/advance" in schema["paths"]

        found = client.get("/api/enterprises", headers=bearer(xc)).json()
        assert [e["code"] for e in found["items"]] == [CODE] and found["items"][0]["state"] is None
        enrol = {"code": CODE, "event": "enroll", "consent": "许昌-自愿-001", "target_grade": "B",
                 "expected_version": None}
        done = client.post("/api/advance", json=enrol, headers=bearer(xc))
        assert done.status_code == 200, done.text
        assert done.json()["to_state"] == "cultivation"

        before = audit_count(people, NOW)
        seen = client.get(f"/api/enterprises/{CODE}", headers=bearer(zz))
        assert seen.status_code == 404 and seen.headers["content-type"].startswith("application/json")
        refused = client.post("/api/advance", json={"code": CODE, "event": "withdraw", "reason": "试探"},
                              headers=bearer(zz))
        assert refused.status_code == 404
        assert refused.json()["code"] == CODE and "管辖范围" in refused.json()["error"]
        assert client.get("/api/enterprises", headers=bearer(zz)).json()["total"] == 0
        assert client.post("/api/advance", json=enrol).status_code == 401  # no token at all
        assert audit_count(people, NOW) == before

    entries = json.loads(people("history", CODE, "--json", now=NOW).stdout)
    assert [(e["event"], e["actor"], e["to_state"]) for e in entries] == [("enroll", "许昌联络员", "cultivation")]
