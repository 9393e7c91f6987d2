"""A unit of work that only reads does not queue behind a writer on SQLite (issue 16: the web's page
views wait for no one's write lock); one that may write still takes the lock up front."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from models import db as models_db
from tests.conftest import CODE, Cli, bootstrap
from tests.helpers.lifecycle import ENROLL


def test_a_read_only_unit_reads_while_a_writer_holds_the_lock(sqlite_cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    bootstrap(sqlite_cli)
    sqlite_cli("enterprise", "add", "--code", CODE, "--name", "许昌恒达耐材有限公司", "--city", "许昌市",
               "--industry", "耐材", "--grade", "C", "--rating-doc", "许环〔2022〕1号", now="2024-05-06",
               actor="许昌联络员")
    sqlite_cli(*ENROLL, now="2024-05-20", actor="许昌联络员")
    monkeypatch.setattr(models_db, "BUSY_TIMEOUT_MS", 200)  # a writer gives up quickly here
    engine = models_db.make_engine(sqlite_cli.db)
    writer = sqlite3.connect(Path(sqlite_cli.db), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # someone else's write in progress
    try:
        with models_db.UnitOfWork(engine, read_only=True) as uow:
            n = uow.session.execute(text("SELECT count(*) FROM audit_entry WHERE code = :c"), {"c": CODE}).scalar()
        assert n and n >= 1
        with pytest.raises(OperationalError, match="locked"), models_db.UnitOfWork(engine) as uow:
            uow.session.execute(text("SELECT 1"))
    finally:
        writer.rollback()
        writer.close()
        engine.dispose()
