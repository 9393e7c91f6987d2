"""enqueue and deliver_pending on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from models.db import UnitOfWork, create_schema, make_engine
from models.notices import Notice
from models.tables import table
from notifications import deliver_pending, enqueue, queue

CREATED = "2024-05-24T01:00:00.000000Z"
NOW = datetime(2024, 5, 24, 2, 0, tzinfo=UTC)
REMINDER = {"deliverable": "XX市（区）绩效提升企业培育清单", "attachment": "附件1", "period": "2024-05",
            "days_left": 7}


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    e = make_engine(db_url)
    create_schema(e)
    yield e
    e.dispose()


def add(session: Any, key: str, kind: str = "reminder", context: dict[str, Any] | None = None) -> int | None:
    return enqueue(session, kind=kind, key=key, city="许昌市", code=None, due=date(2024, 5, 31),
                   context=REMINDER if context is None else context, created_at=CREATED)


def rows(engine: Engine) -> list[Any]:
    with engine.connect() as c:
        return list(c.execute(select(table(Notice)).order_by(table(Notice).c.id)))


def test_enqueue_renders_in_the_callers_transaction_and_commits_nothing_itself(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        assert add(uow.session, "reminder:attachment1:2024-05:许昌市:7") is not None
    assert rows(engine) == []  # rolled back with the caller
    with UnitOfWork(engine) as uow:
        nid = add(uow.session, "reminder:attachment1:2024-05:许昌市:7")
        uow.commit()
    (n,) = rows(engine)
    assert n.id == nid and n.status == "pending" and "2024年5月31日（星期五）" in n.body
    assert json.loads(n.context)["issued"] == "2024-05-24" and n.due == date(2024, 5, 31)


def test_a_second_notice_with_the_same_key_is_not_created(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        first = add(uow.session, "k")
        assert add(uow.session, "k") is None
        uow.commit()
    with UnitOfWork(engine) as uow:
        assert add(uow.session, "k") is None
    assert [n.id for n in rows(engine)] == [first]


def test_a_racing_duplicate_does_not_poison_the_callers_transaction(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with UnitOfWork(engine) as uow:
        add(uow.session, "k")
        uow.commit()
    monkeypatch.setattr(queue, "exists", lambda session, key: False)  # as if another run won the race
    with UnitOfWork(engine) as uow:
        assert add(uow.session, "k") is None  # the unique key refuses it inside a savepoint
        assert add(uow.session, "k2") is not None  # and the transaction goes on
        uow.session.execute(text("SELECT 1"))
        uow.commit()
    assert [n.key for n in rows(engine)] == ["k", "k2"]


def test_a_notice_that_fails_to_render_is_kept_failed_with_the_error(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        add(uow.session, "k", context={"deliverable": "附件"})  # attachment, period, days_left missing
        uow.commit()
    (n,) = rows(engine)
    assert n.status == "failed" and n.subject == ""
    assert "packaged:reminder.j2" in n.error and "attachment" in n.error
    assert n.next_attempt_at == "2024-05-24T01:01:00.000000Z"


def test_failed_delivery_is_retried_with_growing_backoff_and_never_dropped(
        engine: Engine, tmp_path: Path) -> None:
    blocked = tmp_path / "home"
    blocked.mkdir()
    (blocked / "outbox").write_text("a file where the outbox directory should be")
    with UnitOfWork(engine) as uow:
        add(uow.session, "k")
        uow.commit()
    assert deliver_pending(engine, home=blocked, now=NOW)["failed"] == 1
    (n,) = rows(engine)
    assert n.status == "failed" and n.attempts == 1 and n.next_attempt_at == "2024-05-24T02:02:00.000000Z"
    assert deliver_pending(engine, home=blocked, now=NOW + timedelta(minutes=1))["failed"] == 0  # not due
    assert deliver_pending(engine, home=blocked, now=NOW + timedelta(minutes=2))["failed"] == 1
    (n,) = rows(engine)
    assert n.attempts == 2 and n.next_attempt_at == "2024-05-24T02:06:00.000000Z"
    assert queue.backoff(30, NOW) == "2024-05-24T08:00:00.000000Z"  # capped at 6 hours
    (blocked / "outbox").unlink()
    assert deliver_pending(engine, home=blocked, now=NOW + timedelta(minutes=6))["delivered"] == 1
    assert (blocked / "outbox" / "000001-reminder-许昌市.txt").is_file()
    with engine.connect() as c:
        oks = [r[0] for r in c.execute(text("SELECT ok FROM delivery_attempt ORDER BY id"))]
    assert [bool(x) for x in oks] == [False, False, True]
