"""The enterprise page (/enterprises/{code}) and its event forms (POST …/events/{event})."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Template

from web.auth import Me, flash_cookie, signed_in
from web.errors import error_page
from web.render import page
from web.state import blocking, web_of
from workflow.errors import CampaignError, ConcurrentChange, InvalidInput, NotFound, Refused
from workflow.services import dossier as dossiers
from workflow.services import evidence, tasks
from workflow.services.actors import ROLE_ZH
from workflow.services.permissions import PERMISSION_RULES

# Refusals that say "not you" rather than "not now": shown with 403. 城市范围 (another city's
# enterprise) never gets here as such: the page itself is then not found (404).
SHORT_HASH = 12
STATE_ZH = tasks.STATE_LABELS  # the names the services give states


async def _render(request: Request[Any, Any, Any], me: Me, code: str, *, status: int = 200,
                  error: dict[str, str] | None = None, values: dict[str, str] | None = None) -> Template:
    """The dossier as the person may see it; NotFound (unknown or out of scope) propagates as 404."""
    d = await blocking(dossiers.dossier, me.ctx, code)
    return await page(request, "enterprise.html", me, status=status, d=d, error=error, values=values or {},
                      short=SHORT_HASH, state_zh=STATE_ZH, role_zh=ROLE_ZH,
                      evidence_mb=evidence.max_mb(me.ctx.settings))


@get("/enterprises/{code:str}", name="enterprise")
async def enterprise(request: Request[Any, Any, Any]) -> Template:
    code = str(request.path_params["code"])
    me = await signed_in(request)
    try:
        return await _render(request, me, code)
    except NotFound:
        return error_page(request, 404)


def _status(exc: CampaignError) -> int:
    if isinstance(exc, ConcurrentChange):
        return 409
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Refused) and exc.rule in PERMISSION_RULES:
        return 403
    return 422


@post("/enterprises/{code:str}/events/{event:str}", name="advance")
async def advance(request: Request[Any, Any, Any]) -> Template | Redirect:
    code, event = str(request.path_params["code"]), str(request.path_params["event"])
    me = await signed_in(request)
    form = await request.form()
    fields = {k: str(v) for k, v in form.items() if k != "_csrf_token" and isinstance(v, str)}
    try:
        uploads = await _uploads(form.getall("evidence", []), evidence.max_bytes(me.ctx.settings))
        req = dossiers.request_from_form(event, fields, code)
        result = await blocking(evidence.advance, me.ctx, req, uploads)
    except (InvalidInput, Refused, NotFound) as exc:
        status = _status(exc)
        if status == 404:
            return error_page(request, 404)
        message = str(exc)
        if status == 409:
            message = f"此企业刚被他人修改，您的操作未执行；下面是当前状态，请核对后重新提交。（{message}）"
        try:
            return await _render(request, me, code, status=status,
                                 error={"event": event, "message": message, "status": str(status)},
                                 values={} if status == 409 else fields)
        except NotFound:  # not in this person's scope (or not registered): nothing to show
            return error_page(request, 404)
    label = _label(result, event)
    files = f"，佐证材料 {len(uploads)} 份" if uploads else ""
    done = f"已完成：{label}（审计 #{result.get('seq', '?')}）{files}"
    return Redirect(path=f"/enterprises/{quote(code, safe='')}", status_code=303,
                    cookies=[flash_cookie(web_of(request), done)])


async def _uploads(parts: list[Any], limit: int) -> list[evidence.Upload]:
    """The files of the form's `evidence` field, each read to at most limit + 1 bytes (a larger one is
    then refused as too large by the service); an empty file field (nothing chosen) is skipped."""
    out = []
    for part in parts:
        if isinstance(part, UploadFile) and part.filename:
            out.append(evidence.Upload(part.filename, await part.read(limit + 1)))
            await part.close()
    return out


def _label(result: Mapping[str, object], event: str) -> str:
    return dossiers.event_label(event) + ("（逾期办理）" if result.get("late") else "")

ROUTES = [enterprise, advance]
