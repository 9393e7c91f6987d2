"""Passwords and the login log from the CLI (issue 14): `campaign actor password` (prompted twice
without echo, or --stdin), `campaign actor unlock`, `campaign audit logins`; the password is never
printed, stored in clear or written into the audit log or the refusals."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from models.db import make_engine
from tests.conftest import Cli, bootstrap
from workflow.context import Context
from workflow.errors import Refused
from workflow.services import logins

PW = "春风又绿江南岸-2024-长密码"
OTHER = "another-long-password-99"


def _rows(cli: Cli, sql: str) -> list[tuple[object, ...]]:
    engine = make_engine(cli.db)
    try:
        with engine.connect() as c:
            return [tuple(r) for r in c.execute(text(sql)).all()]
    finally:
        engine.dispose()


def _login(cli: Cli, name: str, password: str, client: str) -> logins.Opened:
    engine = make_engine(cli.db)
    try:
        return logins.login(Context(engine=engine), name, password, client)
    finally:
        engine.dispose()


def _everything_written(cli: Cli) -> str:
    """The audit log, the refusals and the login log as text: where a password must never be."""
    return str(_rows(cli, "SELECT * FROM audit_entry") + _rows(cli, "SELECT * FROM refusal")
               + _rows(cli, "SELECT * FROM login_event"))


@pytest.fixture
def people(cli: Cli) -> Cli:
    bootstrap(cli)
    return cli


def test_the_admin_sets_a_password_prompted_twice_without_echo(people: Cli) -> None:
    r = people("actor", "password", "许昌联络员", input=f"{PW}\n{PW}\n", actor="省管理员")
    assert PW not in r.output and "首次登录" in r.stdout
    (hashed, must_change, set_by), = _rows(people, "SELECT hash, must_change, set_by FROM actor_credential")
    assert str(hashed).startswith("$argon2id$") and PW not in str(hashed)
    assert must_change and set_by == "省管理员"
    assert _login(people, "许昌联络员", PW, "10.0.0.1").who.must_change
    entry = json.loads(people("audit", "log", "--event", "set_password", "--json").stdout)
    assert [(e["actor"], e["role"], e["city"]) for e in entry] == [("省管理员", "province_admin", "许昌市")]
    assert PW not in _everything_written(people) and "argon2" not in _everything_written(people)
    people("audit", "verify")


def test_bad_passwords_write_nothing(people: Cli) -> None:
    r = people("actor", "password", "许昌联络员", input=f"{PW}\n{PW}x\n", actor="省管理员", expect=1)
    assert "不一致" in r.stderr and PW not in r.output
    r = people("actor", "password", "许昌联络员", "--stdin", input="short-pw\n", actor="省管理员", expect=1)
    assert "至少 12 个字符" in r.stderr and "short-pw" not in r.output
    people("actor", "password", "许昌联络员", "--stdin", input="\n", actor="省管理员", expect=1)
    assert _rows(people, "SELECT count(*) FROM actor_credential") == [(0,)]
    assert _rows(people, "SELECT count(*) FROM audit_entry WHERE event = 'set_password'") == [(0,)]
    refusals = _rows(people, "SELECT actor, event, reason FROM refusal WHERE event = 'set_password'")
    assert [r[:2] for r in refusals] == [("省管理员", "set_password")] * 2  # the too short and the empty one
    assert "short-pw" not in _everything_written(people)


def test_only_the_person_or_the_province_admin_sets_a_password(people: Cli) -> None:
    r = people("actor", "password", "郑州联络员", "--stdin", input=PW + "\n", actor="许昌联络员", expect=1)
    assert r.stderr.startswith("错误 Error: 权限") and PW not in r.output
    people("actor", "password", "无此人", "--stdin", input=PW + "\n", actor="省管理员", expect=1)
    assert _rows(people, "SELECT count(*) FROM actor_credential") == [(0,)]
    r = people("actor", "password", "许昌联络员", "--stdin", input=PW + "\n", actor="许昌联络员")
    assert "本人" in r.stdout
    assert not _login(people, "许昌联络员", PW, "10.0.0.1").who.must_change  # their own: no change needed
    entry = json.loads(people("audit", "log", "--event", "set_password", "--json").stdout)
    assert [(e["actor"], e["role"]) for e in entry] == [("许昌联络员", "city_coordinator")]
    refused = _rows(people, "SELECT actor FROM refusal WHERE event = 'set_password' ORDER BY id")
    assert refused == [("许昌联络员",), ("省管理员",)]


def test_audit_logins_lists_every_outcome_with_the_client_address(people: Cli) -> None:
    people("actor", "password", "许昌联络员", "--stdin", input=PW + "\n", actor="省管理员")
    opened = _login(people, "许昌联络员", PW, "192.0.2.10")
    engine = make_engine(people.db)
    try:
        logins.logout(Context(engine=engine), opened.token, "192.0.2.10")
    finally:
        engine.dispose()
    for _ in range(6):
        with pytest.raises(Refused):
            _login(people, "许昌联络员", OTHER, "198.51.100.7")
    with pytest.raises(Refused) as locked:
        _login(people, "许昌联络员", PW, "198.51.100.7")
    assert str(locked.value) == logins.LOCKED

    shown = json.loads(people("audit", "logins", "--json", actor="省管理员").stdout)
    assert [(e["outcome"], e["client"]) for e in reversed(shown)] == (
        [("success", "192.0.2.10"), ("logout", "192.0.2.10")] + [("failure", "198.51.100.7")] * 5
        + [("locked", "198.51.100.7")] * 2)
    assert all(e["name"] == "许昌联络员" and e["at"].endswith("+08:00") for e in shown)
    out = people("audit", "logins", "--name", "许昌联络员", actor="省管理员").stdout
    assert "198.51.100.7" in out and "locked" in out and "logout" in out
    assert json.loads(people("audit", "logins", "--name", "无此人", "--json", actor="省管理员").stdout) == []
    r = people("audit", "logins", actor="许昌联络员", expect=1)
    assert "权限" in r.stderr
    assert PW not in _everything_written(people) and OTHER not in _everything_written(people)

    r = people("actor", "unlock", "许昌联络员", "--client", "198.51.100.7", actor="许昌联络员", expect=1)
    assert "权限" in r.stderr
    people("actor", "unlock", "许昌联络员", "--client", "198.51.100.7", actor="省管理员")
    assert _login(people, "许昌联络员", PW, "198.51.100.7").who.name == "许昌联络员"
    assert json.loads(people("audit", "logins", "--json", "--limit", "2", actor="省管理员").stdout)[1][
        "outcome"] == "unlock"
    unlocked = json.loads(people("audit", "log", "--event", "login_unlock", "--json").stdout)
    assert [(e["actor"], e["payload"]["was_locked"]) for e in unlocked] == [("省管理员", True)]
    people("audit", "verify")
