"""Run a child process the way a user does and measure it: wall time and its own peak RSS."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
CAMPAIGN = str(BIN / "campaign")


@dataclass(frozen=True)
class Run:
    seconds: float
    max_rss_mb: float
    stdout: str
    stderr: str


def run(argv: list[str], env: dict[str, str] | None = None, *, check: bool = True) -> Run:
    """Wall time from fork to reaped exit, and the child's own ru_maxrss (os.wait4)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
    full_env.update(env or {})
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        p = subprocess.Popen(argv, stdout=out, stderr=err, env=full_env)
        _, status, usage = os.wait4(p.pid, 0)
        seconds = time.perf_counter() - start
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {p.returncode}\n{stdout[-2000:]}\n{stderr[-2000:]}")
    return Run(seconds, usage.ru_maxrss / 1024, stdout, stderr)


def campaign(args: list[str], env: dict[str, str], *, check: bool = True) -> Run:
    return run([CAMPAIGN, *args], env, check=check)


def python(code: str) -> Run:
    return run([sys.executable, "-c", code])
