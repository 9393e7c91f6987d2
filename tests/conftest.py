"""Shared fixtures: a database per test on SQLite and (when configured) PostgreSQL,
and a CLI runner that drives `campaign` the way a coordinator does. Helpers shared by several
test modules live in tests/helpers/."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.helpers.pg_server import Server

# The PostgreSQL server of the run: the configured one, a throwaway cluster, or none (skipped).
PG = Server(os.environ.get("CAMPAIGN_TEST_PG_URL"), required=os.environ.get("CAMPAIGN_REQUIRE_PG") == "1")
CODE = "91410100MA45C2R1XL"  # passes GB 32100
DOC = "豫环绩效〔2023〕12号"  # 评级文件文号 of a starting grade


def _pg_admin(server: str) -> Any:
    from sqlalchemy import create_engine

    from models.db import normalise_url

    return create_engine(normalise_url(server), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The run's PostgreSQL server URL, chosen when the first PostgreSQL test asks
    (tests/helpers/pg_server.py: the configured server, else a throwaway cluster, else skip)."""
    with PG.serve() as url:
        yield url


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from models.db import normalise_url

    name = f"campaign_test_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin(pg_server)
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_url(pg_server)).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "campaign.db")
    return str(request.getfixturevalue("pg_url"))


@dataclass
class Cli:
    """Runs `campaign` in-process with CliRunner; env mirrors a coordinator's shell."""

    db: str
    home: Path
    env: dict[str, str] = field(default_factory=dict)

    def __call__(self, *args: str, now: str | None = None, actor: str | None = None,
                 expect: int | None = 0, input: str | None = None) -> Result:
        from cli import main

        env = {"CAMPAIGN_DB": self.db, **self.env}
        if now:
            env["CAMPAIGN_NOW"] = now
        if actor is not None:
            env["CAMPAIGN_ACTOR"] = actor
        cwd, saved = os.getcwd(), dict(os.environ)
        os.chdir(self.home)
        try:
            result = CliRunner().invoke(main, list(args), env=env, input=input,
                                        catch_exceptions=False)
        finally:
            os.chdir(cwd)
            os.environ.clear()
            os.environ.update(saved)  # a config file read by the command must not leak
        if expect is not None:
            assert result.exit_code == expect, (
                f"campaign {' '.join(args)} exited {result.exit_code}, expected {expect}\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}")
        return result


@pytest.fixture
def cli(db_url: str, tmp_path: Path) -> Cli:
    return Cli(db_url, tmp_path)


@pytest.fixture
def sqlite_cli(tmp_path: Path) -> Cli:
    return Cli(str(tmp_path / "campaign.db"), tmp_path)


def bootstrap(cli: Cli, now: str = "2024-05-06") -> None:
    """init + a province admin, a 许昌 coordinator and reviewer, an expert, a province reviewer."""
    cli("init", "--simulation", now=now)
    cli("actor", "add", "省管理员", "--role", "province_admin", now=now)
    for name, role, city in (("许昌联络员", "city_coordinator", "许昌市"),
                             ("许昌评审", "city_reviewer", "许昌市"),
                             ("郑州联络员", "city_coordinator", "郑州市")):
        cli("actor", "add", name, "--role", role, "--city", city, now=now, actor="省管理员")
    cli("actor", "add", "王专家", "--role", "expert", now=now, actor="省管理员")
    cli("actor", "add", "省复核员", "--role", "province_reviewer", now=now, actor="省管理员")


@pytest.fixture
def campaign(cli: Cli) -> Cli:
    """A bootstrapped campaign with one 许昌 enterprise registered (grade C), 王专家 its expert."""
    bootstrap(cli)
    cli("enterprise", "add", "--code", CODE, "--name", "许昌恒达耐材有限公司", "--city", "许昌市",
        "--industry", "耐材", "--grade", "C", "--rating-doc", DOC, "--county", "长葛市", now="2024-05-06",
        actor="许昌联络员")
    cli("assign", CODE, "--expert", "王专家", now="2024-05-06", actor="许昌联络员")
    return cli


@pytest.fixture
def provisioned(pg_url: str, tmp_path: Path) -> Cli:
    """A provisioned PostgreSQL campaign (the insider tests: tests/helpers/insider.py)."""
    from tests.helpers.insider import provision

    return provision(pg_url, tmp_path)


@pytest.fixture
def xc_login(provisioned: Cli) -> Iterator[str]:
    """The 许昌市 coordinator's own (person) login."""
    from tests.helpers.insider import person_login

    yield from person_login(provisioned, city="许昌市", role="city_coordinator", actor="许昌联络员")


@pytest.fixture
def province_login(provisioned: Cli) -> Iterator[str]:
    """The province admin's own (person) login."""
    from tests.helpers.insider import person_login

    yield from person_login(provisioned, city=None, role="province_admin", actor="省管理员")


FIGURES: list[str] = []  # what the stress tests measured, shown at the end of every run


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Record a figure line (events, conflicts, retries, wall time …) for the run's summary."""
    def add(line: str) -> None:
        FIGURES.append(f"{request.node.name}: {line.strip()}")
        print(line)

    return add


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report = yield
    PG.fold(report)
    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES:
        terminalreporter.section("stress figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "postgres" in r.keywords]
    about_pg = PG.summary_line(len(skipped))
    if about_pg:
        terminalreporter.write_line(about_pg, red=PG.skipped is not None, bold=PG.skipped is not None)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With CAMPAIGN_REQUIRE_PG=1 (set by .ci/run) a run without PostgreSQL tests fails."""
    if os.environ.get("CAMPAIGN_REQUIRE_PG") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    passed = reporter.stats.get("passed", []) if reporter else []
    pg = [r for r in passed if "postgres" in r.keywords]
    if not pg:
        if reporter:
            reporter.write_line("CAMPAIGN_REQUIRE_PG=1 but no PostgreSQL test passed", red=True)
        session.exitstatus = 1
    elif reporter:
        reporter.write_line(f"PostgreSQL tests passed: {len(pg)}")
