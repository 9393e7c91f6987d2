"""The demo's web workspace: a copy of the demo database taken on a mid-campaign day, so that every
role has work waiting, with one login per role (the 许昌市 people for the city roles)."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import date, datetime, time
from pathlib import Path

from models.db import make_engine
from workflow.clock import SHANGHAI, FixedClock
from workflow.context import Context
from workflow.demo.people import PROVINCE_ADMIN, PROVINCE_REVIEWER, coordinator, expert, reviewer
from workflow.services import logins

CITY = "许昌市"
DB_NAME = "workspace.db"
PASSWORD = "demo-2024-创A晋B"  # the demo's logins only; a real database has no shared password


def people() -> list[tuple[str, str]]:
    """(role in Chinese, login name): one per role."""
    return [("省级管理员", PROVINCE_ADMIN), ("省级复核人员", PROVINCE_REVIEWER),
            ("市级联络员", coordinator(CITY)), ("市级评审人员", reviewer(CITY)), ("专家", expert(CITY))]


def held_at(day: date) -> str:
    """The CAMPAIGN_NOW the workspace is served with: 10:00 on `day`, Asia/Shanghai."""
    return datetime.combine(day, time(10, 0), SHANGHAI).isoformat()


def snapshot(ctx: Context, home: Path) -> Path | None:
    """Copy the demo database as it stands (SQLite's online backup: a consistent copy). None when the
    demo runs on PostgreSQL, which has no file to copy."""
    source = ctx.engine.url.database
    if ctx.engine.url.get_backend_name() != "sqlite" or not source:
        return None
    target = home / DB_NAME
    target.unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


def open_logins(ctx: Context, db: Path, day: date) -> list[tuple[str, str]]:
    """Give each demo person a password on the copy, set by themself (no forced change at first login)."""
    engine = make_engine(str(db))
    try:
        held = FixedClock(datetime.combine(day, time(10, 0), SHANGHAI))
        for _, name in people():
            logins.set_password(replace(ctx, engine=engine, clock=held, actor=name), name, PASSWORD)
    finally:
        engine.dispose()
    return people()
