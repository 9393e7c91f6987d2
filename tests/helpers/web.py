"""Driving the web workspace in tests: the app in-process (Litestar's TestClient) for HTTP-level tests,
a real `campaign serve` (uvicorn) on a free port for the browser, and Debian's chromium for Playwright.

The browser tests need /usr/bin/chromium. Without it they are skipped, unless
CAMPAIGN_REQUIRE_CHROMIUM=1 (CI), where a missing browser is a failure."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).parents[2]
PASSWORD = "correct-horse-battery-1"  # 23 characters: passes the 12-character rule
ARTIFACTS = ROOT / "tests" / "web" / "artifacts"


def need_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CAMPAIGN_REQUIRE_CHROMIUM") == "1":
        pytest.fail("CAMPAIGN_REQUIRE_CHROMIUM=1 but /usr/bin/chromium is missing (apt-get install chromium)")
    pytest.skip("/usr/bin/chromium not installed (apt-get install chromium); "
                "set CAMPAIGN_REQUIRE_CHROMIUM=1 to make this a failure")


def set_password(cli: Cli, name: str, password: str = PASSWORD, *, by: str | None = None,
                 now: str | None = None) -> None:
    """`campaign actor password NAME --stdin` by `by` (default: the person themself, so no change is forced)."""
    cli("actor", "password", name, "--stdin", actor=by or name, input=password + "\n", now=now)


def audit_count(cli: Cli, now: str | None = None) -> int:
    """How many entries the audit chain holds (what a refused request must leave as it was)."""
    import json

    return int(json.loads(cli("audit", "verify", "--json", now=now).stdout)["entries"])


@contextlib.contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """os.environ with `values` set (None: removed) for the block: the bootstrap reads its settings there."""
    saved = dict(os.environ)
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def make_app(cli: Cli, *, now: str | None = None, **settings: str) -> Any:
    """The workspace app on the test's database, bootstrapped as `campaign serve` does (CAMPAIGN_NOW
    holds the simulation's clock)."""
    from commands.serve import bootstrap
    from web.app import create_app

    with environment(CAMPAIGN_NOW=now, CAMPAIGN_DB=cli.db, **settings):
        cwd = os.getcwd()
        os.chdir(cli.home)
        try:
            ctx = bootstrap(cli.db)
            return create_app(lambda: ctx)
        finally:
            os.chdir(cwd)


CSRF_COOKIE = "campaign_csrf"
SESSION_COOKIE = "campaign_session"


def csrf(client: Any, path: str = "/login") -> str:
    """The CSRF token a page's forms carry (the double-submit cookie's value): GET a page first."""
    token = client.cookies.get(CSRF_COOKIE)
    if not token:
        client.get(path)
        token = client.cookies.get(CSRF_COOKIE)
    assert token, "no CSRF cookie was set"
    return str(token)


def login(client: Any, name: str, password: str = PASSWORD) -> Any:
    """Log in through the form (with its CSRF token); the response is not followed."""
    client.get("/login")
    return client.post("/login", data={"name": name, "password": password, "_csrf_token": csrf(client)},
                       follow_redirects=False)


def post(client: Any, path: str, data: dict[str, str] | None = None) -> Any:
    """A form POST as the page would send it: the CSRF token of the current cookie."""
    return client.post(path, data={**(data or {}), "_csrf_token": csrf(client, "/")}, follow_redirects=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`campaign serve` in a subprocess on a free port, on the test's database."""

    def __init__(self, cli: Cli, *, now: str | None = None, args: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, **cli.env, "CAMPAIGN_DB": cli.db, "PYTHONUNBUFFERED": "1",
               "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
        env.pop("CAMPAIGN_NOW", None)
        if now:
            env["CAMPAIGN_NOW"] = now
        self.log = cli.home / f"serve-{self.port}.log"
        self._out = self.log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from cli import main; main()", "serve", "--port", str(self.port), *args],
            cwd=cli.home, env=env, stdout=self._out, stderr=subprocess.STDOUT)  # documents, outbox: the test's
        self._wait()

    def _wait(self, timeout: float = 30.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"campaign serve exited {self.proc.returncode}: {self.output()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/login", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"campaign serve did not answer within {timeout} s: {self.output()}")

    def output(self) -> str:
        if not self._out.closed:
            self._out.flush()
        return self.log.read_text("utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._out.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def first_line(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().splitlines()[0]) if text.strip() else ""
