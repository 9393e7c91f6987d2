"""A database that is missing, unreachable or not initialised: one clear line, exit 1, no traceback."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.conftest import Cli


def _one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_a_mistyped_database_path_is_refused_and_no_file_is_left_behind(tmp_path: Path) -> None:
    r = Cli(str(tmp_path / "typo.db"), tmp_path)("status", now="2024-06-03", expect=1)
    assert "不存在" in _one_line(r.stderr) and "campaign init" in r.stderr
    r = Cli(str(tmp_path / "typo.db"), tmp_path)("db", "current", expect=1)  # looking creates nothing
    assert "不存在" in _one_line(r.stderr)
    assert not (tmp_path / "typo.db").exists()


def test_an_uninitialised_database_says_to_run_init(tmp_path: Path) -> None:
    import sqlite3

    sqlite3.connect(tmp_path / "empty.db").close()  # a file, but no schema
    r = Cli(str(tmp_path / "empty.db"), tmp_path)("status", now="2024-06-03", expect=1)
    assert "campaign init" in _one_line(r.stderr) and "campaign db upgrade" in r.stderr


def test_an_unreachable_server_says_so(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = Cli(f"postgresql://postgres@127.0.0.1:{port}/postgres", tmp_path)("status", now="2024-06-03", expect=1)
    assert "无法连接数据库" in _one_line(r.stderr)
