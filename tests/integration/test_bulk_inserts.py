"""Rows written on the driver's own cursor (the hot path's prepared statements, executemany, COPY on
PostgreSQL) still raise SQLAlchemy's IntegrityError for a duplicate, so the engine still answers a
racing write as a concurrent change, and a duplicate undoes the whole transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from models.db import UnitOfWork, make_engine
from models.tables import Evaluation, table
from tests.conftest import Cli
from tests.helpers.lifecycle import walk_to_tracking
from workflow.store import bulk
from workflow.store.participations import Direct

COLUMNS = ("participation_id", "cycle", "month", "recorded_at", "audit_seq")


@pytest.mark.parametrize("rows", [1, bulk.COPY_FROM + 5], ids=["one row", "many rows (COPY on PostgreSQL)"])
def test_a_duplicate_written_in_bulk_is_an_integrity_error_and_writes_nothing(campaign: Cli, rows: int) -> None:
    walk_to_tracking(campaign)
    engine = make_engine(campaign.db)
    try:
        with UnitOfWork(engine) as uow:
            conn = uow.session.connection()
            pid = conn.execute(text("SELECT id FROM participation")).scalar_one()
            fresh = [(pid, 1, f"2030-{m:02d}", "", 1) for m in range(1, 13)] * (1 + rows // 12)
            batch = [*fresh[:rows - 1], (pid, 1, "2030-01", "", 1)]  # the last one repeats the first month
            if rows == 1:
                bulk.insert_rows(conn, table(Evaluation), COLUMNS, batch)
                batch = batch[:1]
            with pytest.raises(IntegrityError):
                bulk.insert_rows(conn, table(Evaluation), COLUMNS, batch)
        with UnitOfWork(engine) as uow:
            assert uow.session.execute(text("SELECT count(*) FROM evaluation WHERE month LIKE '2030-%'")).scalar() == 0
    finally:
        engine.dispose()


def test_a_month_recorded_twice_through_the_prepared_insert_is_an_integrity_error(campaign: Cli) -> None:
    walk_to_tracking(campaign)
    engine = make_engine(campaign.db)
    try:
        with UnitOfWork(engine) as uow:
            pid = uow.session.execute(text("SELECT id FROM participation")).scalar_one()
            rows = Direct(uow.session, 1)
            rows.record_month(pid, 1, "2030-01", "", 1)
            with pytest.raises(IntegrityError):
                rows.record_month(pid, 1, "2030-01", "", 1)
    finally:
        engine.dispose()
