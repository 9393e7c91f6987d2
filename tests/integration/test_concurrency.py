"""Two coordinators acting on the same participation at once: exactly one wins."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import CODE, Cli
from tests.helpers.lifecycle import ENROLL


def _spawn(cli: Cli, *args: str, actor: str) -> subprocess.Popen[str]:
    env = {**os.environ, "CAMPAIGN_DB": cli.db, "CAMPAIGN_NOW": "2024-06-03", "CAMPAIGN_ACTOR": actor}
    return subprocess.Popen([sys.executable, "-m", "cli", *args], env=env, cwd=cli.home,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_processes_advancing_the_same_enterprise_leave_exactly_one_winner(campaign: Cli) -> None:
    campaign(*ENROLL, now="2024-05-20", actor="许昌联络员")
    procs = [_spawn(campaign, "advance", CODE, "start_assistance", actor="许昌联络员"),
             _spawn(campaign, "advance", CODE, "start_assistance", actor="省管理员")]
    results = [(p.wait(timeout=60), p.stderr.read() if p.stderr else "") for p in procs]
    codes = sorted(rc for rc, _ in results)
    assert codes == [0, 1], results
    loser = next(err for rc, err in results if rc == 1)
    assert "Traceback" not in loser and "locked" not in loser
    assert len(loser.strip().splitlines()) == 1
    history = json.loads(campaign("history", CODE, "--json", now="2024-06-03").stdout)
    assert len(history) == 2  # enroll + the single winner
    campaign("audit", "verify", now="2024-06-03")
