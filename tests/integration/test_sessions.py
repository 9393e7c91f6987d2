"""Who you are in the web workspace (issue 14), at the service level on SQLite and PostgreSQL: logins
with passwords set by `campaign actor password`, server-side sessions that end at logout, idle and
absolute timeouts, deactivation and a new password; the lock-out of one name at one client address;
and, on a provisioned PostgreSQL database, person logins that cannot read any of it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
import pytest
from sqlalchemy import Engine, text

from models.db import make_engine
from tests.conftest import Cli, bootstrap
from tests.helpers.insider import connect
from workflow.clock import parse_instant
from workflow.config import Settings
from workflow.context import Context
from workflow.errors import InvalidInput, Refused
from workflow.services import logins

PW = "许昌联络员的初始密码-2024"  # set by the province admin
OWN = "only-I-know-this-one-42"  # the coordinator's own
ADMIN_PW = "省管理员的密码很长很长-1"
HERE, THERE = "10.1.2.3", "10.9.9.9"


@dataclass
class Wall:
    """Real time as the test sets it (the sessions' clock); `move` it forward."""

    at: datetime

    def now(self) -> datetime:
        return self.at

    def move(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@dataclass
class Desk:
    cli: Cli
    engine: Engine
    wall: Wall

    def ctx(self, actor: str | None = None, **settings: str) -> Context:
        return Context(engine=self.engine, wall=self.wall, clock=self.wall, actor=actor,
                       settings=Settings(settings))

    def sql(self, query: str) -> list[tuple[object, ...]]:
        with self.engine.connect() as c:
            return [tuple(r) for r in c.execute(text(query)).all()]


@pytest.fixture
def desk(cli: Cli) -> Iterator[Desk]:
    """A bootstrapped campaign; the admin has set the 许昌 coordinator's password and the admin their own."""
    bootstrap(cli)
    cli("actor", "password", "许昌联络员", "--stdin", input=PW + "\n", actor="省管理员")
    cli("actor", "password", "省管理员", "--stdin", input=ADMIN_PW + "\n", actor="省管理员")
    engine = make_engine(cli.db)
    try:
        yield Desk(cli, engine, Wall(parse_instant("2024-08-15T09:00")))
    finally:
        engine.dispose()


def _refused(desk: Desk, name: str, password: str, client: str = HERE) -> str:
    with pytest.raises(Refused) as exc:
        logins.login(desk.ctx(), name, password, client)
    return str(exc.value)


def test_a_login_opens_a_session_with_a_new_token_each_time(desk: Desk) -> None:
    first = logins.login(desk.ctx(), "许昌联络员", PW, HERE)
    assert first.who.name == "许昌联络员" and first.who.roles == ("city_coordinator",)
    assert first.who.city == "许昌市" and first.who.must_change  # set by the admin: change it first
    second = logins.login(desk.ctx(), "许昌联络员", PW, HERE)
    assert second.token != first.token and len(first.token) >= 43
    assert logins.resume(desk.ctx(), first.token) == first.who
    assert logins.resume(desk.ctx(), second.token) == second.who
    stored = {r[0] for r in desk.sql("SELECT id FROM web_session")}
    assert first.token not in stored and len(stored) == 2  # only the tokens' SHA-256
    admin = logins.login(desk.ctx(), "省管理员", ADMIN_PW, HERE).who
    assert admin.city is None and not admin.must_change  # set by themself


def test_unknown_name_wrong_password_no_password_and_deactivated_get_one_message(desk: Desk) -> None:
    assert _refused(desk, "许昌联络员", "not-the-password!") == logins.BAD
    assert _refused(desk, "无此人", PW) == logins.BAD
    assert _refused(desk, "许昌评审", PW) == logins.BAD  # registered, no password yet
    desk.cli("actor", "deactivate", "许昌联络员", actor="省管理员")
    assert _refused(desk, "许昌联络员", PW) == logins.BAD
    outcomes = desk.sql("SELECT name, client, outcome, detail FROM login_event ORDER BY id")
    assert [(n, c, o) for n, c, o, _ in outcomes] == [
        ("许昌联络员", HERE, "failure"), ("无此人", HERE, "failure"), ("许昌评审", HERE, "failure"),
        ("许昌联络员", HERE, "failure")]
    assert [d for *_, d in outcomes] == ["密码错误", "未登记的用户名", "未设置密码", "操作人已停用"]


def test_five_failures_lock_the_name_at_that_address_only_until_unlocked_or_15_minutes(desk: Desk) -> None:
    for _ in range(5):
        assert _refused(desk, "许昌联络员", "wrong-password-123") == logins.BAD
    assert _refused(desk, "许昌联络员", PW) == logins.LOCKED  # the sixth: even the right password
    assert logins.login(desk.ctx(), "许昌联络员", PW, THERE).who.name == "许昌联络员"  # another address
    desk.wall.move(minutes=14)
    assert _refused(desk, "许昌联络员", PW) == logins.LOCKED
    with pytest.raises(Refused, match="权限"):
        logins.unlock(desk.ctx("许昌联络员"), "许昌联络员", HERE)  # province admin only
    logins.unlock(desk.ctx("省管理员"), "许昌联络员", HERE)
    assert logins.login(desk.ctx(), "许昌联络员", PW, HERE).who.name == "许昌联络员"

    for _ in range(5):  # unknown names lock too (nothing tells them apart)
        _refused(desk, "无此人", "wrong-password-123")
    assert _refused(desk, "无此人", "wrong-password-123") == logins.LOCKED
    desk.wall.move(minutes=15)  # the lock ends 15 minutes after the fifth failure
    assert _refused(desk, "无此人", "wrong-password-123") == logins.BAD
    outcomes = [r[0] for r in desk.sql("SELECT outcome FROM login_event WHERE name = '无此人' ORDER BY id")]
    assert outcomes == ["failure"] * 5 + ["locked", "failure"]


def test_failures_spread_over_more_than_15_minutes_do_not_lock(desk: Desk) -> None:
    for _ in range(4):
        _refused(desk, "许昌联络员", "wrong-password-123")
    desk.wall.move(minutes=16)
    _refused(desk, "许昌联络员", "wrong-password-123")
    assert logins.login(desk.ctx(), "许昌联络员", PW, HERE).who.name == "许昌联络员"


def test_a_session_ends_after_the_idle_and_the_absolute_timeout(desk: Desk) -> None:
    idle = logins.login(desk.ctx(), "许昌联络员", PW, HERE).token
    desk.wall.move(minutes=29)
    assert logins.resume(desk.ctx(), idle) is not None
    desk.wall.move(minutes=31)
    assert logins.resume(desk.ctx(), idle) is None
    desk.wall.move(seconds=1)
    assert logins.resume(desk.ctx(), idle) is None  # ended stays ended

    long = logins.login(desk.ctx(), "许昌联络员", PW, HERE).token
    for _ in range(24):
        desk.wall.move(minutes=29)
        assert logins.resume(desk.ctx(), long) is not None
    desk.wall.move(minutes=29)  # 12 h 25 min after the login
    assert logins.resume(desk.ctx(), long) is None
    expired = desk.sql("SELECT detail FROM login_event WHERE outcome = 'expired' ORDER BY id")
    assert [str(d[0])[:4] for d in expired] == ["空闲超过", "登录超过"]


def test_timeouts_come_from_the_settings(desk: Desk) -> None:
    token = logins.login(desk.ctx(), "许昌联络员", PW, HERE).token
    desk.wall.move(minutes=6)
    assert logins.resume(desk.ctx(CAMPAIGN_SESSION_IDLE_MINUTES="10"), token) is not None
    desk.wall.move(minutes=6)
    assert logins.resume(desk.ctx(CAMPAIGN_SESSION_IDLE_MINUTES="5"), token) is None
    conf = logins.session_settings(Settings({"CAMPAIGN_SESSION_MAX_HOURS": "2", "CAMPAIGN_COOKIE_SECURE": "1"}))
    assert conf == logins.SessionSettings(timedelta(minutes=30), timedelta(hours=2), True)
    assert not logins.session_settings(Settings()).secure
    with pytest.raises(InvalidInput, match="CAMPAIGN_SESSION_IDLE_MINUTES"):
        logins.session_settings(Settings({"CAMPAIGN_SESSION_IDLE_MINUTES": "half an hour"}))


def test_logout_deactivation_and_a_new_password_end_sessions(desk: Desk) -> None:
    token = logins.login(desk.ctx(), "许昌联络员", PW, HERE).token
    logins.logout(desk.ctx(), token, HERE)
    assert logins.resume(desk.ctx(), token) is None
    assert logins.login(desk.ctx(), "许昌联络员", PW, HERE).token != token

    before = [logins.login(desk.ctx(), "许昌联络员", PW, c).token for c in (HERE, THERE)]
    desk.cli("actor", "password", "许昌联络员", "--stdin", input=OWN + "\n", actor="许昌联络员")
    assert [logins.resume(desk.ctx(), t) for t in before] == [None, None]
    assert _refused(desk, "许昌联络员", PW) == logins.BAD  # the old password is gone
    mine = logins.login(desk.ctx(), "许昌联络员", OWN, HERE)
    assert not mine.who.must_change  # set by themself

    desk.cli("actor", "password", "许昌联络员", "--stdin", input=PW + "\n", actor="省管理员")  # an admin reset
    assert logins.resume(desk.ctx(), mine.token) is None
    again = logins.login(desk.ctx(), "许昌联络员", PW, HERE)
    assert again.who.must_change

    desk.cli("actor", "deactivate", "许昌联络员", actor="省管理员")
    assert logins.resume(desk.ctx(), again.token) is None
    assert desk.sql("SELECT count(*) FROM web_session WHERE ended_at IS NULL") == [(0,)]
    outcomes = [r[0] for r in desk.sql("SELECT outcome FROM login_event WHERE outcome = 'logout'")]
    assert outcomes == ["logout"]


def test_a_person_changes_their_own_password_and_gets_a_fresh_session(desk: Desk) -> None:
    opened = logins.login(desk.ctx(), "许昌联络员", PW, HERE)
    other = logins.login(desk.ctx(), "许昌联络员", PW, THERE).token
    with pytest.raises(InvalidInput, match="至少 12"):
        logins.change_own(desk.ctx(), opened.token, PW, "short", HERE)
    with pytest.raises(InvalidInput, match="相同"):
        logins.change_own(desk.ctx(), opened.token, PW, PW, HERE)
    with pytest.raises(Refused, match="原密码错误"):
        logins.change_own(desk.ctx(), opened.token, "not-the-old-one", OWN, HERE)
    assert logins.resume(desk.ctx(), opened.token) == opened.who  # nothing changed
    fresh = logins.change_own(desk.ctx(), opened.token, PW, OWN, HERE)
    assert fresh.token != opened.token and not fresh.who.must_change
    assert logins.resume(desk.ctx(), opened.token) is None and logins.resume(desk.ctx(), other) is None
    assert logins.resume(desk.ctx(), fresh.token) == fresh.who
    assert logins.login(desk.ctx(), "许昌联络员", OWN, HERE).who.must_change is False
    with pytest.raises(Refused, match="登录已失效"):
        logins.change_own(desk.ctx(), opened.token, OWN, "yet-another-password", HERE)
    history = desk.sql("SELECT actor, role, payload FROM audit_entry WHERE event = 'set_password' ORDER BY seq")
    assert history[-1][:2] == ("许昌联络员", "city_coordinator")
    assert not any(secret in str(history) for secret in (PW, OWN, "argon2"))
    desk.cli("audit", "verify")


def test_a_wrong_old_password_counts_toward_the_lock(desk: Desk) -> None:
    token = logins.login(desk.ctx(), "许昌联络员", PW, HERE).token
    for _ in range(5):
        with pytest.raises(Refused, match="原密码错误"):
            logins.change_own(desk.ctx(), token, "guess-guess-guess", OWN, HERE)
    with pytest.raises(Refused) as exc:
        logins.change_own(desk.ctx(), token, PW, OWN, HERE)
    assert str(exc.value) == logins.LOCKED
    assert _refused(desk, "许昌联络员", PW) == logins.LOCKED


def test_the_login_log_is_the_province_admins(desk: Desk) -> None:
    logins.login(desk.ctx(), "许昌联络员", PW, HERE)
    _refused(desk, "许昌联络员", "wrong-password-123", THERE)
    rows = logins.events(desk.ctx("省管理员"))
    assert [(e.name, e.client, e.outcome) for e in rows] == [("许昌联络员", THERE, "failure"),
                                                               ("许昌联络员", HERE, "success")]
    assert rows[0].at.endswith("+08:00") and rows[0].at.startswith("2024-08-15T09:00")
    assert [e.outcome for e in logins.events(desk.ctx("省管理员"), name="无此人")] == []
    with pytest.raises(Refused, match="权限"):
        logins.events(desk.ctx("许昌联络员"))


@pytest.mark.postgres
def test_person_logins_cannot_read_passwords_sessions_or_the_login_log(provisioned: Cli, xc_login: str,
                                                                     province_login: str) -> None:
    provisioned("actor", "password", "许昌联络员", "--stdin", input=PW + "\n", actor="省管理员")
    engine = make_engine(provisioned.db)
    try:
        logins.login(Context(engine=engine), "许昌联络员", PW, HERE)
    finally:
        engine.dispose()
    for login in (xc_login, province_login):
        with connect(provisioned, login) as conn:
            assert conn.execute("SELECT count(*) FROM actor").fetchone() is not None  # reference data
            conn.rollback()
            for secret in ("actor_credential", "web_session", "login_event"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(f"SELECT * FROM {secret}")
                conn.rollback()
