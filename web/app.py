"""The ASGI app of the web workspace: `create_app(ctx_factory)`.

`ctx_factory` builds the server's base Context once (engine, clocks, settings; no actor): the
bootstrap of `campaign serve` (commands.serve) or a test's. Each request then acts as the
authenticated person: `dataclasses.replace(base, actor=who.name)` (web.auth.signed_in).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from web import errors, pages, render, security
from web.auth import CSRF_COOKIE
from web.state import Web
from workflow.context import Context
from workflow.services import evidence, logins

HERE = Path(__file__).parent
SECRET_SETTING = "CAMPAIGN_WEB_SECRET"  # the CSRF signing key; shared by all workers of one server
HTMX = "htmx-2.0.11.min.js"


def templates() -> Environment:
    """Jinja2 with autoescape always on (an enterprise named `<script>` renders as text)."""
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals["htmx"] = HTMX
    return env


def create_app(ctx_factory: Callable[[], Context], *, secret: str | None = None) -> Litestar:
    """The workspace on the base context `ctx_factory()` builds (called once, now). `secret` signs the
    CSRF tokens; give every worker of one server the same (default: the CAMPAIGN_WEB_SECRET setting,
    else a random one for this process)."""
    base = ctx_factory()
    conf = logins.session_settings(base.settings)  # a bad timeout setting is refused here, at start-up
    routes, nav = pages.discover()
    web = Web(base=base, secure=conf.secure, nav=tuple(nav))
    key = secret or base.settings.get(SECRET_SETTING) or secrets.token_hex(32)
    csrf = CSRFConfig(secret=key, cookie_name=CSRF_COOKIE, cookie_secure=conf.secure, cookie_httponly=True,
                      cookie_samesite="lax")
    return Litestar(
        route_handlers=[*routes,
                        create_static_files_router(path="/static", directories=[HERE / "static"], name="static")],
        csrf_config=csrf,
        template_config=TemplateConfig(instance=JinjaTemplateEngine.from_environment(templates())),
        exception_handlers=errors.HANDLERS,
        before_send=[security.add_headers],
        before_request=render.forget_badges,
        openapi_config=None,
        state=State({"web": web}),
        logging_config=None,  # web.errors logs what went wrong; uvicorn logs the requests
        debug=False,
        request_max_body_size=evidence.body_limit(base.settings),  # one evidence file at the limit, plus the form
    )
