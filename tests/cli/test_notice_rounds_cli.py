"""Delivery a round at a time: one notice's failure stays its own, a round that could not be recorded
is delivered again after its lease, and two deliverers never take the same notice (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import date
from typing import Any

import pytest

from tests.conftest import Cli
from tests.helpers.notices import REMINDER, enqueue_notice, listing, query

NOW = "2024-05-24"  # 09:00 Shanghai, 01:00Z: the notices below were created then


def deliver(cli: Cli, *args: str, now: str = NOW) -> dict[str, int]:
    return dict(json.loads(cli("notices", *(args or ("deliver",)), "--json", now=now).stdout))


def attempts(cli: Cli, nid: int) -> list[dict[str, Any]]:
    return list(json.loads(cli("notices", "show", str(nid), "--json", now=NOW).stdout)["delivery"])


def enqueue_many(cli: Cli, n: int) -> None:
    from models.db import UnitOfWork, make_engine
    from notifications import Item
    from notifications import enqueue_many as put

    engine = make_engine(cli.db)
    try:
        with UnitOfWork(engine) as uow:
            put(uow.session, [Item("reminder", f"reminder:attachment1:2024-05:许昌市:{i}", "许昌市", None,
                                   date(2024, 5, 31), REMINDER) for i in range(n)],
                created_at="2024-05-24T01:00:00.000000Z")
            uow.commit()
    finally:
        engine.dispose()


def test_a_notice_that_fails_to_render_fails_alone_and_the_rest_of_its_round_is_delivered(campaign: Cli) -> None:
    first = enqueue_notice(campaign, key="k1")
    broken = enqueue_notice(campaign, key="k2", context={"deliverable": "附件"})  # keys missing
    last = enqueue_notice(campaign, key="k3", city="郑州市")
    assert first is not None and broken is not None and last is not None
    assert deliver(campaign, now="2024-05-24T09:05") == {"delivered": 2, "failed": 1, "attempts": 2, "skipped": 0}
    rows = {r["id"]: r for r in listing(campaign)}
    assert rows[first]["status"] == rows[last]["status"] == "delivered"
    assert rows[broken]["status"] == "failed" and rows[broken]["attempts"] == 1
    assert "attachment" in rows[broken]["error"]
    assert rows[broken]["next_attempt_at"] == "2024-05-24T01:07:00.000000Z"  # 09:05 + 2 minutes
    assert attempts(campaign, broken) == []  # nothing was sent for it
    assert [(a["channel"], a["ok"]) for a in attempts(campaign, last)] == [("outbox", True)]
    names = sorted(p.name for p in (campaign.home / "outbox").iterdir())
    assert names == [f"{first:06d}-reminder-许昌市.txt", f"{last:06d}-reminder-郑州市.txt"]
    assert deliver(campaign, "retry", str(broken), now="2024-05-24T09:06")["failed"] == 1  # still broken
    assert {r["id"]: r["attempts"] for r in listing(campaign)}[broken] == 2


def test_a_failing_webhook_fails_only_its_notice_and_only_the_webhook_is_tried_again(campaign: Cli) -> None:
    with socket.socket() as probe:  # a port nobody listens on: the connection is refused at once
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    campaign("contact", "add", "--city", "许昌市", "--webhook", f"http://127.0.0.1:{closed}/send?key=K",
             now=NOW, actor="许昌联络员")
    others = [enqueue_notice(campaign, key=f"z{i}", city="郑州市") for i in range(2)]
    xuchang = enqueue_notice(campaign, key="x")
    assert xuchang is not None
    assert deliver(campaign) == {"delivered": 2, "failed": 1, "attempts": 4, "skipped": 0}
    assert [(a["channel"], a["ok"]) for a in attempts(campaign, xuchang)] == [("outbox", True), ("webhook", False)]
    assert deliver(campaign) == {"delivered": 0, "failed": 0, "attempts": 0, "skipped": 0}  # backoff
    assert deliver(campaign, now="2024-05-24T09:03") == {"delivered": 0, "failed": 1, "attempts": 1, "skipped": 0}
    tries = attempts(campaign, xuchang)
    assert [(a["round"], a["channel"], a["ok"]) for a in tries] == [
        (1, "outbox", True), (1, "webhook", False), (2, "webhook", False)]
    assert all("key=K" not in a["target"] for a in tries)
    assert {r["id"]: r["status"] for r in listing(campaign)} == {
        **{nid: "delivered" for nid in others}, xuchang: "failed"}


def test_a_round_that_could_not_be_recorded_is_delivered_again_once_its_lease_runs_out(
        campaign: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from notifications import delivery

    ids = [enqueue_notice(campaign, key=f"k{i}") for i in range(3)]
    with monkeypatch.context() as m:  # the database goes away before the round is recorded
        m.setattr(delivery, "_DELIVERED", "UPDATE no_such_table SET x = ? WHERE y = ? AND z = ?")
        assert deliver(campaign) == {"delivered": 0, "failed": 3, "attempts": 0, "skipped": 0}
    assert query(campaign, "SELECT count(*) FROM delivery_attempt")[0][0] == 0  # nothing half-recorded
    assert [r["id"] for r in listing(campaign, "--status", "sending")] == ids  # still claimed
    assert deliver(campaign, now="2024-05-24T09:09")["delivered"] == 0  # the lease holds 10 minutes
    assert deliver(campaign, now="2024-05-24T09:10") == {"delivered": 3, "failed": 0, "attempts": 3, "skipped": 0}
    for nid in ids:
        assert nid is not None
        assert [(a["round"], a["channel"], a["ok"]) for a in attempts(campaign, nid)] == [(1, "outbox", True)]
    assert len(list((campaign.home / "outbox").iterdir())) == 3  # written twice, same files


def test_deliver_and_retry_go_through_every_round_not_only_the_first(campaign: Cli) -> None:
    from notifications import delivery

    n = delivery.BATCH * 2 + 50
    enqueue_many(campaign, n)
    blocked = campaign.home / "blocked"
    blocked.write_text("a file where the outbox directory should be", encoding="utf-8")
    campaign.env["CAMPAIGN_OUTBOX"] = str(blocked)
    assert deliver(campaign) == {"delivered": 0, "failed": n, "attempts": n, "skipped": 0}
    assert deliver(campaign) == {"delivered": 0, "failed": 0, "attempts": 0, "skipped": 0}  # backoff
    del campaign.env["CAMPAIGN_OUTBOX"]
    assert deliver(campaign, "retry") == {"delivered": n, "failed": 0, "attempts": n, "skipped": 0}
    assert listing(campaign, "--status", "failed") == []


def test_two_deliverers_at_once_never_deliver_a_notice_twice(campaign: Cli) -> None:
    from models.db import make_engine
    from notifications import delivery
    from workflow.clock import parse_instant

    enqueue_many(campaign, 450)
    engine = make_engine(campaign.db)
    try:  # a claimed round is gone for everyone else until its lease runs out
        claimed = delivery._claim(engine, parse_instant(NOW), None, False)
        assert len(claimed) == delivery.BATCH
        assert delivery._claim(engine, parse_instant("2024-05-24T09:09"), [int(n.id) for n in claimed], True) == []
        again = delivery._claim(engine, parse_instant("2024-05-24T09:10"), None, False)
        assert [n.id for n in again] == [n.id for n in claimed]  # lease over: the oldest first again
    finally:
        engine.dispose()
    env = {**os.environ, "CAMPAIGN_DB": campaign.db, "CAMPAIGN_NOW": "2024-05-24T09:20"}
    for _ in range(2):  # two processes at once, twice
        procs = [subprocess.Popen([sys.executable, "-m", "cli", "notices", "deliver", "--json"], env=env,
                                  cwd=campaign.home, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
            assert json.loads(out)["failed"] == 0
    assert [tuple(r) for r in query(campaign, "SELECT status, count(*) FROM notice GROUP BY status")] == [
        ("delivered", 450)]
    per_notice = query(campaign, "SELECT notice_id, count(*) FROM delivery_attempt GROUP BY notice_id")
    assert len(per_notice) == 450 and {n for _, n in per_notice} == {1}
    assert len(list((campaign.home / "outbox").iterdir())) == 450
