"""`audit verify` split between two processes (large logs): same verdicts as one pass."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Cli
from tests.helpers.audit import drop_triggers, execute
from tests.helpers.lifecycle import walk_to_tracking
from workflow.store import chain as ledger


@pytest.fixture
def parallel(monkeypatch: pytest.MonkeyPatch) -> list[ledger.Verdict | None]:
    """Split even a tiny log; the list collects what the two-process path answered."""
    answers: list[ledger.Verdict | None] = []
    split = ledger._parallel

    def spy(*args: Any) -> ledger.Verdict | None:
        answers.append(split(*args))
        return answers[-1]

    monkeypatch.setattr(ledger, "PARALLEL_MIN", 1)
    monkeypatch.setattr(ledger, "_parallel", spy)
    return answers


def _last_seq(cli: Cli) -> int:
    return int(cli("audit", "verify", now="2024-06-20").stdout.split("：")[-1].split()[0])


def test_an_intact_log_verifies_in_two_halves_with_its_digest(
        campaign: Cli, parallel: list[ledger.Verdict | None]) -> None:
    walk_to_tracking(campaign)
    digest = campaign("audit", "digest", now="2024-06-20").stdout.strip().splitlines()[-1]
    last = _last_seq(campaign)
    assert last > 4 and parallel[-1] is not None and parallel[-1].count == last  # both halves, clean
    campaign("audit", "verify", "--digest", digest, now="2024-06-20")
    assert parallel[-1] is not None and parallel[-1].digest_found
    first = ledger.GENESIS.replace("0", "f")
    r = campaign("audit", "verify", "--digest", first, now="2024-06-20", expect=3)
    assert "摘要" in r.stderr


def test_a_tampered_entry_in_the_second_half_is_found(campaign: Cli, parallel: list[ledger.Verdict | None]) -> None:
    walk_to_tracking(campaign)
    last = _last_seq(campaign)
    execute(campaign.db, *drop_triggers(campaign.db), f"UPDATE audit_entry SET reason = '篡改' WHERE seq = {last}")
    r = campaign("audit", "verify", now="2024-06-20", expect=3)
    assert f"seq {last}" in r.stderr and "被改写" in r.stderr
    assert "Traceback" not in r.stderr


def test_an_entry_deleted_at_the_split_is_found(campaign: Cli, parallel: list[ledger.Verdict | None]) -> None:
    walk_to_tracking(campaign)
    mid = _last_seq(campaign) // 2 + 1
    execute(campaign.db, *drop_triggers(campaign.db), f"DELETE FROM audit_entry WHERE seq = {mid - 1}")
    r = campaign("audit", "verify", now="2024-06-20", expect=3)
    assert f"seq {mid - 1}" in r.stderr and "缺失" in r.stderr
