"""Who may do what, through the CLI, on SQLite and PostgreSQL: roles, city scope, expert assignment,
separation of duties, conflicts of interest, actor management and accountability."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from models.db import make_engine
from tests.conftest import CODE, Cli
from tests.helpers.audit import refusals
from tests.helpers.lifecycle import ENROLL, walk_to_tracking
from workflow.domain.creditcode import make

OTHER = make("91411000MA45C2R1X")  # a second 许昌 enterprise, nobody assigned


def add_other(cli: Cli) -> None:
    cli("enterprise", "add", "--code", OTHER, "--name", "许昌瑞丰铸造有限公司", "--city", "许昌市",
        "--industry", "铸造", "--grade", "C", "--rating-doc", "豫环文1号", now="2024-05-06", actor="许昌联络员")


def to_acceptance(cli: Cli) -> None:
    walk_to_tracking(cli)
    cli("advance", CODE, "record_evaluation", "--month", "2024-07", now="2024-07-20", actor="王专家")
    cli("advance", CODE, "submit_for_acceptance", now="2024-07-22", actor="许昌联络员")


def test_roles_prints_the_matrix_with_every_lifecycle_event(sqlite_cli: Cli) -> None:
    from workflow.domain.states import EVENTS

    rows = json.loads(sqlite_cli("roles", "--json").stdout)
    actions = {r["action"]: r for r in rows}
    assert set(EVENTS) <= set(actions)
    assert actions["pass_acceptance"]["roles"] == ["city_reviewer"]
    assert actions["record_evaluation"]["roles"] == ["expert"]
    assert "province_admin" in actions["enterprise_add"]["roles"]
    assert "本市" in actions["enroll"]["scope"]
    assert "权限矩阵" in sqlite_cli("roles").stdout


def test_an_unknown_or_deactivated_actor_is_refused_and_the_refusal_recorded(campaign: Cli, tmp_path: Path) -> None:
    r = campaign(*ENROLL, now="2024-05-20", actor="无名氏", expect=1)
    assert "无名氏" in r.stderr
    f = tmp_path / "e.csv"
    f.write_text(f"code,name,city,industry,grade,rating_doc\n{OTHER},企业,许昌市,铸造,C,豫环文1号\n", encoding="utf-8")
    campaign("enterprise", "import", str(f), now="2024-05-20", actor="无名氏", expect=1)
    campaign(*ENROLL, now="2024-05-20", actor="许昌联络员")
    campaign("actor", "deactivate", "许昌联络员", now="2024-05-21", actor="省管理员")
    r = campaign("advance", CODE, "start_assistance", now="2024-06-03", actor="许昌联络员", expect=1)
    assert "停用" in r.stderr
    assert [(a, e) for a, e, _ in refusals(campaign)] == [("无名氏", "enroll"), ("无名氏", "enterprise_import"),
                                                          ("许昌联络员", "start_assistance")]
    listed = json.loads(campaign("actor", "list", "--json").stdout)
    assert {a["name"]: a["active"] for a in listed}["许昌联络员"] is False
    log = json.loads(campaign("audit", "log", "--actor", "许昌联络员", "--json").stdout)
    assert "enroll" in [e["event"] for e in log]  # history stays attributed


def test_the_first_actor_is_added_as_itself_even_with_campaign_actor_set(sqlite_cli: Cli) -> None:
    sqlite_cli("init", "--simulation", now="2024-05-06")
    r = sqlite_cli("actor", "add", "省管理员", "--role", "province_admin", now="2024-05-06", actor="张三", expect=1)
    assert "第一个操作人由其本人登记" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    sqlite_cli("actor", "add", "省管理员", "--role", "province_admin", now="2024-05-06", actor="省管理员")
    log = json.loads(sqlite_cli("audit", "log", "--event", "actor_add", "--json", now="2024-05-06").stdout)
    assert [(e["actor"], e["role"]) for e in log] == [("省管理员", "province_admin")]


def test_only_a_province_admin_adds_or_deactivates_actors(campaign: Cli) -> None:
    r = campaign("actor", "add", "张三", "--role", "expert", now="2024-05-20", expect=1)  # bootstrap is over
    assert "--actor" in r.stderr
    r = campaign("actor", "add", "张三", "--role", "expert", now="2024-05-20", actor="许昌联络员", expect=1)
    assert r.stderr.startswith("错误 Error: 权限")
    r = campaign("actor", "deactivate", "王专家", now="2024-05-20", actor="许昌联络员", expect=1)
    assert "权限" in r.stderr
    campaign("actor", "deactivate", "王专家", now="2024-05-20", actor="省管理员")
    r = campaign("actor", "deactivate", "省管理员", now="2024-05-20", actor="省管理员", expect=1)
    assert "最后一名" in r.stderr
    assert [(a, e) for a, e, _ in refusals(campaign)] == [("", "actor_add"), ("许昌联络员", "actor_add"),
                                                          ("许昌联络员", "actor_deactivate"),
                                                          ("省管理员", "actor_deactivate")]


def test_an_actor_with_several_roles_acts_under_the_role_the_action_needs(campaign: Cli) -> None:
    campaign("actor", "add", "许昌双岗", "--role", "city_coordinator", "--role", "expert", "--city", "许昌市",
             now="2024-05-06", actor="省管理员")
    campaign("assign", CODE, "--expert", "许昌双岗", now="2024-05-06", actor="许昌双岗")
    campaign(*ENROLL, now="2024-05-20", actor="许昌双岗")
    campaign("advance", CODE, "start_assistance", now="2024-06-03", actor="许昌双岗")
    campaign("advance", CODE, "record_pre_assessment", "--data", "findings=f", now="2024-06-05", actor="许昌双岗")
    roles = [(h["event"], h["role"]) for h in json.loads(campaign("history", CODE, "--json").stdout)]
    assert roles == [("enroll", "city_coordinator"), ("start_assistance", "city_coordinator"),
                     ("record_pre_assessment", "expert")]


def test_acting_outside_ones_city_is_refused(campaign: Cli, tmp_path: Path) -> None:
    r = campaign(*ENROLL, now="2024-05-20", actor="郑州联络员", expect=1)
    assert r.stderr.startswith("错误 Error: 城市范围")
    r = campaign("enterprise", "update", CODE, "--name", "改名", now="2024-05-20", actor="郑州联络员", expect=1)
    assert "城市范围" in r.stderr
    f = tmp_path / "list.csv"
    with f.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([["code", "name", "city", "industry", "grade", "rating_doc"],
                                   [OTHER, "许昌瑞丰铸造有限公司", "许昌市", "铸造", "C", "豫环文1号"]])
    r = campaign("enterprise", "import", str(f), now="2024-05-20", actor="郑州联络员", expect=1)
    assert "城市范围" in r.stdout + r.stderr
    campaign("enterprise", "import", str(f), now="2024-05-20", actor="许昌联络员")
    campaign(*ENROLL, now="2024-05-20", actor="省管理员")  # the province admin may do a coordinator's work
    assert ("郑州联络员", "enroll", "城市范围") in refusals(campaign)


def test_an_expert_acts_only_on_enterprises_assigned_to_them(campaign: Cli) -> None:
    add_other(campaign)
    for code in (CODE, OTHER):
        campaign("advance", code, "enroll", "--consent", "c", "--target-grade", "B", now="2024-05-20",
                 actor="许昌联络员")
        campaign("advance", code, "start_assistance", now="2024-06-03", actor="许昌联络员")
    r = campaign("advance", OTHER, "record_pre_assessment", now="2024-06-05", actor="王专家", expect=1)
    assert r.stderr.startswith("错误 Error: 专家指派")
    r = campaign("assign", OTHER, "--expert", "王专家", now="2024-06-05", actor="郑州联络员", expect=1)
    assert "城市范围" in r.stderr
    r = campaign("assign", OTHER, "--expert", "许昌评审", now="2024-06-05", actor="许昌联络员", expect=1)
    assert "不是在用的专家" in r.stderr
    campaign("assign", OTHER, "--expert", "王专家", now="2024-06-05", actor="许昌联络员")
    campaign("advance", OTHER, "record_pre_assessment", "--data", "findings=f", now="2024-06-05", actor="王专家")
    campaign("assign", CODE, "--expert", "王专家", "--remove", now="2024-06-05", actor="省管理员")
    r = campaign("advance", CODE, "record_pre_assessment", now="2024-06-05", actor="王专家", expect=1)
    assert "专家指派" in r.stderr
    r = campaign("advance", CODE, "start_assistance", now="2024-06-05", actor="王专家", expect=1)
    assert "权限" in r.stderr


def test_the_city_reviewer_decides_acceptance_but_not_as_the_enterprises_expert(campaign: Cli) -> None:
    campaign("actor", "add", "许昌评审专家", "--role", "city_reviewer", "--role", "expert", "--city", "许昌市",
             now="2024-05-06", actor="省管理员")
    campaign("assign", CODE, "--expert", "许昌评审专家", now="2024-05-06", actor="许昌联络员")
    to_acceptance(campaign)
    r = campaign("advance", CODE, "pass_acceptance", now="2024-07-25", actor="许昌评审专家", expect=1)
    assert r.stderr.startswith("错误 Error: 职责分离")
    r = campaign("advance", CODE, "pass_acceptance", now="2024-07-25", actor="许昌联络员", expect=1)
    assert "权限" in r.stderr
    campaign("actor", "add", "郑州评审", "--role", "city_reviewer", "--city", "郑州市", now="2024-07-25",
             actor="省管理员")
    r = campaign("advance", CODE, "pass_acceptance", now="2024-07-25", actor="郑州评审", expect=1)
    assert "城市范围" in r.stderr
    campaign("advance", CODE, "pass_acceptance", now="2024-07-25", actor="许昌评审")


def test_whoever_passed_the_city_acceptance_may_not_do_the_provincial_recheck(campaign: Cli) -> None:
    campaign("actor", "add", "两级评审", "--role", "city_reviewer", "--role", "province_reviewer",
             "--city", "许昌市", now="2024-05-06", actor="省管理员")
    to_acceptance(campaign)
    campaign("advance", CODE, "pass_acceptance", now="2024-07-25", actor="两级评审")
    for event in ("pass_recheck", "waive_recheck"):
        r = campaign("advance", CODE, event, now="2024-08-05", actor="两级评审", expect=1)
        assert r.stderr.startswith("错误 Error: 职责分离")
    r = campaign("advance", CODE, "pass_recheck", now="2024-08-05", actor="许昌评审", expect=1)
    assert "权限" in r.stderr
    campaign("advance", CODE, "pass_recheck", now="2024-08-05", actor="省复核员")
    r = campaign("advance", CODE, "certify", "--grade", "B", now="2024-09-12", actor="省复核员", expect=1)
    assert "权限" in r.stderr


def test_a_declared_conflict_of_interest_bars_the_actor_from_the_enterprise(campaign: Cli) -> None:
    add_other(campaign)
    r = campaign("actor", "declare-conflict", "许昌联络员", CODE, "--reason", "x", now="2024-05-10",
                 actor="郑州联络员", expect=1)
    assert "权限" in r.stderr
    campaign("actor", "declare-conflict", "许昌联络员", CODE, "--reason", "配偶任该企业环保负责人",
             now="2024-05-10", actor="许昌联络员")
    r = campaign(*ENROLL, now="2024-05-20", actor="许昌联络员", expect=1)
    assert r.stderr.startswith("错误 Error: 利益冲突回避")
    campaign("advance", OTHER, "enroll", "--consent", "c", "--target-grade", "B", now="2024-05-20",
             actor="许昌联络员")  # other enterprises are not affected
    campaign(*ENROLL, now="2024-05-20", actor="省管理员")
    campaign("actor", "declare-conflict", "王专家", OTHER, "--reason", "曾为该企业编制方案", now="2024-05-20",
             actor="省管理员")
    r = campaign("assign", OTHER, "--expert", "王专家", now="2024-05-20", actor="省管理员", expect=1)
    assert "利益冲突回避" in r.stderr
    r = campaign("actor", "declare-conflict", "王专家", OTHER, "--reason", " ", now="2024-05-20",
                 actor="王专家", expect=1)
    assert "已申报" in r.stderr or "--reason" in r.stderr
    assert ("许昌联络员", "enroll", "利益冲突回避") in refusals(campaign)
    log = json.loads(campaign("audit", "log", "--event", "declare_conflict", "--json").stdout)
    assert [(e["code"], e["payload"]["actor"], e["reason"]) for e in log] == [
        (CODE, "许昌联络员", "配偶任该企业环保负责人"), (OTHER, "王专家", "曾为该企业编制方案")]


def test_disqualify_needs_a_reason_and_names_everyone_who_acted(campaign: Cli) -> None:
    walk_to_tracking(campaign)
    r = campaign("advance", CODE, "disqualify", now="2024-07-01", actor="省管理员", expect=1)
    assert "理由" in r.stderr or "reason" in r.stderr
    r = campaign("advance", CODE, "disqualify", "--reason", "x", now="2024-07-01", actor="许昌联络员", expect=1)
    assert "权限" in r.stderr
    campaign("advance", CODE, "disqualify", "--reason", "企业提供虚假监测数据", now="2024-07-01", actor="省管理员")
    record = json.loads(campaign("audit", "actors", CODE, "--json", now="2024-07-02").stdout)
    assert record["disqualified"]["reason"] == "企业提供虚假监测数据"
    by_actor = {a["actor"]: [x["event"] for x in a["actions"]] for a in record["actors"]}
    assert by_actor == {
        "许昌联络员": ["enterprise_add", "assign_expert", "enroll", "start_assistance", "begin_tracking"],
        "王专家": ["record_pre_assessment", "submit_plan"], "省管理员": ["disqualify"]}
    history = json.loads(campaign("history", CODE, "--json", now="2024-07-02").stdout)
    assert history[-1]["payload"]["accountable"] == ["许昌联络员", "王专家"]
    out = campaign("audit", "actors", CODE, now="2024-07-02").stdout
    assert "取消评级资格" in out and "王专家" in out


def test_audit_log_filters_for_the_discipline_inspection(campaign: Cli, tmp_path: Path) -> None:
    walk_to_tracking(campaign)
    everything = json.loads(campaign("audit", "log", "--json").stdout)
    assert [e["seq"] for e in everything] == sorted(e["seq"] for e in everything)
    mine = json.loads(campaign("audit", "log", "--actor", "王专家", "--code", CODE, "--json").stdout)
    assert [e["event"] for e in mine] == ["record_pre_assessment", "submit_plan"]
    june = json.loads(campaign("audit", "log", "--city", "许昌", "--since", "2024-06-04", "--until", "2024-06-10",
                               "--json").stdout)
    assert [e["event"] for e in june] == ["record_pre_assessment", "submit_plan"]
    tracking = json.loads(campaign("audit", "log", "--event", "begin_tracking", "--json").stdout)
    assert [e["actor"] for e in tracking] == ["许昌联络员"]
    campaign("audit", "log", "--since", "六月", expect=1)
    campaign("audit", "log", "--json", "--xlsx", str(tmp_path / "a.xlsx"), expect=2)
    bad = campaign("audit", "log", "--xlsx", str(tmp_path / "no" / "log.xlsx"), expect=1).stderr
    assert "--xlsx" in bad and "--out" not in bad and len(bad.strip().splitlines()) == 1
    assert "王专家" in campaign("audit", "log", "--actor", "王专家").stdout
    out = campaign("audit", "log", "--actor", "王专家", "--xlsx", str(tmp_path / "log.xlsx")).stdout
    assert "2 条" in out
    from openpyxl import load_workbook

    ws = load_workbook(tmp_path / "log.xlsx").active
    assert ws is not None
    values = [c for row in ws.iter_rows(values_only=True) for c in row if c]
    assert "record_pre_assessment" in values and "submit_plan" in values


def test_db_provision_and_grant_say_they_need_postgresql_on_sqlite(sqlite_cli: Cli) -> None:
    from tests.conftest import bootstrap

    bootstrap(sqlite_cli)
    r = sqlite_cli("db", "provision", actor="省管理员", expect=1)
    assert "PostgreSQL" in r.stderr
    r = sqlite_cli("db", "grant", "xc", "--city", "许昌市", "--role", "city_coordinator", actor="省管理员", expect=1)
    assert "PostgreSQL" in r.stderr


def test_actor_names_are_normalised_and_invisible_characters_or_the_system_name_refused(campaign: Cli) -> None:
    for bad, shown in (("专家甲\u200b", "U+200B"), ("专\u2060家", "U+2060"), ("专家\n甲", "U+000A"),
                       ("\ufeff", "U+FEFF")):
        r = campaign("actor", "add", bad, "--role", "expert", now="2024-05-06", actor="省管理员", expect=1)
        assert shown in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    for reserved in ("system", "System", "ｓｙｓｔｅｍ"):
        r = campaign("actor", "add", reserved, "--role", "expert", now="2024-05-06", actor="省管理员", expect=1)
        assert "保留" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    campaign("actor", "add", " 专家甲 ", "--role", "expert", now="2024-05-06", actor="省管理员")
    r = campaign("actor", "add", "专家甲", "--role", "expert", now="2024-05-06", actor="省管理员", expect=1)
    assert "已存在" in r.stderr  # the stripped name is the one stored
    campaign("actor", "add", "ＡＢＣ专家", "--role", "expert", now="2024-05-06", actor="省管理员")
    names = [a["name"] for a in json.loads(campaign("actor", "list", "--json").stdout)]
    assert "专家甲" in names and "ABC专家" in names and not any("system" in n.lower() for n in names)
    campaign("assign", CODE, "--expert", "ABC专家", now="2024-05-06", actor="许昌联络员")  # found as typed…
    campaign("assign", CODE, "--expert", "ＡＢＣ专家", "--remove", now="2024-05-06", actor="许昌联络员")  # …or wide
    assert [e for a, e, _ in refusals(campaign)].count("actor_add") == 8


def test_the_same_contact_address_is_active_once_per_city(campaign: Cli) -> None:
    add = ("contact", "add", "--city", "许昌市", "--email", "dqk@xuchang.gov.cn")
    campaign(*add, now="2024-05-20", actor="许昌联络员")
    r = campaign(*add, "--name", "又一次", now="2024-05-20", actor="许昌联络员", expect=1)
    assert "已有相同的在用联系人地址" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    campaign("contact", "add", "--city", "郑州市", "--email", "dqk@xuchang.gov.cn", now="2024-05-20",
             actor="郑州联络员")  # another city may use the same address
    listed = json.loads(campaign("contact", "list", "--json").stdout)
    assert len(listed) == 2
    campaign("contact", "remove", str(listed[0]["id"]), now="2024-05-20", actor="许昌联络员")
    campaign(*add, now="2024-05-21", actor="许昌联络员")  # a removed address may be added again
    assert ("许昌联络员", "contact_add") in [(a, e) for a, e, _ in refusals(campaign)]
    engine = make_engine(campaign.db)
    try:
        with engine.connect() as c:  # the database itself refuses a second active copy
            with pytest.raises(IntegrityError):
                c.execute(text("INSERT INTO contact (city, name, email, active, created_at) "
                               "VALUES ('许昌市', '', 'dqk@xuchang.gov.cn', :t, '')"), {"t": True})
            c.rollback()
            c.execute(text("INSERT INTO contact (city, name, webhook, active, created_at) "
                           "VALUES (NULL, '', 'https://h/x', :t, '')"), {"t": True})
            with pytest.raises(IntegrityError):
                c.execute(text("INSERT INTO contact (city, name, webhook, active, created_at) "
                               "VALUES (NULL, '', 'https://h/x', :t, '')"), {"t": True})
            c.rollback()
    finally:
        engine.dispose()
