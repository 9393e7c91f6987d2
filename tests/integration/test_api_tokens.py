"""API tokens (issue 15) at the service level, on SQLite and PostgreSQL: created by the province admin
for anyone or by the person for themself, shown once and stored as their SHA-256 only, with an expiry
on real time; revoked, or useless once their person is deactivated; every create and revoke audited,
every refusal recorded; and, on a provisioned PostgreSQL database, unreadable by person logins."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
import pytest
from sqlalchemy import Engine, text

from models.db import make_engine
from tests.conftest import Cli, bootstrap
from tests.helpers.insider import connect
from workflow.clock import parse_instant, utc_iso
from workflow.context import Context
from workflow.errors import InvalidInput, NotFound, Refused
from workflow.services import tokens


@dataclass
class Wall:
    """Real time as the test sets it (the tokens' clock); `move` it forward."""

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

    def ctx(self, actor: str | None = None) -> Context:
        return Context(engine=self.engine, wall=self.wall, clock=self.wall, actor=actor)

    def sql(self, query: str) -> list[tuple[object, ...]]:
        with self.engine.connect() as c:
            return [tuple(r) for r in c.execute(text(query)).all()]


@pytest.fixture
def desk(cli: Cli) -> Iterator[Desk]:
    bootstrap(cli)
    engine = make_engine(cli.db)
    try:
        yield Desk(cli, engine, Wall(parse_instant("2024-08-15T09:00")))
    finally:
        engine.dispose()


def test_a_token_is_shown_once_and_only_its_hash_is_stored(desk: Desk) -> None:
    made = tokens.create(desk.ctx("省管理员"), "许昌联络员", label="省平台对接")
    assert made.token.startswith("cmp_") and len(made.token) >= 4 + 43
    assert made.name == "许昌联络员" and made.expires_at.startswith("2024-11-13T09:00")  # 90 days
    other = tokens.create(desk.ctx("省管理员"), "许昌联络员")
    assert other.token != made.token
    stored = desk.sql("SELECT * FROM api_token ORDER BY id")
    assert [r[2] for r in stored] == [hashlib.sha256(t.encode()).hexdigest() for t in (made.token, other.token)]
    everything = str(stored) + str(desk.sql("SELECT * FROM audit_entry")) + str(desk.sql("SELECT * FROM refusal"))
    assert made.token not in everything and made.token[4:] not in everything
    entries = desk.sql("SELECT actor, role, event, payload FROM audit_entry WHERE event = 'api_token_create'")
    assert [e[:3] for e in entries] == [("省管理员", "province_admin", "api_token_create")] * 2
    payload = json.loads(str(entries[0][3]))
    assert payload == {"name": "许昌联络员", "token_id": made.id, "label": "省平台对接",
                       "expires_at": utc_iso(desk.wall.at + timedelta(days=90))}
    assert hashlib.sha256(made.token.encode()).hexdigest() not in str(entries)  # nor its hash

    who = tokens.authenticate(desk.ctx(), made.token)
    assert who == tokens.Bearer(token_id=made.id, actor_id=who.actor_id if who else 0, name="许昌联络员",
                                roles=("city_coordinator",), city="许昌市")
    listed = tokens.listing(desk.ctx("许昌联络员"))
    assert [(r.id, r.label, r.status) for r in listed] == [(made.id, "省平台对接", "active"), (other.id, "", "active")]
    assert made.token not in str(listed)
    desk.cli("audit", "verify")


def test_a_token_expires_on_real_time_and_records_its_last_use_once_a_minute(desk: Desk) -> None:
    made = tokens.create(desk.ctx("许昌联络员"), "许昌联络员", days=1)  # the person for themself
    assert tokens.authenticate(desk.ctx(), made.token) is not None
    first = desk.sql("SELECT last_used_at FROM api_token")[0][0]
    assert first is not None
    desk.wall.move(seconds=30)
    assert tokens.authenticate(desk.ctx(), made.token) is not None
    assert desk.sql("SELECT last_used_at FROM api_token")[0][0] == first  # not written again within a minute
    desk.wall.move(seconds=31)
    assert tokens.authenticate(desk.ctx(), made.token) is not None
    assert desk.sql("SELECT last_used_at FROM api_token")[0][0] != first
    desk.wall.move(hours=23, minutes=58)
    assert tokens.authenticate(desk.ctx(), made.token) is not None
    desk.wall.move(minutes=1)  # 24 hours after it was made
    assert tokens.authenticate(desk.ctx(), made.token) is None
    assert [r.status for r in tokens.listing(desk.ctx("许昌联络员"))] == ["expired"]


def test_unknown_malformed_and_missing_tokens_are_nobody(desk: Desk) -> None:
    made = tokens.create(desk.ctx("省管理员"), "许昌联络员")
    for bad in (None, "", made.token[4:], made.token + "x", "cmp_" + "A" * 43, made.token.upper(), "x" * 10_000):
        assert tokens.authenticate(desk.ctx(), bad) is None


def test_a_revoked_token_and_the_token_of_a_deactivated_person_stop_working(desk: Desk) -> None:
    mine = tokens.create(desk.ctx("省管理员"), "许昌联络员")
    theirs = tokens.create(desk.ctx("省管理员"), "郑州联络员")
    with pytest.raises(Refused, match="权限"):
        tokens.revoke(desk.ctx("许昌联络员"), theirs.id)  # not theirs to revoke
    assert tokens.authenticate(desk.ctx(), theirs.token) is not None
    done = tokens.revoke(desk.ctx("许昌联络员"), mine.id)  # one's own
    assert done.name == "许昌联络员" and done.id == mine.id
    assert tokens.authenticate(desk.ctx(), mine.token) is None
    with pytest.raises(Refused, match=r"已于 .* 吊销"):
        tokens.revoke(desk.ctx("省管理员"), mine.id)
    with pytest.raises(NotFound):
        tokens.revoke(desk.ctx("省管理员"), 999)
    desk.cli("actor", "deactivate", "郑州联络员", actor="省管理员")
    assert tokens.authenticate(desk.ctx(), theirs.token) is None
    events = desk.sql("SELECT event, actor FROM audit_entry WHERE event LIKE 'api_token%' ORDER BY seq")
    assert events == [("api_token_create", "省管理员"), ("api_token_create", "省管理员"),
                      ("api_token_revoke", "许昌联络员")]
    refusals = desk.sql("SELECT actor, event, rule FROM refusal WHERE event = 'api_token_revoke' ORDER BY id")
    assert refusals == [("许昌联络员", "api_token_revoke", "权限"), ("省管理员", "api_token_revoke", "已吊销"),
                        ("省管理员", "api_token_revoke", "")]


def test_only_the_person_or_the_province_admin_creates_and_bad_input_writes_nothing(desk: Desk) -> None:
    with pytest.raises(Refused, match="权限"):
        tokens.create(desk.ctx("许昌联络员"), "省管理员")
    with pytest.raises(Refused, match="权限"):
        tokens.create(desk.ctx("省复核员"), "许昌联络员")
    with pytest.raises(InvalidInput, match="有效期"):
        tokens.create(desk.ctx("省管理员"), "许昌联络员", days=0)
    with pytest.raises(InvalidInput, match="有效期"):
        tokens.create(desk.ctx("省管理员"), "许昌联络员", days=400)
    with pytest.raises(InvalidInput, match="备注"):
        tokens.create(desk.ctx("省管理员"), "许昌联络员", label="长" * 101)
    with pytest.raises(NotFound, match="无此人"):
        tokens.create(desk.ctx("省管理员"), "无此人")
    desk.cli("actor", "deactivate", "郑州联络员", actor="省管理员")
    with pytest.raises(InvalidInput, match="已停用"):
        tokens.create(desk.ctx("省管理员"), "郑州联络员")
    with pytest.raises(Refused, match="已停用"):
        tokens.create(desk.ctx("郑州联络员"), "郑州联络员")  # a deactivated person acts no more
    assert desk.sql("SELECT count(*) FROM api_token") == [(0,)]
    assert desk.sql("SELECT count(*) FROM audit_entry WHERE event LIKE 'api_token%'") == [(0,)]
    rules = [r[0] for r in desk.sql("SELECT rule FROM refusal WHERE event = 'api_token_create' ORDER BY id")]
    assert rules[:2] == ["权限", "权限"] and len(rules) == 8


def test_the_listing_shows_ones_own_tokens_or_all_to_the_province_admin(desk: Desk) -> None:
    tokens.create(desk.ctx("省管理员"), "许昌联络员")
    tokens.create(desk.ctx("郑州联络员"), "郑州联络员")
    assert [r.name for r in tokens.listing(desk.ctx("省管理员"))] == ["许昌联络员", "郑州联络员"]
    assert [r.name for r in tokens.listing(desk.ctx("省管理员"), "郑州联络员")] == ["郑州联络员"]
    assert [r.name for r in tokens.listing(desk.ctx("郑州联络员"))] == ["郑州联络员"]
    with pytest.raises(Refused, match="权限"):
        tokens.listing(desk.ctx("郑州联络员"), "许昌联络员")


def test_the_cli_prints_the_token_once_with_its_expiry(desk: Desk) -> None:
    made = desk.cli("actor", "token", "许昌联络员", "--days", "30", "--label", "脚本", actor="省管理员")
    token = made.stdout.strip()
    assert token.startswith("cmp_") and "\n" not in token  # stdout: the token alone, for scripts
    assert "有效期至" in made.stderr and "只显示这一次" in made.stderr and "#1" in made.stderr
    listed = json.loads(desk.cli("actor", "tokens", "--json", actor="许昌联络员").stdout)
    assert [(r["id"], r["label"], r["status"]) for r in listed] == [(1, "脚本", "active")]
    assert token not in desk.cli("actor", "tokens", actor="省管理员").stdout
    assert tokens.authenticate(desk.ctx(), token) is not None
    refused = desk.cli("actor", "token-revoke", "1", actor="郑州联络员", expect=1)
    assert "权限" in refused.stderr
    assert "已吊销" in desk.cli("actor", "token-revoke", "1", actor="许昌联络员").stdout
    assert tokens.authenticate(desk.ctx(), token) is None
    assert "已吊销" in desk.cli("actor", "tokens", "--name", "许昌联络员", actor="省管理员").stdout


@pytest.mark.postgres
def test_person_logins_cannot_read_api_tokens(provisioned: Cli, xc_login: str, province_login: str) -> None:
    provisioned("actor", "token", "许昌联络员", actor="省管理员")
    for login in (xc_login, province_login):
        with connect(provisioned, login) as conn:
            assert conn.execute("SELECT count(*) FROM actor").fetchone() is not None  # reference data
            conn.rollback()
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("SELECT * FROM api_token")
            conn.rollback()
