"""The web load benchmark's small mode runs end to end against a real `campaign serve`, so it never rots.
It asserts that every row of the table is there with positive figures; no timing is asserted."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _figure(cell: str) -> float:
    match = re.match(r"\s*([0-9][0-9,]*(?:\.[0-9]+)?)", cell)
    assert match, f"no figure in {cell!r}"
    return float(match.group(1).replace(",", ""))


@pytest.mark.slow
def test_the_small_web_load_benchmark_prints_every_row_with_positive_figures(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "web_load.py"), "--small", "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    table = [line for line in r.stdout.splitlines() if line.startswith("| ")]
    backends = ["sqlite"] + (["postgresql"] if "| postgresql |" in r.stdout else [])
    for backend in backends:
        for sessions in (1, 10):
            rows = [line for line in table if line.startswith(f"| {backend} | {sessions} |")]
            assert len(rows) == 1, f"no row for {backend} × {sessions}:\n{r.stdout}"
            cells = rows[0].split("|")[1:-1]
            # requests, req/s, POST p50/p95, GET / p50/p95, page p50, in-process advance, ratio, my_tasks, ratio
            for cell in cells[2:13]:
                assert _figure(cell) > 0, rows[0]
            assert cells[-1].strip() == "0", f"unexpected answers from the server: {rows[0]}\n{r.stdout}"
    big = [line for line in table if "coordinator:" in line]
    assert len(big) == 1, r.stdout
    assert all(_figure(c) > 0 for c in big[0].split("|")[2:8]), big[0]
    goals = [line for line in table if line.startswith(("| event POST p95", "| task list p95", "| server memory"))]
    assert len(goals) == 3 and all(("met" in g) or ("missed" in g) or ("not judged" in g) for g in goals), goals
    assert "machine:" in r.stdout and "load generator:" in r.stdout and "same machine" in r.stdout
