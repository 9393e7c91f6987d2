"""Run a function in a forked child with a time and memory limit; the parent never hangs.

The child reports through a pipe as JSON. Inside the child an interval timer raises
`RenderTimeout` where the work is (so the error can name the template line); if that cannot fire
(stuck in C code), the parent kills the child after a grace period. Without `os.fork` (Windows)
the work runs in a daemon thread that is abandoned on timeout.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

GRACE_SECONDS = 1.0
MEMORY_HEADROOM = 512 * 1024 * 1024  # address space a child may add to what it inherits


class RenderTimeout(Exception):
    """The time limit passed inside the child."""


def _on_alarm(_signum: int, _frame: Any) -> None:
    raise RenderTimeout


def _limit_child(timeout: float) -> None:
    with contextlib.suppress(Exception):
        import resource

        pages = int(open("/proc/self/statm").read().split()[0])  # noqa: SIM115
        limit = pages * os.sysconf("SC_PAGE_SIZE") + MEMORY_HEADROOM
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    with contextlib.suppress(ValueError):  # not the main thread: the parent's kill is the limit
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)


def run(fn: Callable[[], dict[str, Any]], *, timeout: float,
        on_kill: Callable[[bool], dict[str, Any]]) -> dict[str, Any]:
    """fn() in a child process; on_kill(timed_out) answers when the child gave no answer."""
    if not hasattr(os, "fork"):
        return _run_in_thread(fn, timeout=timeout, on_kill=on_kill)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: do the work, write the answer, leave without cleanup
        status = 0
        try:
            os.close(read_fd)
            _limit_child(timeout)
            try:
                answer = fn()
            finally:
                with contextlib.suppress(Exception):
                    signal.setitimer(signal.ITIMER_REAL, 0)
            data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
            view = memoryview(data)
            while view:
                view = view[os.write(write_fd, view):]
        except BaseException:
            status = 1
        finally:
            os._exit(status)
    os.close(write_fd)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout + GRACE_SECONDS
    killed = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                killed = True
                break
            ready, _, _ = select.select([read_fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        if killed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    if killed or not chunks:
        return on_kill(killed)
    try:
        reply: dict[str, Any] = json.loads(b"".join(chunks).decode("utf-8"))
    except ValueError:
        return on_kill(False)
    return reply


def _run_in_thread(fn: Callable[[], dict[str, Any]], *, timeout: float,
                   on_kill: Callable[[bool], dict[str, Any]]) -> dict[str, Any]:
    box: list[dict[str, Any]] = []
    worker = threading.Thread(target=lambda: box.append(fn()), daemon=True)
    worker.start()
    worker.join(timeout)
    return box[0] if box else on_kill(worker.is_alive())
