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
    """Wall time from fork to reaped exit, and the child's own peak RSS: VmHWM from /proc/<pid>/status,
    polled every 2 ms until it exits. Not ru_maxrss: on Linux a child's ru_maxrss also counts the
    parent's resident pages at the moment it was spawned (vfork, then exec), so a large benchmark
    process would show in every child's figure (ru_maxrss only when the child was too quick to poll)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
    full_env.update(env or {})
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        p = subprocess.Popen(argv, stdout=out, stderr=err, env=full_env)
        peak = 0
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, _hwm_kb(p.pid))
            time.sleep(0.002)
        seconds = time.perf_counter() - start
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {p.returncode}\n{stdout[-2000:]}\n{stderr[-2000:]}")
    return Run(seconds, (peak or usage.ru_maxrss) / 1024, stdout, stderr)


def _hwm_kb(pid: int) -> int:
    """The process's peak resident set so far (kB), 0 when it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def campaign(args: list[str], env: dict[str, str], *, check: bool = True) -> Run:
    return run([CAMPAIGN, *args], env, check=check)


def python(code: str) -> Run:
    return run([sys.executable, "-c", code])
