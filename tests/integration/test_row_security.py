"""PostgreSQL enforces the rules against raw SQL: a 许昌市 coordinator's own login sees and changes
only 许昌 rows, cannot rewrite the audit log, and cannot write an audit entry in another's name."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import CODE, Cli, bootstrap
from workflow.creditcode import make

pytestmark = pytest.mark.postgres
ZZ = make("91410100MA45C2R1Y")  # a 郑州 enterprise


@pytest.fixture
def provisioned(pg_url: str, tmp_path: Path) -> Cli:
    cli = Cli(pg_url, tmp_path)
    bootstrap(cli)
    for code, city, who in ((CODE, "许昌市", "许昌联络员"), (ZZ, "郑州市", "郑州联络员")):
        cli("enterprise", "add", "--code", code, "--name", f"{city}企业", "--city", city, "--industry", "耐材",
            "--grade", "C", "--rating-doc", "豫环文1号", now="2024-05-06", actor=who)
        cli("advance", code, "enroll", "--consent", "自愿", "--target-grade", "B", now="2024-05-20", actor=who)
    cli("db", "provision", actor="省管理员")
    cli("db", "provision", actor="省管理员")  # re-runnable
    return cli


@pytest.fixture
def login(provisioned: Cli) -> Iterator[str]:
    """A 许昌市 coordinator's login (cluster-wide: unique name, dropped afterwards)."""
    name = f"xc_test_{uuid.uuid4().hex[:10]}"
    provisioned("db", "grant", name, "--city", "许昌市", "--role", "city_coordinator", "--actor", "许昌联络员",
                actor="省管理员")
    try:
        yield name
    finally:
        _admin_exec(provisioned, f'DROP ROLE IF EXISTS "{name}"')


def _admin_exec(cli: Cli, sql: str) -> None:
    admin = create_engine(cli.db, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(sql))
    finally:
        admin.dispose()


def _url(cli: Cli, login: str) -> str:
    return make_url(cli.db).set(username=login, password=None).render_as_string(hide_password=False)


def _connect(cli: Cli, login: str) -> Any:
    import psycopg

    u = make_url(cli.db)
    return psycopg.connect(host=u.host or "127.0.0.1", port=u.port or 5432, dbname=u.database, user=login)


def _admin(cli: Cli, sql: str) -> list[Any]:
    engine = create_engine(cli.db)
    try:
        with engine.connect() as c:
            return list(c.execute(text(sql)).all())
    finally:
        engine.dispose()


def _refused(conn: Any, sql: str, params: tuple[Any, ...] = ()) -> str:
    import psycopg

    with pytest.raises(psycopg.Error) as exc:
        conn.execute(sql, params)
    conn.rollback()
    return str(exc.value)


def test_a_city_login_sees_and_changes_only_its_own_citys_rows(provisioned: Cli, login: str) -> None:
    zz_city, zz_id = _admin(provisioned, f"SELECT city_id, id FROM enterprise WHERE code = '{ZZ}'")[0]
    with _connect(provisioned, login) as conn:
        assert [r[0] for r in conn.execute("SELECT code FROM enterprise")] == [CODE]
        assert conn.execute("SELECT count(*) FROM participation").fetchone() == (1,)
        assert conn.execute("UPDATE enterprise SET name = 'x' WHERE code = %s", (ZZ,)).rowcount == 0
        assert conn.execute("DELETE FROM participation WHERE enterprise_id = %s", (zz_id,)).rowcount == 0
        conn.commit()
        assert "row-level security" in _refused(
            conn, "INSERT INTO enterprise (code, name, city_id, county, industry, grade, ule, livelihood, version) "
                  "VALUES ('91410100MA45C2R1ZZ', '冒名', %s, '', '耐材', 'C', '', false, 1)", (zz_city,))
        assert "row-level security" in _refused(
            conn, "UPDATE enterprise SET city_id = %s WHERE code = %s", (zz_city, CODE))
        assert "row-level security" in _refused(
            conn, "INSERT INTO deliverable_submission (campaign_id, city_id, kind, period, due, submitted_on, "
                  "submitted_at, late, actor, note, audit_seq) SELECT id, %s, 'list', '2024-05', '2024-05-31', "
                  "'2024-05-20', '', false, '许昌联络员', '', 0 FROM campaign", (zz_city,))
    assert _admin(provisioned, "SELECT count(*) FROM enterprise")[0][0] == 2  # the app's own login sees all


def test_a_city_login_cannot_update_delete_or_truncate_audit_rows(provisioned: Cli, login: str) -> None:
    with _connect(provisioned, login) as conn:
        assert conn.execute("SELECT count(*) FROM audit_entry").fetchone()[0] > 0  # reads the whole chain
        for sql in ("UPDATE audit_entry SET reason = 'x'", "DELETE FROM audit_entry", "TRUNCATE audit_entry",
                    "DELETE FROM refusal", "DELETE FROM conflict_of_interest", "DELETE FROM expert_assignment",
                    "DELETE FROM spot_check_pick", "UPDATE actor SET roles = 'province_admin'",
                    "DELETE FROM db_login"):
            assert "permission denied" in _refused(conn, sql)
    provisioned("audit", "verify")


def test_a_province_login_sees_every_city(provisioned: Cli) -> None:
    name = f"prov_test_{uuid.uuid4().hex[:10]}"
    provisioned("db", "grant", name, "--role", "province_reviewer", "--actor", "省复核员", actor="省管理员")
    try:
        with _connect(provisioned, name) as conn:
            assert conn.execute("SELECT count(*) FROM participation").fetchone() == (2,)
    finally:
        _admin_exec(provisioned, f'DROP ROLE IF EXISTS "{name}"')


def test_a_city_login_cannot_write_an_audit_entry_in_another_actors_name(provisioned: Cli, login: str) -> None:
    insert = ("INSERT INTO audit_entry (seq, format, prev_hash, hash, event, actor, role, reason, payload, "
              "effective_at, recorded_at) SELECT max(seq) + 1, 1, '', '', 'forged', %s, 'city_coordinator', '', "
              "'{}', '', '' FROM audit_entry")
    with _connect(provisioned, login) as conn:
        assert "does not match" in _refused(conn, insert, ("郑州联络员",))
        conn.execute(insert, ("许昌联络员",))  # its own name passes the trigger (the chain check is separate)
        conn.rollback()
    as_login = Cli(_url(provisioned, login), provisioned.home)
    r = as_login("advance", CODE, "start_assistance", now="2024-06-03", actor="省管理员", expect=1)
    assert r.stderr.startswith("错误 Error: 数据库登录")  # the CLI refuses it first, with the rule
    r = as_login("advance", ZZ, "start_assistance", now="2024-06-03", actor="郑州联络员", expect=1)
    assert "未登记" in r.stderr  # 郑州 rows are invisible to this login
    as_login("advance", CODE, "start_assistance", now="2024-06-03", actor="许昌联络员")
    history = json.loads(provisioned("history", CODE, "--json").stdout)
    assert [(h["event"], h["actor"]) for h in history] == [("enroll", "许昌联络员"), ("start_assistance", "许昌联络员")]
    provisioned("audit", "verify")


def test_grant_checks_the_actor_role_and_city(provisioned: Cli) -> None:
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
    assert _admin(provisioned, f"SELECT count(*) FROM pg_roles WHERE rolname = '{name}'")[0][0] == 0


def test_a_login_without_grants_gets_one_clear_line_not_an_internal_error(provisioned: Cli) -> None:
    name = f"bare_test_{uuid.uuid4().hex[:10]}"
    _admin_exec(provisioned, f'CREATE ROLE "{name}" LOGIN')
    try:
        bare = Cli(_url(provisioned, name), provisioned.home)
        r = bare("status", now="2024-06-03", expect=1)
        assert r.stderr.startswith("错误 Error: 数据库拒绝了当前登录的操作"), r.stderr
        assert "campaign db grant" in r.stderr and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    finally:
        _admin_exec(provisioned, f'DROP ROLE IF EXISTS "{name}"')
