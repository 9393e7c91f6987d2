"""Helpers for the deadline and scheduler tests: small calendars, notice queries, ticking."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from tests.conftest import CODE, Cli

HOLIDAYS_2027 = ("[workdays.\"2027\"]\n"
                 "holidays = [2027-01-01, 2027-10-01, 2027-10-04, 2027-10-05, 2027-10-06, 2027-10-07]\n"
                 "workdays = [2027-09-26, 2027-10-09]\n")


def calendar_text(*, cities: tuple[str, ...] = ("郑州市", "许昌市"), year: int = 2024, workdays: str = "") -> str:
    """The shipped calendar with fewer reporting units (and optionally moved to another year)."""
    from workflow.domain.plan import default_text

    head = default_text().partition("# Reporting units")[0]
    if year != 2024:
        head = head.replace("2024", str(year))
    body = "".join(f'[[cities]]\nname = "{c}"\ntarget = 20\n' for c in cities)
    return f"{head}{body}\n{workdays}"


def write_calendar(tmp: Path, name: str = "small.toml", **kw: Any) -> str:
    path = tmp / name
    path.write_text(calendar_text(**kw), "utf-8")
    return str(path)


def small_campaign(cli: Cli, now: str = "2024-05-06") -> None:
    """A two-city campaign (郑州市, 许昌市), the usual actors, one 许昌 enterprise (grade C)."""
    cli("init", "--simulation", "--calendar", write_calendar(cli.home), now=now)
    cli("actor", "add", "省管理员", "--role", "province_admin", now=now)
    for name, role, city in (("许昌联络员", "city_coordinator", "许昌市"), ("许昌评审", "city_reviewer", "许昌市"),
                             ("郑州联络员", "city_coordinator", "郑州市")):
        cli("actor", "add", name, "--role", role, "--city", city, now=now, actor="省管理员")
    cli("actor", "add", "王专家", "--role", "expert", now=now, actor="省管理员")
    cli("actor", "add", "省复核员", "--role", "province_reviewer", now=now, actor="省管理员")
    cli("enterprise", "add", "--code", CODE, "--name", "许昌恒达耐材有限公司", "--city", "许昌市",
        "--industry", "耐材", "--grade", "C", "--rating-doc", "豫环文1号", now=now, actor="许昌联络员")


def tick(cli: Cli, day: date | str, *extra: str) -> dict[str, Any]:
    out = cli("scheduler", "tick", "--json", *extra, now=str(day)).stdout
    result: dict[str, Any] = json.loads(out)
    return result


def keys(result: dict[str, Any]) -> list[str]:
    return sorted(n["key"] for n in result["notices"])


def notices(cli: Cli) -> list[dict[str, Any]]:
    """Every notice row in the database (key, kind, city, code, due, status)."""
    from sqlalchemy import select

    from models.db import make_engine
    from models.notices import Notice
    from models.tables import table

    n = table(Notice).c
    engine = make_engine(cli.db)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(n.key, n.kind, n.city, n.code, n.due, n.status, n.context)
                                .order_by(n.id)).all()
    finally:
        engine.dispose()
    return [dict(r._mapping) for r in rows]


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def weekly(due: date, last: date) -> list[int]:
    """The offsets of the overdue notices of a deadline: +1, +8, +15 … up to `last`."""
    out, day = [], due + timedelta(days=1)
    while day <= last:
        out.append((day - due).days)
        day += timedelta(days=7)
    return out


class Daemon:
    """`campaign scheduler run` in a subprocess, its output read line by line with timeouts."""

    def __init__(self, db: str, home: Path, now: str | None = None, poll: float = 0.3) -> None:
        import os
        import queue
        import subprocess
        import sys
        import threading

        env = {**os.environ, "CAMPAIGN_DB": db, "PYTHONUNBUFFERED": "1"}
        env.pop("CAMPAIGN_NOW", None)
        if now:
            env["CAMPAIGN_NOW"] = now
        exe = Path(sys.executable).parent / "campaign"
        self.proc = subprocess.Popen([str(exe), "scheduler", "run", "--poll", str(poll)], cwd=home, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._q: queue.Queue[str | None] = queue.Queue()

        def pump() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self._q.put(line.rstrip("\n"))
            self._q.put(None)

        threading.Thread(target=pump, daemon=True).start()

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        import queue
        import time

        for line in self.lines:
            if text in line:
                return line
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                got = self._q.get(timeout=left)
            except queue.Empty:
                break
            if got is None:
                break
            self.lines.append(got)
            if text in got:
                return got
        raise AssertionError(f"no line with {text!r} within {timeout}s; output:\n" + "\n".join(self.lines))

    def stop(self, timeout: float = 20.0) -> int:
        import signal

        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        if code == 0:
            self.wait_for("调度器已停止", timeout=5)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
