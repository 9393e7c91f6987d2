"""What every request handler shares: the base context of the server and the thread hop."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio.to_thread
from litestar import Request

from workflow.context import Context

T = TypeVar("T")


@dataclass(frozen=True)
class Web:
    """The server's bootstrap, built once: the base context (engine, clocks, settings; no actor) and
    whether cookies are Secure."""

    base: Context
    secure: bool
    nav: tuple[Any, ...] = ()  # web.pages.NavItem, from every page module


def web_of(request: Request[Any, Any, Any]) -> Web:
    web: Web = request.app.state["web"]
    return web


async def blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a (synchronous, database-bound) service call on a worker thread."""
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))
