"""What a hostile insider tries with their own PostgreSQL login (issue 12), shared by the row-security
tests and the stress suite's insider run: a provisioned database with two cities' enterprises,
contacts, notices and refusals, person logins made by `db grant`, and every raw-SQL write of the
issue as a list of attempts."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import CODE, Cli, bootstrap
from workflow.domain.audit import canonical_json, entry_hash
from workflow.domain.creditcode import make

ZZ = make("91410100MA45C2R1Y")  # a 郑州 enterprise
XC_HOOK = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=XC-SECRET-1"
ZZ_HOOK = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=ZZ-SECRET-2"


def admin_exec(cli: Cli, *sql: str) -> None:
    """Statements as the database owner (the engine's service login), autocommitted."""
    admin = create_engine(cli.db, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            for stmt in sql:
                c.execute(text(stmt))
    finally:
        admin.dispose()


def admin_query(cli: Cli, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(cli.db)
    try:
        with engine.connect() as c:
            return list(c.execute(text(sql), params).all())
    finally:
        engine.dispose()


def connect(cli: Cli, login: str) -> Any:
    """A raw psycopg connection as `login` (trust authentication on the test server)."""
    import psycopg

    u = make_url(cli.db)
    return psycopg.connect(host=u.host or "127.0.0.1", port=u.port or 5432, dbname=u.database, user=login)


def login_url(cli: Cli, login: str) -> str:
    return make_url(cli.db).set(username=login, password=None).render_as_string(hide_password=False)


def provision(pg_url: str, home: Path) -> Cli:
    """Two cities' enterprises enrolled, contacts with webhook secrets, a notice and a delivery attempt
    per city, a refusal per city, a scheduler job; then `db provision` (twice: it is re-runnable)."""
    cli = Cli(pg_url, home)
    bootstrap(cli)
    for code, city, who in ((CODE, "许昌市", "许昌联络员"), (ZZ, "郑州市", "郑州联络员")):
        cli("enterprise", "add", "--code", code, "--name", f"{city}企业", "--city", city, "--industry", "耐材",
            "--grade", "C", "--rating-doc", "豫环文1号", now="2024-05-06", actor=who)
        cli("advance", code, "enroll", "--consent", "自愿", "--target-grade", "B", now="2024-05-20", actor=who)
    cli("contact", "add", "--city", "许昌市", "--email", "dqk@xuchang.gov.cn", "--webhook", XC_HOOK,
        now="2024-05-20", actor="许昌联络员")
    cli("contact", "add", "--city", "郑州市", "--email", "dqk@zhengzhou.gov.cn", "--webhook", ZZ_HOOK,
        now="2024-05-20", actor="郑州联络员")
    cli("assign", CODE, "--expert", "王专家", now="2024-05-20", actor="许昌联络员")
    cli("advance", ZZ, "start_assistance", now="2024-05-20", actor="许昌联络员", expect=1)  # refusals
    cli("advance", CODE, "start_assistance", now="2024-05-20", actor="郑州联络员", expect=1)
    cli("advance", ZZ, "certify", now="2024-05-20", actor="郑州联络员", expect=1)
    for n, city in enumerate(("许昌市", "郑州市")):
        admin_exec(cli,
                   "INSERT INTO notice (key, kind, city, code, context, subject, body, template, status, error, "
                   f"attempts, created_at) VALUES ('test-{n}', 'reminder', '{city}', NULL, '{{}}', '{city}提醒函', "
                   f"'正文', 'packaged:reminder.j2', 'pending', '', 0, '2024-05-20T01:00:00+00:00')",
                   "INSERT INTO delivery_attempt (notice_id, round, channel, contact_id, target, attempted_at, ok, "
                   f"error) SELECT id, 1, 'outbox', NULL, 'outbox/x.txt', '2024-05-20T01:00:00+00:00', false, "
                   f"'disk' FROM notice WHERE key = 'test-{n}'")
    admin_exec(cli, "INSERT INTO scheduler_job (id, next_run_time, job_state) VALUES ('tick', 0, '\\x00')")
    cli("db", "provision", actor="省管理员")
    cli("db", "provision", actor="省管理员")  # re-runnable
    return cli


def person_login(cli: Cli, *, city: str | None, role: str, actor: str) -> Iterator[str]:
    """A person's login made by `db grant` (cluster-wide: a unique name, dropped afterwards)."""
    name = f"p12_{uuid.uuid4().hex[:10]}"
    args = ("--city", city) if city else ()
    cli("db", "grant", name, *args, "--role", role, "--actor", actor, actor="省管理员")
    try:
        yield name
    finally:
        admin_exec(cli, f'DROP ROLE IF EXISTS "{name}"')


@dataclass(frozen=True)
class Attempt:
    name: str
    statements: Callable[[dict[str, Any]], list[tuple[str, tuple[Any, ...]]]]


def facts(cli: Cli) -> dict[str, Any]:
    """Ids and the chain head an insider would look up (read here with the owner's eyes: the
    strongest insider knows them)."""
    def one(sql: str, **params: Any) -> Any:
        rows = admin_query(cli, sql, **params)
        return rows[0][0] if rows else -1  # gone (an earlier attempt the database took removed it)

    seq, head = admin_query(cli, "SELECT seq, hash FROM audit_entry ORDER BY seq DESC LIMIT 1")[0]
    return {
        "head": (int(seq), str(head)),
        "xc_eid": one("SELECT id FROM enterprise WHERE code = :c", c=CODE),
        "xc_pid": one("SELECT p.id FROM participation p JOIN enterprise e ON e.id = p.enterprise_id "
                      "WHERE e.code = :c", c=CODE),
        "admin": one("SELECT id FROM actor WHERE name = '省管理员'"),
        "expert": one("SELECT id FROM actor WHERE name = '王专家'"),
        "zz_contact": one("SELECT id FROM contact WHERE city = '郑州市'"),
        "zz_notice": one("SELECT id FROM notice WHERE city = '郑州市'"),
    }


def _forged_certify(f: dict[str, Any], actor: str) -> list[tuple[str, tuple[Any, ...]]]:
    """A `certify` entry with a correct hash after the real head, and the state change it claims."""
    seq, prev = f["head"]
    values = (seq + 1, prev, CODE, 2024, "许昌市", "certify", "cultivation", "certified", actor, "province_admin",
              "", canonical_json({"grade_to": "A"}), "2024-06-01T01:00:00+00:00", "2024-06-01T01:00:00+00:00")
    return [("INSERT INTO audit_entry (seq, prev_hash, code, campaign_year, city, event, from_state, to_state, "
             "actor, role, reason, payload, effective_at, recorded_at, hash, format) "
             "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 1)", (*values, entry_hash(values))),
            ("UPDATE participation SET state = 'certified', achieved_grade = 'A' WHERE id = %s", (f["xc_pid"],))]


def _one(sql: str, *keys: str) -> Callable[[dict[str, Any]], list[tuple[str, tuple[Any, ...]]]]:
    return lambda f: [(sql, tuple(f[k] for k in keys))]


ATTEMPTS = (
    Attempt("伪造认定审计条目（省级管理员角色）并改状态", lambda f: _forged_certify(f, "许昌联络员")),
    Attempt("冒名省级管理员伪造认定", lambda f: _forged_certify(f, "省管理员")),
    Attempt("直接改参与状态为已认定",
            _one("UPDATE participation SET state = 'certified', achieved_grade = 'A' WHERE id = %s", "xc_pid")),
    Attempt("改公示截止日与目标等级",
            _one("UPDATE participation SET publicity_end = '2024-01-01', target_grade = 'A' WHERE id = %s",
                 "xc_pid")),
    Attempt("删除参与记录", _one("DELETE FROM participation WHERE id = %s", "xc_pid")),
    Attempt("无审计插入月度评估",
            _one("INSERT INTO evaluation (participation_id, cycle, month, recorded_at, audit_seq) "
                 "VALUES (%s, 1, '2024-07', '', 0)", "xc_pid")),
    Attempt("以省级管理员名义申报利益冲突",
            _one("INSERT INTO conflict_of_interest (actor_id, enterprise_id, reason, declared_by, declared_at, "
                 "audit_seq) VALUES (%s, %s, '伪造', '省管理员', '', 0)", "admin", "xc_eid")),
    Attempt("改企业等级", _one("UPDATE enterprise SET grade = 'A' WHERE id = %s", "xc_eid")),
    Attempt("给自己加省级管理员角色",
            _one("UPDATE actor SET roles = 'province_admin,city_coordinator' WHERE name = '许昌联络员'")),
    Attempt("新增操作人", _one("INSERT INTO actor (name, roles, city_id, active) VALUES ('影子', 'province_admin', "
                              "NULL, true)")),
    Attempt("把登录改映射到省级管理员", _one("UPDATE db_login SET actor_id = %s", "admin")),
    Attempt("指派专家", _one("INSERT INTO expert_assignment (enterprise_id, actor_id, assigned_by, assigned_at, "
                            "audit_seq) VALUES (%s, %s, 'x', '', 0)", "xc_eid", "expert")),
    Attempt("改写郑州联系人的 Webhook",
            _one("UPDATE contact SET webhook = 'https://evil.example/hook' WHERE id = %s", "zz_contact")),
    Attempt("删除郑州联系人", _one("DELETE FROM contact WHERE id = %s", "zz_contact")),
    Attempt("重复登记联系人", _one("INSERT INTO contact (city, name, email, webhook, active, created_at) "
                                  "VALUES ('许昌市', '', 'dqk@xuchang.gov.cn', NULL, true, '')")),
    Attempt("把郑州通知标为已送达",
            _one("UPDATE notice SET status = 'delivered', delivered_at = 'x' WHERE id = %s", "zz_notice")),
    Attempt("伪造送达记录", _one("INSERT INTO delivery_attempt (notice_id, round, channel, target, attempted_at, "
                                "ok, error) VALUES (%s, 1, 'email', 'x', '', true, '')", "zz_notice")),
    Attempt("删除调度任务", _one("DELETE FROM scheduler_job")),
    Attempt("改写审计条目", _one("UPDATE audit_entry SET reason = '篡改'")),
    Attempt("删除最后一条审计条目", _one("DELETE FROM audit_entry WHERE seq = (SELECT max(seq) FROM audit_entry)")),
    Attempt("清空审计表", _one("TRUNCATE audit_entry")),
    Attempt("删除拒绝记录", _one("DELETE FROM refusal")),
    Attempt("改行动日历", _one("UPDATE campaign SET \"end\" = '2025-12-31'")),
    Attempt("停用审计触发器", _one("ALTER TABLE audit_entry DISABLE TRIGGER USER")),
    Attempt("复制模式绕过触发器",
            lambda f: [("SET session_replication_role = replica", ()),
                       ("UPDATE participation SET state = 'certified' WHERE id = %s", (f["xc_pid"],))]),
    Attempt("给自己授予省级组", lambda f: [("GRANT campaign_province TO CURRENT_USER", ())]),
)


def attempt(conn: Any, a: Attempt, f: dict[str, Any]) -> str | None:
    """Run one attempt in its own read-write transaction (the login's read-only default switched
    off first: the grants, not that default, must stop it) and commit. The database's error, or
    None when the database accepted it."""
    import psycopg

    try:
        conn.execute("SET TRANSACTION READ WRITE")
        for sql, params in a.statements(f):
            conn.execute(sql, params)
        conn.commit()
    except psycopg.Error as exc:
        conn.rollback()
        return str(exc).splitlines()[0]
    return None

