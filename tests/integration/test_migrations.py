"""Alembic migrations: the models and the migrations agree, and upgrading keeps every row."""

from __future__ import annotations

import json

from sqlalchemy import text

from models import migrate
from models.db import make_engine
from tests.conftest import CODE, Cli


def test_init_brings_the_schema_to_the_newest_migration(cli: Cli) -> None:
    cli("init", "--simulation", now="2024-05-06")
    engine = make_engine(cli.db)
    try:
        assert migrate.current(engine) == migrate.head()
        assert migrate.drift(engine) == []  # autogenerate would find nothing to add
    finally:
        engine.dispose()


def _fill_at_first_migration(db: str) -> None:
    """Rows written the way release 0001 wrote them: raw tables plus a real audit chain."""
    from datetime import date

    from models.db import UnitOfWork
    from workflow.clock import FixedClock, parse_instant
    from workflow.context import Context
    from workflow.domain.plan import default_text
    from workflow.store import simulation
    from workflow.store.ledger import Entry, Ledger

    engine = make_engine(db)
    ctx = Context(engine=engine, clock=FixedClock(parse_instant("2024-05-20")))
    try:
        with UnitOfWork(engine) as uow:
            conn = uow.session.connection()
            conn.execute(text("INSERT INTO campaign (id, year, name, start, \"end\", calendar) "
                              "VALUES (1, 2024, '创A晋B', :s, :e, :c)"),
                         {"s": date(2024, 5, 1), "e": date(2024, 12, 31), "c": default_text()})
            conn.execute(text("INSERT INTO city (id, name) VALUES (1, '许昌市')"))
            conn.execute(text("INSERT INTO actor (name, roles, city_id, active) "
                              "VALUES ('省管理员', 'province_admin', NULL, :t)"), {"t": True})
            conn.execute(text("INSERT INTO enterprise (id, code, name, city_id, county, industry, grade, "
                              "ule, livelihood, version) VALUES (1, :code, '许昌恒达耐材有限公司', 1, '', "
                              "'耐材', 'C', '', :f, 1)"), {"code": CODE, "f": False})
            conn.execute(text("INSERT INTO participation (enterprise_id, campaign_id, state, starting_grade, "
                              "target_grade, consent_ref, enrolled_late, failures, pre_assessed, "
                              "plan_submitted, version, updated_at) VALUES (1, 1, 'cultivation', 'C', 'B', "
                              "'c', :f, 0, :f, :f, 1, '')"), {"f": False})
            ledger = Ledger(uow.session, ctx)
            ledger.append(Entry(campaign_year=2024, event=simulation.EVENT, actor="system", role="system",
                                payload={}))
            ledger.append(Entry(code=CODE, campaign_year=2024, city="许昌市", event="enroll",
                                from_state="unenrolled", to_state="cultivation", actor="省管理员",
                                role="province_admin", payload={"consent": "c"}))
            uow.commit()
    finally:
        engine.dispose()


def test_a_database_at_the_first_migration_upgrades_without_losing_rows(cli: Cli) -> None:
    engine = make_engine(cli.db)
    try:
        migrate.upgrade(engine, "0001")
        assert migrate.current(engine) == "0001"
    finally:
        engine.dispose()
    _fill_at_first_migration(cli.db)
    cli("init", "--simulation", now="2024-05-20")  # upgrades to head; the calendar is already there
    engine = make_engine(cli.db)
    try:
        assert migrate.current(engine) == migrate.head()
    finally:
        engine.dispose()
    shown = json.loads(cli("enterprise", "show", CODE, "--json", now="2024-05-20").stdout)
    assert shown["state"] == "cultivation" and shown["target_grade"] == "B"
    # Rows the first release wrote without the facts the log now carries: verify names them until
    # the province takes them as they stand, one baseline entry each; then it starts clean.
    assert cli("audit", "verify", now="2024-05-20", expect=3).stderr.count("\n") == 1
    cli("audit", "baseline", "--reason", "升级到新版本，按现状建立基线", now="2024-05-20", actor="省管理员")
    assert "基线记录" in cli("audit", "verify", now="2024-05-20").stdout
    cli("advance", CODE, "start_assistance", now="2024-06-03", actor="省管理员")
    history = json.loads(cli("history", CODE, "--json", now="2024-06-03").stdout)
    assert [h["event"] for h in history] == ["enroll", "baseline", "start_assistance"]
    cli("audit", "verify", now="2024-06-03")


def test_db_current_and_db_upgrade_walk_a_first_release_database_to_head(cli: Cli) -> None:
    engine = make_engine(cli.db)
    try:
        migrate.upgrade(engine, "0001")
    finally:
        engine.dispose()
    _fill_at_first_migration(cli.db)
    before = json.loads(cli("db", "current", "--json").stdout)
    assert before["current"] == "0001" and before["head"] == migrate.head()
    assert before["pending"] and before["pending"][-1] == migrate.head()
    text_out = cli("db", "current").stdout
    assert "待应用迁移" in text_out and "campaign db upgrade" in text_out

    done = json.loads(cli("db", "upgrade", "--json").stdout)
    assert done == {"from": "0001", "to": migrate.head(), "applied": before["pending"]}
    # The tables the later releases added are there and usable; the first release's rows are intact.
    cli("deliverable", "submit", "--city", "许昌市", "--kind", "attachment1", "--note", "培育清单",
        now="2024-05-30", actor="省管理员")
    shown = json.loads(cli("enterprise", "show", CODE, "--json", now="2024-05-30").stdout)
    assert shown["state"] == "cultivation"
    cli("audit", "baseline", "--reason", "升级到新版本，按现状建立基线", now="2024-05-30", actor="省管理员")
    cli("audit", "verify", now="2024-05-30")
    assert "已是最新" in cli("db", "upgrade").stdout
    after = json.loads(cli("db", "current", "--json").stdout)
    assert after == {"current": migrate.head(), "head": migrate.head(), "pending": []}
