"""Checks that read then write hold when two people act at the same instant (issue 12), on SQLite and
PostgreSQL: two admins deactivating each other leave one province admin; two first `actor add`
calls make exactly one province admin; the same contact added twice at once is stored once.

Each pair runs in two threads on their own connections. A barrier inside the service, right after
its check has read the database, holds the first thread until the second has read too, so without
serialisation both checks pass on the same stale view. With it, the second thread cannot read before
the first commits: the first waits out the barrier's timeout and goes on alone."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import pytest

from models.db import make_engine
from tests.conftest import Cli, bootstrap
from workflow.clock import FixedClock, parse_instant
from workflow.context import Context
from workflow.errors import CampaignError

WAIT = 3.0  # how long the first thread holds its check open for the second one


def _context(cli: Cli, actor: str | None) -> Context:
    return Context(engine=make_engine(cli.db), clock=FixedClock(parse_instant("2024-05-21")), actor=actor,
                   simulation=True)


def _held_after(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
    """Make module.name wait at a two-party barrier after it ran (what the check read stays read)."""
    original = getattr(module, name)
    barrier = threading.Barrier(2, timeout=WAIT)

    def held(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return result

    monkeypatch.setattr(module, name, held)


def _at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads at once; each result, or the CampaignError it raised."""
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except CampaignError as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def _admins(cli: Cli) -> list[str]:
    import json

    return [a["name"] for a in json.loads(cli("actor", "list", "--json").stdout)
            if a["active"] and "province_admin" in a["roles"]]


def test_two_admins_deactivating_each_other_at_once_leave_one_province_admin(
        cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from workflow.services import access

    bootstrap(cli)
    cli("actor", "add", "省管理员乙", "--role", "province_admin", now="2024-05-20", actor="省管理员")
    _held_after(monkeypatch, access, "actor_row")
    a, b = _context(cli, "省管理员"), _context(cli, "省管理员乙")
    results = _at_once(lambda: access.deactivate(a, "省管理员乙"), lambda: access.deactivate(b, "省管理员"))
    monkeypatch.undo()
    assert len(_admins(cli)) == 1
    assert sum(isinstance(r, CampaignError) for r in results) == 1, results
    cli("audit", "verify")


def test_two_first_actor_adds_at_once_make_exactly_one_province_admin(
        cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from workflow.services import actors

    cli("init", "--simulation", now="2024-05-06")
    _held_after(monkeypatch, actors, "count")
    results = _at_once(lambda: actors.add(_context(cli, None), "甲", ("province_admin",), None),
                       lambda: actors.add(_context(cli, None), "乙", ("province_admin",), None))
    monkeypatch.undo()
    assert sum(isinstance(r, CampaignError) for r in results) == 1, results
    loser = next(r for r in results if isinstance(r, CampaignError))
    assert "--actor" in str(loser)  # the bootstrap is over: the second one needs an acting admin
    assert len(_admins(cli)) == 1
    cli("audit", "verify")


def test_the_same_contact_added_twice_at_once_is_stored_once(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from workflow.services import contacts

    bootstrap(cli)
    _held_after(monkeypatch, contacts, "_exists")
    ctx = [_context(cli, "许昌联络员"), _context(cli, "许昌联络员")]
    results = _at_once(*(lambda c=c: contacts.add(c, city="许昌市", email="dqk@xuchang.gov.cn") for c in ctx))
    monkeypatch.undo()
    assert sum(isinstance(r, CampaignError) for r in results) == 1, results
    assert "已有相同的在用联系人地址" in str(next(r for r in results if isinstance(r, CampaignError)))
    assert len(json.loads(cli("contact", "list", "--json").stdout)) == 1
    cli("audit", "verify")
