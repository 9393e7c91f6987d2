"""The web workspace: server-rendered pages (Litestar + Jinja2) over the same services the CLI calls.

`web.app.create_app(ctx_factory)` builds the ASGI app; `campaign serve` runs it under uvicorn. The
web layer is thin: it authenticates the person (workflow.services.logins), builds a Context that
names them, calls one service, and renders. Every rule is checked by the services, never here.
"""
