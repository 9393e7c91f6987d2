"""The PostgreSQL benchmarks' small modes run end to end against the test server, so they never rot
(bench/pg_province.py: the province; bench/pg_lock.py: the chain lock). No timing is asserted: only that
each ran and printed every workload with its figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROVINCE = ("1. import", "2. scheduler tick", "2m. scheduler tick, peak RSS", "3. report targets", "4. audit digest",
            "4r. audit verify", "5. task list (my_tasks), city coordinator |", "5. task list (my_tasks), expert",
            "5. task list (my_tasks), city coordinator, largest city")


def _run(script: str, server: str, out: Path) -> str:
    r = subprocess.run([sys.executable, str(ROOT / "bench" / script), "--small", "--pg", server, "--out", str(out)],
                       capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "machine:" in r.stdout and "Python" in r.stdout, r.stdout
    return r.stdout


@pytest.mark.slow
@pytest.mark.postgres
def test_the_small_pg_province_benchmark_prints_every_workload_with_a_verdict(pg_server: str, tmp_path: Path) -> None:
    out = _run("pg_province.py", pg_server, tmp_path)
    table = [line for line in out.splitlines() if line.startswith("| ")]
    for name in PROVINCE:
        rows = [line for line in table if line.startswith(f"| {name}")]
        assert len(rows) == 1, f"no table row for {name}:\n{out}"
        cells = [c.strip() for c in rows[0].split("|")[1:-1]]
        assert cells[1] and cells[5] in ("met", "**missed**", "—"), rows[0]
    assert "server: PostgreSQL" in out


@pytest.mark.slow
@pytest.mark.postgres
def test_the_small_pg_lock_benchmark_prints_every_level(pg_server: str, tmp_path: Path) -> None:
    out = _run("pg_lock.py", pg_server, tmp_path)
    table = [line for line in out.splitlines() if line.startswith("| ")]
    for kind in ("engine", "floor"):
        for n in (1, 8, 32):
            rows = [line for line in table if line.startswith(f"| {kind} | {n} |")]
            assert len(rows) == 1, f"no row for {kind} × {n}:\n{out}"
            events = int(rows[0].split("|")[3].strip().replace(",", ""))
            assert events > 0, rows[0]
    assert any(line.startswith("| engine (synchronous_commit=off) |") for line in table), out
    assert "waiting on the chain lock" in out and "writers:" in out
