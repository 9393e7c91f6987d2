"""The load generator of bench/web_load.py: a real `campaign serve` child process and closed-loop
sessions of httpx.AsyncClient on one asyncio loop, in the benchmark process (same machine)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.proc import CAMPAIGN
from bench.web_data import PASSWORD, Step

ROOT = Path(__file__).resolve().parent.parent

CSRF_COOKIE = "campaign_csrf"
VERSION_MARK = 'name="version" value="'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kb(pid: int) -> int:
    """The process's resident set (VmRSS of /proc/<pid>/status), in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Server:
    """`campaign serve --port P` on `db`, the clock held at `now` (CAMPAIGN_NOW), as a user starts it;
    its output goes to `log`."""

    def __init__(self, db: str, now: str, log: Path, *, args: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
        env.update({"CAMPAIGN_DB": db, "CAMPAIGN_NOW": now, "PYTHONUNBUFFERED": "1"})
        # the checkout first: an editable install made before web/ existed does not map it
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        log.parent.mkdir(parents=True, exist_ok=True)
        self.log = log
        self._out = log.open("w")
        self.proc = subprocess.Popen([CAMPAIGN, "serve", "--port", str(self.port), *args], env=env,
                                     stdout=self._out, stderr=subprocess.STDOUT, cwd=log.parent)
        self._wait()

    def _wait(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"campaign serve exited {self.proc.returncode}: {self.output()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/login", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"campaign serve did not answer within {timeout} s: {self.output()[-2000:]}")

    def rss_kb(self) -> int:
        return rss_kb(self.proc.pid)

    def output(self) -> str:
        if not self._out.closed:
            self._out.flush()
        return self.log.read_text("utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._out.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Tally:
    """Latencies (seconds) by request kind, and anything unexpected."""

    times: dict[str, list[float]] = field(default_factory=lambda: {"post": [], "tasks": [], "page": []})
    errors: list[str] = field(default_factory=list)
    exhausted: int = 0  # sessions that ran out of steps before the deadline

    def requests(self) -> int:
        return sum(len(v) for v in self.times.values())


def _version(html: str) -> str:
    start = html.find(VERSION_MARK)
    if start < 0:
        return ""
    start += len(VERSION_MARK)
    return html[start:html.index('"', start)]


class Session:
    """One person in a browser: logged in, closed loop, no think time."""

    def __init__(self, url: str, name: str, steps: list[Step]) -> None:
        self.name = name
        self.steps = list(steps)
        self.client = httpx.AsyncClient(base_url=url, timeout=60.0, follow_redirects=False)
        self.versions: dict[str, str] = {}

    def _csrf(self) -> str:
        token = self.client.cookies.get(CSRF_COOKIE)
        if not token:
            raise RuntimeError(f"{self.name}: no CSRF cookie")
        return str(token)

    async def login(self, password: str = PASSWORD) -> None:
        await self.client.get("/login")
        r = await self.client.post("/login", data={"name": self.name, "password": password,
                                                   "_csrf_token": self._csrf()})
        if r.status_code != 303 or r.headers.get("location", "").startswith("/password"):
            raise RuntimeError(f"login of {self.name} failed: {r.status_code} {r.headers.get('location')}")

    async def _timed(self, tally: Tally, kind: str, method: str, path: str, expect: int,
                     data: dict[str, str] | None = None) -> httpx.Response:
        t = time.perf_counter()
        r = await (self.client.get(path) if method == "GET" else self.client.post(path, data=data))
        tally.times[kind].append(time.perf_counter() - t)
        if r.status_code != expect:
            tally.errors.append(f"{self.name} {method} {path}: {r.status_code} {r.text[:300]!r}")
        return r

    async def page(self, tally: Tally, code: str) -> None:
        r = await self._timed(tally, "page", "GET", f"/enterprises/{code}", 200)
        self.versions[code] = _version(r.text)

    async def run(self, tally: Tally, deadline: float) -> None:
        """Until the deadline: open the task list, (open the enterprise the first time), post its next
        event with the page's version, follow the redirect to the enterprise page (the new version)."""
        while time.perf_counter() < deadline:
            if not self.steps:
                tally.exhausted += 1
                return
            step = self.steps.pop(0)
            await self._timed(tally, "tasks", "GET", "/", 200)
            if step.code not in self.versions:
                await self.page(tally, step.code)
            form = {**step.form, "version": self.versions[step.code], "_csrf_token": self._csrf()}
            await self._timed(tally, "post", "POST", f"/enterprises/{step.code}/events/{step.event}", 303, form)
            await self.page(tally, step.code)

    async def close(self) -> None:
        await self.client.aclose()


@dataclass
class LoadResult:
    tally: Tally
    seconds: float
    rss_start_kb: int
    rss_end_kb: int
    rss_peak_kb: int
    rss_mid_kb: int  # half-way through the load: end − mid is the growth after warm-up


async def _load(server: Server, sessions: list[Session], duration: float) -> LoadResult:
    await asyncio.gather(*(s.login() for s in sessions))  # not timed: argon2 on purpose is slow
    for s in sessions:  # warm-up (not counted): each session opens its task list once
        r = await s.client.get("/")
        if r.status_code != 200:
            raise RuntimeError(f"{s.name}: GET / answered {r.status_code}")
    tally = Tally()
    rss0 = peak = server.rss_kb()
    mid = 0
    stop = asyncio.Event()

    async def sample() -> None:
        nonlocal peak, mid
        while not stop.is_set():
            now = server.rss_kb()
            peak = max(peak, now)
            if not mid and time.perf_counter() >= start + duration / 2:
                mid = now
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.25)

    start = time.perf_counter()
    sampler = asyncio.create_task(sample())
    await asyncio.gather(*(s.run(tally, start + duration) for s in sessions))
    seconds = time.perf_counter() - start
    stop.set()
    await sampler
    rss1 = server.rss_kb()
    for s in sessions:
        await s.close()
    return LoadResult(tally, seconds, rss0, rss1, max(peak, rss1), mid or rss1)


def load(server: Server, people: list[tuple[str, list[Step]]], duration: float) -> LoadResult:
    """`len(people)` sessions, each logged in as its person, advancing its steps for `duration` s."""
    sessions = [Session(server.url, name, steps) for name, steps in people]
    return asyncio.run(_load(server, sessions, duration))


async def _gets(url: str, name: str, path: str, n: int) -> list[float]:
    s = Session(url, name, [])
    await s.login()
    await s.client.get(path)  # warm-up
    out = []
    for _ in range(n):
        t = time.perf_counter()
        r = await s.client.get(path)
        out.append(time.perf_counter() - t)
        if r.status_code != 200:
            raise RuntimeError(f"GET {path} as {name}: {r.status_code}")
    await s.close()
    return out


def gets(server: Server, name: str, path: str, n: int) -> list[float]:
    """One session of `name` opening `path` `n` times in a row (after one warm-up)."""
    return asyncio.run(_gets(server.url, name, path, n))
