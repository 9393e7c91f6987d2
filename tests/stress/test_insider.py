"""The insider run (issue 12): a city coordinator's and the province admin's own PostgreSQL logins
try every write of the issue with raw SQL. Each one is either refused by the database or, if the
database took it, caught by `campaign audit verify` (exit 3); none may go unnoticed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import Cli
from tests.helpers.insider import (
    ATTEMPTS,
    attempt,
    connect,
    facts,
)

pytestmark = [pytest.mark.stress, pytest.mark.postgres]


def _maintenance(db: str, sql: str) -> None:
    """`sql` on the server's maintenance database, beside the campaign database `db`."""
    admin = create_engine(make_url(db).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(sql))
    finally:
        admin.dispose()


def _run(cli: Cli, login: str) -> tuple[int, int, list[str]]:
    """(refused by the database, caught by verify, names of those neither). Each write the database
    takes is judged by verify alone, then the database is put back from a template copy, so the next
    attempt starts from a clean log again."""
    name = make_url(cli.db).database
    template = f"{name}_clean"
    _maintenance(cli.db, f'CREATE DATABASE "{template}" TEMPLATE "{name}"')
    refused, caught, missed = 0, 0, []
    try:
        f = facts(cli)
        for a in ATTEMPTS:
            with connect(cli, login) as conn:
                error = attempt(conn, a, f)
            if error is not None:
                refused += 1
                continue
            if cli("audit", "verify", expect=None).exit_code == 3:
                caught += 1
            else:
                missed.append(a.name)
            _maintenance(cli.db, f'DROP DATABASE "{name}" WITH (FORCE)')
            _maintenance(cli.db, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        _maintenance(cli.db, f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
    return refused, caught, missed


def test_every_raw_sql_write_of_a_person_login_is_refused_or_caught(
        provisioned: Cli, xc_login: str, province_login: str, report: Callable[[str], None]) -> None:
    for who, login in (("许昌市联络员", xc_login), ("省级管理员", province_login)):
        refused, caught, missed = _run(provisioned, login)
        report(f"insider {who} login: {len(ATTEMPTS)} raw-SQL writes tried, {refused} refused by the database, "
               f"{caught} caught by audit verify, {len(missed)} unnoticed{': ' + ', '.join(missed) if missed else ''}")
        assert refused + caught == len(ATTEMPTS) and missed == []
    provisioned("audit", "verify")
