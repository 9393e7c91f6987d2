"""省级工作台 (/province): the spot-check draw (seed, population and selection shown; every draw re-run
from its seed), the provincial recheck queue, the publicity and certification lists, and the 正面清单 /
应急减排清单 as XLSX downloads. The services check the roles (`province_desk`, `spot_check`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from web.auth import Forbidden, Me, flash_cookie, signed_in
from web.pages import NavItem
from web.render import page
from web.state import blocking, web_of
from workflow.errors import CampaignError, ConcurrentChange, NotFound, Refused
from workflow.services import province_desk
from workflow.services.dossier import event_label
from workflow.services.permissions import PERMISSION_RULES


def status_of(exc: CampaignError) -> int:
    """403 for a permission refusal, 409 for a concurrent change, 422 for the rest (a rule, a window,
    bad input); the refusal's own words are shown next to the form."""
    if isinstance(exc, Refused) and exc.rule in PERMISSION_RULES:
        return 403
    if isinstance(exc, ConcurrentChange):
        return 409
    return 422


def forbidden_if_refused(exc: CampaignError) -> None:
    """A read refused for the person's roles becomes the 403 page with the service's reason."""
    if isinstance(exc, Refused) and exc.rule in PERMISSION_RULES:
        raise Forbidden(str(exc)) from exc


def form_text(form: Any, key: str, limit: int = 200) -> str:
    value = form.get(key, "")
    return str(value).strip()[:limit] if isinstance(value, str) else ""


async def _render(request: Request[Any, Any, Any], me: Me, *, status: int = 200,
                  error: dict[str, str] | None = None, values: dict[str, str] | None = None) -> Template:
    desk = await blocking(province_desk.desk, me.ctx)
    return await page(request, "province.html", me, status=status, desk=desk, error=error or {},
                      values=values or {}, exports=province_desk.EXPORTS, event_label=event_label)


@get("/province", name="province")
async def province(request: Request[Any, Any, Any]) -> Template:
    me = await signed_in(request)
    return await _render(request, me)


@post("/province/spot-checks", name="province_draw")
async def spot_check(request: Request[Any, Any, Any]) -> Template | Redirect:
    me = await signed_in(request)
    form = await request.form()
    values = {k: form_text(form, k, 40) for k in ("rate", "city", "seed")}
    try:
        drawn = await blocking(province_desk.draw, me.ctx, rate=values["rate"], city=values["city"] or None,
                               seed=values["seed"] or None)
    except CampaignError as exc:
        status = 422 if isinstance(exc, NotFound) else status_of(exc)  # nobody awaiting recheck: a rule
        if status == 403:
            raise Forbidden(str(exc)) from exc
        return await _render(request, me, status=status, error={"form": "draw", "message": str(exc)}, values=values)
    where = drawn["city"] or "全省"
    message = (f"已抽样（{drawn['round_title']}，{where}）：种子 {drawn['seed']}，"
               f"待复核 {len(drawn['population'])} 家，抽中 {len(drawn['selected'])} 家（审计 #{drawn['seq']}）")
    return Redirect(path=f"/province#draw-{drawn['seq']}", status_code=303,
                    cookies=[flash_cookie(web_of(request), message)])


@get("/province/exports/{kind:str}", name="province_export")
async def export(request: Request[Any, Any, Any]) -> Response[bytes] | Template:
    me = await signed_in(request)
    kind = str(request.path_params["kind"])
    city = (request.query_params.get("city") or "").strip()[:40] or None
    try:
        got = await blocking(province_desk.export, me.ctx, kind, city=city)
    except CampaignError as exc:
        forbidden_if_refused(exc)
        return await _render(request, me, status=404 if isinstance(exc, NotFound) else 422,
                             error={"form": "export", "message": str(exc)}, values={"export_city": city or ""})
    ascii_name = f"{kind}-{me.ctx.today.isoformat()}.xlsx"
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(got.filename, safe='')}"
    return Response(content=got.content, media_type=got.media_type, status_code=200,
                    headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"})


ROUTES = [province, spot_check, export]
NAV = [NavItem(70, "/province", "省级工作台", "province")]
