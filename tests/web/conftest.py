"""Fixtures of the web workspace tests: a campaign whose people have passwords, and the app on it."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CODE, DOC, Cli, bootstrap
from tests.helpers.web import CHROMIUM, make_app, need_chromium, set_password

PEOPLE = ("省管理员", "许昌联络员", "许昌评审", "郑州联络员", "王专家", "省复核员")


@pytest.fixture(scope="session")
def people_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once per run (argon2 is slow on purpose): the conftest campaign on SQLite (CODE in 许昌,
    王专家 its expert), everyone with their own password."""
    home = tmp_path_factory.mktemp("people")
    cli = Cli(str(home / "campaign.db"), home)
    bootstrap(cli)
    cli("enterprise", "add", "--code", CODE, "--name", "许昌恒达耐材有限公司", "--city", "许昌市",
        "--industry", "耐材", "--grade", "C", "--rating-doc", DOC, "--county", "长葛市", now="2024-05-06",
        actor="许昌联络员")
    cli("assign", CODE, "--expert", "王专家", now="2024-05-06", actor="许昌联络员")
    for name in PEOPLE:
        set_password(cli, name, now="2024-05-06")
    return home / "campaign.db"


@pytest.fixture
def people(people_template: Path, tmp_path: Path) -> Cli:
    """A copy of the template campaign for one test."""
    for suffix in ("", "-wal", "-shm"):
        source = Path(str(people_template) + suffix)
        if source.exists():
            shutil.copyfile(source, tmp_path / ("campaign.db" + suffix))
    return Cli(str(tmp_path / "campaign.db"), tmp_path)


@pytest.fixture
def web_client(people: Cli) -> Callable[..., AbstractContextManager[Any]]:
    """`with web_client(now="2024-05-20") as c:` a TestClient on the workspace app of `people`."""
    from litestar.testing import TestClient

    @contextmanager
    def open_client(now: str = "2024-05-20", base_url: str = "http://testserver.local",
                    **settings: str) -> Iterator[Any]:
        app = make_app(people, now=now, **settings)
        with TestClient(app, base_url=base_url) as client:
            yield client

    return open_client


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright (no browser download), one per test module."""
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield b
        finally:
            b.close()

