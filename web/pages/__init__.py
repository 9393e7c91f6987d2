"""The workspace's pages, one module per area. Each module lists its route handlers in `ROUTES` and,
when it has a place in the navigation, its entries in `NAV`; the app collects both from every module
here (`discover`), so adding a page is adding a module."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NavItem:
    """One link of the main navigation: shown to `audience` ("all", "city", "province", "admin")."""

    order: int
    path: str
    label: str
    audience: str = "all"

    def shown_to(self, me: Any) -> bool:
        if self.audience == "province":
            return bool(me.province)
        if self.audience == "admin":
            return bool(me.admin)
        if self.audience == "city":
            return me.who.city is not None or bool(me.admin)
        return True


def discover() -> tuple[list[Any], list[NavItem]]:
    """Every page module's route handlers and navigation entries (entries sorted by `order`)."""
    routes: list[Any] = []
    nav: list[NavItem] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        routes.extend(getattr(module, "ROUTES", ()))
        nav.extend(getattr(module, "NAV", ()))
    return routes, sorted(nav, key=lambda n: n.order)
