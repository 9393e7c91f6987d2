"""The province's desk at the HTTP level: the spot-check draw (reproducible from its seed), the recheck
queue, the publicity list and the list downloads (/province); actors and the permission matrix
(/admin/actors, /admin/permissions); the audit log, verify, digest and accountability (/audit).
Province roles act; a city coordinator is refused and nothing changes."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest

from tests.conftest import Cli
from tests.helpers.audit import audit_entries, drop_triggers, execute
from tests.helpers.spot_checks import XU, ZZ
from tests.helpers.web import PASSWORD, audit_count, login, post
from tests.helpers.web_province import (  # noqa: F401  (fixtures)
    DESK_DAY,
    client,
    copy_db,
    desk_fixture,
    desk_template_fixture,
    drawn_codes,
    shown_seed,
    verify_runs,
)

pytestmark = pytest.mark.browser


def spot_checks(cli: Cli) -> list[dict[str, Any]]:
    return [json.loads(e["payload"]) | {"actor": e["actor"]} for e in audit_entries(cli, "spot_check")]


def draw(c: Any, **form: str) -> Any:
    return post(c, "/province/spot-checks", form)


# --- /province ------------------------------------------------------------------------------------

def test_the_province_draws_a_spot_check_and_sees_seed_population_and_selection(desk: Cli) -> None:
    from workflow.services.spotcheck import draw as redraw

    with client(desk) as c:
        assert login(c, "省复核员").status_code == 303
        before = c.get("/province")
        assert before.status_code == 200 and before.text.count("未抽中") == 8 and "本年行动尚未抽样" in before.text
        r = draw(c, rate="0.5", city="许昌市", seed="20240801")
        assert r.status_code == 303 and r.headers["location"].startswith("/province#draw-")
        page = c.get("/province")
    expected = redraw(sorted(XU), 0.5, 20240801)
    assert "已抽样" in page.text and "种子 20240801" in page.text  # the flash
    assert shown_seed(page.text) == 20240801 and drawn_codes(page.text) == expected
    assert "✓ 一致（可复现）" in page.text and "待抽范围（6" in page.text
    assert page.text.count("已抽中（审计") == 3 and page.text.count("未抽中") == 5
    [entry] = spot_checks(desk)
    assert entry["actor"] == "省复核员" and entry["selected"] == expected and entry["population"] == sorted(XU)


def test_the_same_seed_draws_the_same_enterprises_and_a_fresh_seed_is_shown(desk_template: Any, tmp_path: Any) -> None:
    from workflow.services.spotcheck import draw as redraw

    picks = []
    for n in (1, 2):
        folder = tmp_path / f"copy{n}"
        folder.mkdir()
        with client(copy_db(desk_template, folder)) as c:
            login(c, "省管理员")
            assert draw(c, rate="25%", seed="777").status_code == 303
            picks.append(drawn_codes(c.get("/province").text))
    assert picks[0] == picks[1] == redraw(sorted(XU + ZZ), 0.25, 777) and len(picks[0]) == 2
    folder = tmp_path / "fresh"
    folder.mkdir()
    with client(copy_db(desk_template, folder)) as c:
        login(c, "省复核员")
        assert draw(c, rate="0.5", city="郑州市").status_code == 303  # no seed: a random one, shown
        html = c.get("/province").text
    assert drawn_codes(html) == redraw(sorted(ZZ), 0.5, shown_seed(html))


def test_a_bad_draw_is_refused_next_to_the_form_and_writes_nothing(desk: Cli) -> None:
    with client(desk) as c:
        login(c, "省复核员")
        before = audit_count(desk, DESK_DAY)
        for rate in ("abc", "1.5", "0"):
            r = draw(c, rate=rate, seed="1")
            assert r.status_code == 422 and 'id="draw-error"' in r.text, rate
            assert f'value="{rate}"' in r.text  # the form keeps what was typed
        r = draw(c, rate="0.5", seed="12x")
        assert r.status_code == 422 and "随机种子" in r.text
    with client(desk, now="2024-07-28") as c:  # before the August round opens
        login(c, "省复核员")
        r = draw(c, rate="0.5")
        assert r.status_code == 422 and "抽查复核只能在" in r.text
    assert audit_count(desk, DESK_DAY) == before and spot_checks(desk) == []


def test_a_city_coordinator_can_neither_open_the_desk_nor_draw_nor_download(desk: Cli) -> None:
    with client(desk) as c:
        login(c, "许昌联络员")
        before = audit_count(desk, DESK_DAY)
        assert c.get("/province").status_code == 403
        r = draw(c, rate="1", city="许昌市", seed="5")
        assert r.status_code == 403 and "权限" in r.text
        assert c.get("/province/exports/positive-list").status_code == 403
        assert c.get("/province/exports/emission-list?city=许昌市").status_code == 403
        assert "/province" not in c.get("/").text  # not in the navigation either
    assert audit_count(desk, DESK_DAY) == before and spot_checks(desk) == []


def _workbook(r: Any) -> Any:
    from openpyxl import load_workbook

    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;") and ".xlsx" in disposition and "filename*=UTF-8''" in disposition
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.content[:2] == b"PK"
    return load_workbook(io.BytesIO(r.content))


def cells(ws: Any) -> list[str]:
    return [str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None]


def test_the_lists_download_as_xlsx_attachments(desk: Cli) -> None:
    with client(desk) as c:
        login(c, "省复核员")
        positive = _workbook(c.get("/province/exports/positive-list"))
        assert any("正面清单" in v for v in cells(positive.worksheets[0]))
        one = _workbook(c.get("/province/exports/emission-list?city=许昌市"))
        assert len(one.worksheets) == 1 and set(XU) <= set(cells(one.worksheets[0]))
        every = _workbook(c.get("/province/exports/emission-list"))
        assert len(every.worksheets) > 2  # a sheet per city
        r = c.get("/province/exports/attachment1")
        assert r.status_code == 422 and 'id="export-error"' in r.text
        r = c.get("/province/exports/emission-list?city=火星市")
        assert r.status_code == 422 and "未知城市" in r.text


def test_the_queue_and_the_publicity_list_follow_the_recheck(desk: Cli) -> None:
    desk("advance", ZZ[0], "waive_recheck", now=DESK_DAY, actor="省复核员")
    with client(desk) as c:
        login(c, "省管理员")
        html = c.get("/province").text
    queue = html[html.index('id="queue-h"'):html.index('id="pub-h"')]
    publicity = html[html.index('id="pub-h"'):html.index('id="cert-h"')]
    assert ZZ[0] not in queue and ZZ[1] in queue and all(code in queue for code in XU)
    assert ZZ[0] in publicity and "待公示" in publicity


# --- /admin/actors --------------------------------------------------------------------------------

def test_the_admin_manages_a_person_each_step_audited(desk: Cli) -> None:
    with client(desk) as c:
        login(c, "省管理员")
        assert "许昌联络员" in c.get("/admin/actors").text
        r = post(c, "/admin/actors", {"name": "洛阳联络员", "roles": "city_coordinator", "city": "洛阳市",
                                      "password": "initial-password-42"})
        assert r.status_code == 303 and "/admin/actors/one?name=" in r.headers["location"]
        assert post(c, "/admin/actors/roles", {"name": "洛阳联络员", "roles": "city_reviewer",
                                               "city": "洛阳市"}).status_code == 303
        assert post(c, "/admin/actors/conflict", {"name": "王专家", "code": XU[0],
                                                  "reason": "亲属在该企业任职"}).status_code == 303
        assert post(c, "/admin/actors/password", {"name": "许昌联络员",
                                                  "password": "reset-by-admin-77"}).status_code == 303
        page = c.get("/admin/actors/one?name=洛阳联络员")
        assert "市级评审人员" in page.text and "洛阳市" in page.text
    with client(desk) as other:  # the new person logs in with the initial password and must change it
        assert login(other, "洛阳联络员", "initial-password-42").headers["location"] == "/password"
        assert login(other, "许昌联络员", PASSWORD).status_code != 303  # the old password is gone
    with client(desk) as c:
        login(c, "省管理员")
        assert post(c, "/admin/actors/deactivate", {"name": "洛阳联络员"}).status_code == 303
        assert "已停用" in c.get("/admin/actors/one?name=洛阳联络员").text
    for event, who in (("actor_add", "洛阳联络员"), ("actor_roles", "洛阳联络员"), ("set_password", "许昌联络员"),
                       ("actor_deactivate", "洛阳联络员")):
        entries = [e for e in audit_entries(desk, event) if json.loads(e["payload"]).get("name") == who]
        assert entries and entries[-1]["actor"] == "省管理员", event
    roles = json.loads(audit_entries(desk, "actor_roles")[-1]["payload"])
    assert roles["roles"] == ["city_reviewer"] and roles["was"] == {"roles": ["city_coordinator"], "city": "洛阳市"}
    [conflict] = audit_entries(desk, "declare_conflict")
    assert conflict["actor"] == "省管理员" and json.loads(conflict["payload"]) == {"actor": "王专家"}
    desk("audit", "verify", now=DESK_DAY)  # the roles change replays: the actor table is what the log says


def test_refusals_are_shown_next_to_the_form_that_caused_them(desk: Cli) -> None:
    with client(desk) as c:
        login(c, "省管理员")
        before = audit_count(desk, DESK_DAY)
        r = post(c, "/admin/actors/roles", {"name": "郑州联络员", "roles": "city_coordinator"})
        assert r.status_code == 422 and 'id="roles-error"' in r.text and "城市" in r.text
        r = post(c, "/admin/actors/roles", {"name": "省管理员", "roles": "province_reviewer"})
        assert r.status_code == 403 and 'id="roles-error"' in r.text and "最后一名" in r.text
        r = post(c, "/admin/actors/password", {"name": "郑州联络员", "password": "short"})
        assert r.status_code == 422 and 'id="password-error"' in r.text
        r = post(c, "/admin/actors/conflict", {"name": "王专家", "code": "not-a-code", "reason": "x"})
        assert r.status_code in (404, 422) and 'id="conflict-error"' in r.text
        r = post(c, "/admin/actors", {"name": "省管理员", "roles": "expert"})
        assert r.status_code == 422 and 'id="add-error"' in r.text and "已存在" in r.text
    assert audit_count(desk, DESK_DAY) == before


def test_a_city_coordinator_cannot_manage_actors(desk: Cli) -> None:
    with client(desk) as c:
        login(c, "许昌联络员")
        before = audit_count(desk, DESK_DAY)
        assert c.get("/admin/actors").status_code == 403
        assert c.get("/admin/actors/one?name=郑州联络员").status_code == 403
        for path, form in (("/admin/actors", {"name": "新人", "roles": "city_coordinator", "city": "许昌市"}),
                           ("/admin/actors/roles", {"name": "郑州联络员", "roles": "province_admin"}),
                           ("/admin/actors/roles", {"name": "许昌联络员", "roles": "province_admin"}),
                           ("/admin/actors/deactivate", {"name": "郑州联络员"}),
                           ("/admin/actors/password", {"name": "郑州联络员", "password": "taken-over-12345"}),
                           ("/admin/actors/conflict", {"name": "王专家", "code": XU[0], "reason": "x"})):
            r = post(c, path, form)
            assert r.status_code == 403, (path, r.status_code)
        assert c.get("/admin/permissions").status_code == 403
    assert audit_count(desk, DESK_DAY) == before
    people = json.loads(desk("actor", "list", "--json", now=DESK_DAY).stdout)
    assert {p["name"]: (p["roles"], p["active"]) for p in people}["郑州联络员"] == (["city_coordinator"], True)
    assert "新人" not in {p["name"] for p in people}


def test_the_permission_matrix_is_a_page(desk: Cli) -> None:
    with client(desk) as c:
        login(c, "省复核员")
        html = c.get("/admin/permissions").text
    for action in ("spot_check", "actor_roles", "audit_read", "province_desk", "pass_recheck"):
        assert f"<code>{action}</code>" in html
    assert "省级复核人员" in html


# --- /audit ---------------------------------------------------------------------------------------

def rows(html: str) -> list[str]:
    """The seq column of the log table."""
    table = html[html.index('id="log"'):html.index("</table>", html.index('id="log"'))]
    return re.findall(r'<th scope="row">(\d+)</th>', table)


def test_the_audit_log_filters_by_enterprise_actor_event_city_and_date(desk: Cli) -> None:
    with client(desk) as c:
        login(c, "省复核员")
        everything = c.get("/audit")
        assert everything.status_code == 200 and len(rows(everything.text)) == 50 and "下一页" in everything.text
        total = int(re.search(r"审计记录 (\d+) 条", everything.text).group(1))  # type: ignore[union-attr]
        assert total == audit_count(desk, DESK_DAY)
        second = c.get("/audit?page=2")
        assert rows(second.text) and set(rows(second.text)).isdisjoint(rows(everything.text))
        passed = c.get("/audit?event=pass_acceptance").text
        assert len(rows(passed)) == 8
        zz = c.get("/audit", params={"actor": "郑州评审"}).text
        assert len(rows(zz)) == 2 and "许昌评审" not in zz.split('id="log"')[1]
        one = c.get("/audit", params={"code": XU[0]}).text
        table = one.split('id="log"')[1]
        assert XU[0] in table and XU[1] not in table
        day = c.get("/audit", params={"since": "2024-07-25", "until": "2024-07-25"}).text
        assert len(rows(day)) == 8 and "2024-07-25" in day
        city = c.get("/audit", params={"city": "郑州市", "event": "enroll"}).text
        assert len(rows(city)) == 2
        bad = c.get("/audit", params={"since": "2024-13-01"})
        assert bad.status_code == 422 and 'id="filter-error"' in bad.text


def test_verify_shows_intact_and_then_the_break_after_tampering(desk: Cli) -> None:
    with client(desk) as c:
        login(c, "省管理员")
        assert "尚无记录" in c.get("/audit").text
        ok = post(c, "/audit/verify")
        assert ok.status_code == 200 and "✓ 审计链完整" in ok.text and "通过 ✓" in c.get("/audit").text
        assert verify_runs(desk) == [("省管理员", True)]
        execute(desk.db, *drop_triggers(desk.db), "UPDATE audit_entry SET reason = '改过' WHERE seq = 5")
        broken = post(c, "/audit/verify")
        assert broken.status_code == 200 and "✗ 审计链断裂" in broken.text and "#5" in broken.text
        assert "未通过 ✗" in c.get("/audit").text  # recorded as the last verify
        digest = c.get("/audit/digest")
        assert "无法取摘要" in digest.text


def test_the_digest_is_shown_to_copy(desk: Cli) -> None:
    expected = desk("audit", "digest", now=DESK_DAY).stdout.strip().splitlines()[-1]
    with client(desk) as c:
        login(c, "省复核员")
        r = c.get("/audit/digest")
    assert r.status_code == 200 and f'<code class="digest" id="digest-value">{expected}</code>' in r.text


def test_accountability_per_enterprise(desk: Cli) -> None:
    with client(desk) as c:
        login(c, "省复核员")
        r = c.get("/audit/actors", params={"code": XU[0]})
        assert r.status_code == 200
        table = r.text[r.text.index('id="accountability"'):]
        for who in ("许昌联络员", "王专家", "许昌评审", "省管理员"):
            assert who in table
        assert "验收通过" in table and "2024-07-25" in table
        missing = c.get("/audit/actors", params={"code": ZZ[0][:-1] + "X"})
        assert missing.status_code in (404, 422) and 'id="actors-error"' in missing.text


def test_a_city_coordinator_cannot_read_verify_or_digest_the_log(desk: Cli) -> None:
    with client(desk) as c:
        login(c, "许昌联络员")
        before, runs = audit_count(desk, DESK_DAY), verify_runs(desk)
        for path in ("/audit", "/audit?event=enroll", "/audit/digest", f"/audit/actors?code={XU[0]}", "/audit/actors"):
            assert c.get(path).status_code == 403, path
        r = post(c, "/audit/verify")
        assert r.status_code == 403
    assert verify_runs(desk) == runs  # the refused verify was not run, nor recorded
    assert audit_count(desk, DESK_DAY) == before


def test_setting_roles_replays_and_is_refused_to_a_city_role_on_both_databases(cli: Cli) -> None:
    import dataclasses

    from commands.serve import bootstrap as serve_bootstrap
    from tests.conftest import bootstrap
    from tests.helpers.web import environment
    from workflow.errors import Refused
    from workflow.services import actors

    bootstrap(cli)
    with environment(CAMPAIGN_NOW="2024-05-07", CAMPAIGN_DB=cli.db):
        base = serve_bootstrap(cli.db)
    before = audit_count(cli, "2024-05-07")
    with pytest.raises(Refused, match="权限"):  # the service itself refuses, whatever page calls it
        actors.set_roles(dataclasses.replace(base, actor="许昌联络员"), "郑州联络员", ("province_admin",), None)
    assert audit_count(cli, "2024-05-07") == before
    done = actors.set_roles(dataclasses.replace(base, actor="省管理员"), "郑州联络员",
                            ("city_coordinator", "city_reviewer"), "郑州市")
    assert done["roles"] == ["city_coordinator", "city_reviewer"] and done["city"] == "郑州市"
    people = {p["name"]: p for p in json.loads(cli("actor", "list", "--json", now="2024-05-07").stdout)}
    assert people["郑州联络员"]["roles"] == ["city_coordinator", "city_reviewer"]
    cli("audit", "verify", now="2024-05-07")  # the actor row is what the log implies
