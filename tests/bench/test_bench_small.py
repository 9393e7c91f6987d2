"""The benchmark's small mode runs end to end, so `make bench` never rots. No timing is asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKLOADS = ("1. import", "2a.", "2b.", "2c.", "3. audit verify", "4. scheduler tick", "5. report targets",
             "6a. advance in-process", "6b.", "6c. advance_batch in-process", "7a.", "7b.", "7c.", "7d.")


@pytest.mark.slow
def test_the_small_benchmark_runs_and_prints_a_ratio_for_every_workload(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--small", "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    table = [line for line in r.stdout.splitlines() if line.startswith("| ")]
    for name in WORKLOADS:
        rows = [line for line in table if line.startswith(f"| {name}")]
        assert len(rows) == 1, f"no table row for {name}:\n{r.stdout}"
        ratio = rows[0].split("|")[4].strip()
        assert ratio.endswith("×") and float(ratio[:-1]) > 0, rows[0]
    assert "machine:" in r.stdout and "Python" in r.stdout
