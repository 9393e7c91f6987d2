"""A shared PostgreSQL database holds against its own users (issue 12): a person's login, made by
`db grant`, reads only its scope and writes nothing, whatever raw SQL it sends; the engine writes
with its service login (the owner), and even then the database refuses an audit entry the actor
table does not back and a participation, evaluation or conflict row without its audit entry."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest

from tests.conftest import CODE, Cli
from tests.helpers.insider import (
    ATTEMPTS,
    ZZ,
    admin_exec,
    admin_query,
    attempt,
    connect,
    facts,
    login_url,
)

pytestmark = pytest.mark.postgres


def _rows(conn: Any, sql: str) -> list[Any]:
    return list(conn.execute(sql).fetchall())


def test_a_city_login_reads_only_its_own_citys_rows_on_every_table(provisioned: Cli, xc_login: str) -> None:
    with connect(provisioned, xc_login) as conn:
        assert [r[0] for r in _rows(conn, "SELECT code FROM enterprise")] == [CODE]
        assert _rows(conn, "SELECT count(*) FROM participation") == [(1,)]
        contacts = _rows(conn, "SELECT city, webhook FROM contact")
        assert [c[0] for c in contacts] == ["许昌市"]
        assert not any("ZZ-SECRET" in str(c) for c in contacts)  # 郑州's webhook key stays unreadable
        assert [r[0] for r in _rows(conn, "SELECT city FROM notice")] == ["许昌市"]
        assert _rows(conn, "SELECT count(*) FROM delivery_attempt") == [(1,)]
        cities = {r[0] for r in _rows(conn, "SELECT city FROM audit_entry")}
        assert cities == {"许昌市", None}  # its own entries and the province-level ones
        assert not any(ZZ in r[0] or "郑州" in r[0] for r in _rows(conn, "SELECT payload FROM audit_entry"))
        refusals = set(_rows(conn, "SELECT actor, code FROM refusal"))
        assert refusals == {("许昌联络员", ZZ), ("郑州联络员", CODE)}  # by its actors or on its enterprises
        assert [r[0] for r in _rows(conn, "SELECT login FROM db_login")] == [xc_login]
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM scheduler_job")  # the scheduler's alone
    assert admin_query(provisioned, "SELECT count(*) FROM contact")[0][0] == 2  # the service login sees all


def test_every_forgery_of_a_city_login_is_refused_by_the_database(provisioned: Cli, xc_login: str) -> None:
    f = facts(provisioned)
    before = admin_query(provisioned, "SELECT max(seq) FROM audit_entry")
    with connect(provisioned, xc_login) as conn:
        errors = {a.name: attempt(conn, a, f) for a in ATTEMPTS}
    assert [name for name, error in errors.items() if error is None] == []
    privileges = ("permission denied", "must be owner", "must have admin option")
    assert all(any(p in str(e) for p in privileges) for e in errors.values()), errors
    assert admin_query(provisioned, "SELECT max(seq) FROM audit_entry") == before
    assert admin_query(provisioned, "SELECT state FROM participation p JOIN enterprise e ON e.id = p.enterprise_id "
                                    "WHERE e.code = :c", c=CODE) == [("cultivation",)]
    assert admin_query(provisioned, "SELECT status FROM notice WHERE city = '郑州市'") == [("pending",)]
    assert admin_query(provisioned, "SELECT count(*) FROM contact WHERE active") == [(2,)]
    provisioned("audit", "verify")


def test_a_person_login_running_a_write_command_gets_one_line_and_nothing_is_written(
        provisioned: Cli, xc_login: str) -> None:
    as_login = Cli(login_url(provisioned, xc_login), provisioned.home)
    assert CODE in as_login("enterprise", "list", now="2024-06-03").stdout  # reading works
    r = as_login("advance", CODE, "start_assistance", now="2024-06-03", actor="许昌联络员", expect=1)
    assert r.stderr.startswith("错误 Error: ") and len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.stderr
    history = json.loads(provisioned("history", CODE, "--json").stdout)
    assert [h["event"] for h in history] == ["enroll"]


def test_a_province_login_reads_every_city_and_writes_nothing(provisioned: Cli, province_login: str) -> None:
    f = facts(provisioned)
    with connect(provisioned, province_login) as conn:
        assert _rows(conn, "SELECT count(*) FROM participation") == [(2,)]
        assert _rows(conn, "SELECT count(*) FROM contact") == [(2,)]
        conn.rollback()
        errors = {a.name: attempt(conn, a, f) for a in ATTEMPTS}
    assert [name for name, error in errors.items() if error is None] == []


def _service(cli: Cli, *statements: str) -> str | None:
    """Statements in one transaction as the service login (the owner); the database's error or None."""
    from sqlalchemy.engine import make_url

    u = make_url(cli.db)
    with psycopg.connect(host=u.host or "127.0.0.1", port=u.port or 5432, dbname=u.database,
                         user=u.username) as conn:
        try:
            for sql in statements:
                conn.execute(sql)
            conn.commit()
        except psycopg.Error as exc:
            conn.rollback()
            return str(exc).splitlines()[0]
    return None


def _entry(actor: str, role: str, code: str | None = None, event: str = "forged", year: str = "NULL",
           payload: str = "{}") -> str:
    code_ = f"'{code}'" if code else "NULL"
    return ("INSERT INTO audit_entry (seq, format, prev_hash, hash, code, campaign_year, event, actor, role, reason, "
            f"payload, effective_at, recorded_at) SELECT max(seq) + 1, 1, '', '', {code_}, {year}, '{event}', "
            f"'{actor}', '{role}', '', '{payload}', '', '' FROM audit_entry")


def test_the_database_refuses_an_audit_entry_the_actor_table_does_not_back(provisioned: Cli) -> None:
    assert "holds only city_coordinator" in str(_service(provisioned, _entry("许昌联络员", "province_admin")))
    assert "no such actor" in str(_service(provisioned, _entry("无名氏", "province_admin")))
    assert "no such actor" in str(_service(provisioned, _entry("许昌联络员", "system").replace("许昌联络员", "sys")))
    provisioned("actor", "deactivate", "许昌评审", now="2024-05-21", actor="省管理员")
    assert "deactivated" in str(_service(provisioned, _entry("许昌评审", "city_reviewer")))
    assert _service(provisioned, _entry("许昌联络员", "city_coordinator"), "ROLLBACK") is None  # backed: passes


def test_the_database_refuses_state_evaluation_and_conflict_rows_without_their_audit_entry(
        provisioned: Cli) -> None:
    f = facts(provisioned)
    pid, eid, admin = f["xc_pid"], f["xc_eid"], f["admin"]
    unaudited = {
        "participation": f"UPDATE participation SET state = 'certified', achieved_grade = 'A' WHERE id = {pid}",
        "evaluation": ("INSERT INTO evaluation (participation_id, cycle, month, recorded_at, audit_seq) "
                       f"VALUES ({pid}, 1, '2024-07', '', 0)"),
        "conflict_of_interest": ("INSERT INTO conflict_of_interest (actor_id, enterprise_id, reason, declared_by, "
                                 f"declared_at, audit_seq) VALUES ({admin}, {eid}, '伪造', '省管理员', '', 0)"),
    }
    for name, sql in unaudited.items():
        assert "without its audit entry" in str(_service(provisioned, sql)), name
        # an entry for another enterprise, or only an older one of this enterprise, does not count
        other = _entry("郑州联络员", "city_coordinator", ZZ, year="2024")
        assert "without its audit entry" in str(_service(provisioned, other, sql)), name
    # a declared conflict needs a declare_conflict entry naming that actor
    wrong = _entry("省管理员", "province_admin", CODE, "declare_conflict", payload='{"actor":"王专家"}')
    assert "without its audit entry" in str(_service(provisioned, wrong, unaudited["conflict_of_interest"]))
    right = _entry("省管理员", "province_admin", CODE, "declare_conflict", payload='{"actor":"省管理员"}')
    assert _service(provisioned, right, unaudited["conflict_of_interest"], "ROLLBACK") is None


def test_the_engines_service_login_still_writes_through_every_check(provisioned: Cli) -> None:
    cli = provisioned
    for args, now, actor in ((("start_assistance",), "2024-06-03", "许昌联络员"),
                             (("record_pre_assessment", "--data", "findings=扬尘"), "2024-06-05", "王专家"),
                             (("submit_plan", "--data", "summary=改造", "--data", "measures=除尘",
                               "--data", "completion_date=2024-09-30"), "2024-06-10", "王专家"),
                             (("begin_tracking",), "2024-06-17", "许昌联络员"),
                             (("record_evaluation", "--month", "2024-07"), "2024-07-20", "王专家"),
                             (("submit_for_acceptance",), "2024-07-22", "许昌联络员"),
                             (("pass_acceptance",), "2024-07-25", "许昌评审"),
                             (("waive_recheck",), "2024-08-05", "省复核员"),
                             (("publicize",), "2024-09-02", "许昌联络员"),
                             (("certify", "--grade", "B"), "2024-09-12", "省管理员")):
        cli("advance", CODE, *args, now=now, actor=actor)
    cli("actor", "declare-conflict", "郑州联络员", CODE, "--reason", "亲属", now="2024-09-12", actor="省管理员")
    cli("actor", "add", "省管理员乙", "--role", "province_admin", now="2024-09-12", actor="省管理员")
    cli("actor", "deactivate", "省管理员乙", now="2024-09-12", actor="省管理员乙")  # oneself, audited
    contacts = json.loads(cli("contact", "list", "--json").stdout)
    cli("contact", "remove", str(contacts[0]["id"]), now="2024-09-12", actor="许昌联络员")
    cli("db", "provision", actor="省管理员")
    cli("audit", "verify")
    shown = json.loads(cli("enterprise", "show", CODE, "--json", now="2024-09-12").stdout)
    assert shown["state"] == "certified" and shown["grade"] == "B"


def test_grant_checks_the_actor_role_and_city_and_never_maps_the_service_login(provisioned: Cli) -> None:
    name = f"zz_test_{uuid.uuid4().hex[:10]}"
    r = provisioned("db", "grant", name, "--city", "许昌市", "--role", "city_coordinator", "--actor", "郑州联络员",
                    actor="省管理员", expect=1)
    assert "城市范围" in r.stderr
    r = provisioned("db", "grant", name, "--city", "郑州市", "--role", "city_reviewer", "--actor", "郑州联络员",
                    actor="省管理员", expect=1)
    assert "city_reviewer" in r.stderr
    r = provisioned("db", "grant", name, "--city", "郑州市", "--role", "city_coordinator", "--actor", "郑州联络员",
                    actor="郑州联络员", expect=1)
    assert "权限" in r.stderr
    assert admin_query(provisioned, "SELECT count(*) FROM pg_roles WHERE rolname = :n", n=name)[0][0] == 0
    owner = admin_query(provisioned, "SELECT current_user")[0][0]
    r = provisioned("db", "grant", owner, "--role", "province_admin", "--actor", "省管理员", actor="省管理员",
                    expect=1)
    assert "服务登录" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_a_login_without_grants_gets_one_clear_line_not_an_internal_error(provisioned: Cli) -> None:
    name = f"bare_test_{uuid.uuid4().hex[:10]}"
    admin_exec(provisioned, f'CREATE ROLE "{name}" LOGIN')
    try:
        bare = Cli(login_url(provisioned, name), provisioned.home)
        r = bare("status", now="2024-06-03", expect=1)
        assert r.stderr.startswith("错误 Error: 数据库拒绝了当前登录的操作"), r.stderr
        assert "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    finally:
        admin_exec(provisioned, f'DROP ROLE IF EXISTS "{name}"')
