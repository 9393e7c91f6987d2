"""The audit log on a real database: triggers, tampering, digests, state cross-checks."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from models.db import make_engine
from tests.conftest import CODE, Cli
from tests.helpers.audit import drop_triggers, execute
from tests.helpers.lifecycle import ENROLL, walk_to_tracking


def test_the_database_refuses_to_update_or_delete_audit_rows(campaign: Cli) -> None:
    for stmt in ("UPDATE audit_entry SET actor = 'x' WHERE seq = 1", "DELETE FROM audit_entry"):
        with pytest.raises(Exception, match="append-only"):
            execute(campaign.db, stmt)


def test_verify_names_the_first_altered_entry_and_exits_3(campaign: Cli) -> None:
    walk_to_tracking(campaign)
    seq = int(campaign("history", CODE, "--json", now="2024-06-20").stdout.split('"seq": ')[1].split(",")[0])
    execute(campaign.db, *drop_triggers(campaign.db),
          f"UPDATE audit_entry SET reason = '篡改' WHERE seq = {seq}")
    r = campaign("audit", "verify", now="2024-06-20", expect=3)
    assert CODE in r.stderr and f"seq {seq}" in r.stderr
    assert "Traceback" not in r.stderr


def test_verify_detects_a_deleted_entry_in_the_middle(campaign: Cli) -> None:
    walk_to_tracking(campaign)
    execute(campaign.db, *drop_triggers(campaign.db), "DELETE FROM audit_entry WHERE seq = 3")
    r = campaign("audit", "verify", now="2024-06-20", expect=3)
    assert "seq 3" in r.stderr


def test_a_state_changed_behind_the_audit_log_is_detected(campaign: Cli) -> None:
    campaign(*ENROLL, now="2024-05-20", actor="许昌联络员")
    execute(campaign.db, "UPDATE participation SET state = 'certification'")
    r = campaign("audit", "verify", now="2024-05-20", expect=3)
    assert CODE in r.stderr and "certification" in r.stderr


def test_a_digest_detects_history_cut_off_after_it_was_taken(campaign: Cli) -> None:
    walk_to_tracking(campaign)
    digest = campaign("audit", "digest", now="2024-06-20").stdout.strip().splitlines()[-1]
    assert len(digest) == 64
    campaign("advance", CODE, "withdraw", "--reason", "退出", now="2024-06-21", actor="许昌联络员")
    campaign("audit", "verify", "--digest", digest, now="2024-06-21")
    engine = make_engine(campaign.db)
    with engine.connect() as conn:
        last = conn.execute(text("SELECT MAX(seq) FROM audit_entry")).scalar_one()
    engine.dispose()
    # cut off the withdrawal and the entry the digest pointed at, and make the state agree
    execute(campaign.db, *drop_triggers(campaign.db),
          f"DELETE FROM audit_entry WHERE seq >= {last - 1}",
          "UPDATE participation SET state = 'assistance'")
    campaign("audit", "verify", now="2024-06-21")  # the chain alone still looks intact
    r = campaign("audit", "verify", "--digest", digest, now="2024-06-21", expect=3)
    assert "摘要" in r.stderr


def test_refused_attempts_are_recorded_outside_the_chain(campaign: Cli) -> None:
    campaign("advance", CODE, "start_assistance", now="2024-05-20", actor="许昌联络员", expect=1)
    engine = make_engine(campaign.db)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT actor, event, reason FROM refusal")).all()
    engine.dispose()
    assert ("许昌联络员", "start_assistance") in [(r[0], r[1]) for r in rows]
    campaign("audit", "verify", now="2024-05-20")


def test_the_two_process_verification_replays_the_whole_log_and_names_a_changed_row(
        campaign: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from workflow.store import chain as ledger

    walk_to_tracking(campaign)
    monkeypatch.setattr(ledger, "PARALLEL_MIN", 4)  # split even this short log between two processes
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    split = []
    real = ledger._parallel
    monkeypatch.setattr(ledger, "_parallel", lambda *a: split.append(real(*a)) or split[-1])
    campaign("audit", "verify", now="2024-06-20")
    assert split and split[0] is not None  # the two halves met
    execute(campaign.db, "UPDATE participation SET plan_submitted = FALSE")
    r = campaign("audit", "verify", now="2024-06-20", expect=3)
    first = r.stderr.splitlines()[0]
    assert first.startswith(f"错误 Error: participation {CODE}（2024）列 plan_submitted：库中 False，审计链推得 True")
