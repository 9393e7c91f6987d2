"""Migration 0004 on a database where the race of two `contact add` at once already stored an address
twice: every address stays, each active once per receiving unit, and the unique indexes then hold."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from models import migrate
from models.db import make_engine
from tests.conftest import Cli

ROWS = [  # (city, email, webhook, active)
    ("许昌市", "a@xc.cn", None, True),
    ("许昌市", "a@xc.cn", None, True),  # the race's twin: made inactive
    ("许昌市", "a@xc.cn", "https://h/xc", True),  # keeps its webhook only
    ("许昌市", "b@xc.cn", None, False),  # inactive rows are left as they are
    ("许昌市", "b@xc.cn", None, True),
    ("郑州市", "a@xc.cn", None, True),  # another city may share the address
    (None, "p@hn.cn", None, True),
    (None, "p@hn.cn", None, True),  # the province's twin (city NULL): made inactive too
]


def test_upgrading_merges_contacts_stored_twice_and_the_indexes_then_refuse_a_twin(cli: Cli) -> None:
    engine = make_engine(cli.db)
    try:
        migrate.upgrade(engine, "0003")
        with engine.begin() as c:
            for city, email, webhook, active in ROWS:
                c.execute(text("INSERT INTO contact (city, name, email, webhook, active, created_at) "
                               "VALUES (:c, '', :e, :w, :a, '')"), {"c": city, "e": email, "w": webhook, "a": active})
        migrate.upgrade(engine)
        assert migrate.current(engine) == migrate.head()
        with engine.connect() as c:
            rows = [tuple(r) for r in c.execute(text("SELECT city, email, webhook, active FROM contact ORDER BY id"))]
        assert rows == [("许昌市", "a@xc.cn", None, True), ("许昌市", "a@xc.cn", None, False),
                        ("许昌市", None, "https://h/xc", True), ("许昌市", "b@xc.cn", None, False),
                        ("许昌市", "b@xc.cn", None, True), ("郑州市", "a@xc.cn", None, True),
                        (None, "p@hn.cn", None, True), (None, "p@hn.cn", None, False)]
        for city, email in (("许昌市", "b@xc.cn"), (None, "p@hn.cn")):
            with pytest.raises(IntegrityError), engine.begin() as c:
                c.execute(text("INSERT INTO contact (city, name, email, active, created_at) "
                               "VALUES (:c, '', :e, :a, '')"), {"c": city, "e": email, "a": True})
    finally:
        engine.dispose()
