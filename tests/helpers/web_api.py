"""Driving the JSON API in tests: tokens made with `campaign actor token`, and bearer headers."""

from __future__ import annotations

from tests.conftest import Cli


def make_token(cli: Cli, name: str, *, by: str | None = None, days: int | None = None,
               now: str | None = None) -> str:
    """`campaign actor token NAME` by `by` (default: the province admin); the token it prints once."""
    args = ["actor", "token", name, *(["--days", str(days)] if days is not None else [])]
    token = cli(*args, actor=by or "省管理员", now=now).stdout.strip()
    assert token.startswith("cmp_"), token
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
