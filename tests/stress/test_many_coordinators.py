"""Eight coordinator processes on one database: nothing lost, nothing doubled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from models.db import make_engine
from tests.conftest import Cli, bootstrap
from workflow.domain.creditcode import make

pytestmark = pytest.mark.stress
PROCESSES, EVENTS_EACH, ENTERPRISES = 8, 40, 24


def test_eight_processes_leave_every_state_equal_to_its_audit_replay(cli: Cli, tmp_path: Path,
                                                                    report: Callable[[str], None]) -> None:
    bootstrap(cli)
    codes = [make(f"9141100{i:010d}") for i in range(ENTERPRISES)]
    csv_path = tmp_path / "e.csv"
    csv_path.write_text("code,name,city,industry,grade,rating_doc\n" +
                        "".join(f"{c},许昌企业{i},许昌市,铸造,C,豫环文{i}号\n" for i, c in enumerate(codes)),
                        encoding="utf-8")
    cli("enterprise", "import", str(csv_path), now="2024-05-06", actor="许昌联络员")
    for c in codes:
        cli("assign", c, "--expert", "王专家", now="2024-05-06", actor="许昌联络员")
    env = {**os.environ}
    start = time.monotonic()
    procs = [subprocess.Popen([sys.executable, "-m", "tests.stress.worker", cli.db, str(seed), str(EVENTS_EACH),
                               str(tmp_path / f"w{seed}.json")], env=env, cwd=Path(__file__).parents[2])
             for seed in range(PROCESSES)]
    for p in procs:
        assert p.wait(timeout=240) == 0
    wall = time.monotonic() - start
    stats = [json.loads((tmp_path / f"w{seed}.json").read_text()) for seed in range(PROCESSES)]
    committed = sum(s["committed"] for s in stats)
    errors = [e for s in stats for e in s["errors"]]
    report(f"{PROCESSES} processes × {EVENTS_EACH} events: committed {committed}, "
          f"refused {sum(s['refused'] for s in stats)}, conflicts {sum(s['conflicts'] for s in stats)}, "
          f"retries {sum(s['retries'] for s in stats)}, wall {wall:.1f}s")
    assert errors == []
    assert committed > 0

    engine = make_engine(cli.db)
    try:
        with engine.connect() as conn:
            entries = conn.execute(text(
                "SELECT code, from_state, to_state FROM audit_entry WHERE campaign_year = 2024 "
                "AND code IS NOT NULL AND to_state IS NOT NULL ORDER BY seq")).all()
            states = dict(conn.execute(text(
                "SELECT e.code, p.state FROM participation p JOIN enterprise e ON e.id = p.enterprise_id")).all())
    finally:
        engine.dispose()
    assert len(entries) == committed  # one audit entry per committed event, no more, no less
    replay: dict[str, str] = {}
    for code, from_state, to_state in entries:
        assert replay.get(code, "unenrolled") == from_state  # every entry starts where the last one ended
        replay[code] = to_state
    assert replay == states
    cli("audit", "verify", now="2024-09-20")
