"""`campaign serve`: refuses what it cannot do before starting anything; serves; runs the scheduler
in its own process when asked."""

from __future__ import annotations

import pytest

from tests.conftest import Cli
from tests.helpers.web import Server

pytestmark = pytest.mark.browser


def test_several_workers_on_sqlite_are_refused_in_one_line(people: Cli) -> None:
    r = people("serve", "--workers", "2", "--port", "1", now="2024-05-20", expect=2)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "SQLite" in lines[0] and "PostgreSQL" in lines[0]
    assert r.stdout == ""  # nothing started, no URL printed


def test_a_missing_database_is_named_and_nothing_is_created(tmp_path: object) -> None:
    from pathlib import Path

    home = Path(str(tmp_path))
    cli = Cli(str(home / "nowhere.db"), home)
    r = cli("serve", expect=1)
    assert "不存在" in r.stderr and not (home / "nowhere.db").exists()


def test_serve_answers_and_runs_the_scheduler_when_asked(people: Cli) -> None:
    import httpx

    with Server(people, now="2024-05-20", args=("--scheduler",)) as server:
        page = httpx.get(server.url + "/login")
        assert page.status_code == 200 and "登录" in page.text
        assert httpx.get(server.url + "/", follow_redirects=False).status_code == 303
    out = server.output()
    assert "【模拟 SIMULATION】工作台：http://127.0.0.1:" in out and "调度器" in out
    assert "Traceback" not in out
