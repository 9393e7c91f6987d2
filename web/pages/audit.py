"""审计 (/audit): browse and filter the audit log (enterprise, actor, event, city, dates; bookmarkable,
paged), run a full verify (POST; recorded as the last verify), take the digest to copy, and the
accountability record of one enterprise (/audit/actors?code=…). Province roles only: the service
(`workflow.services.audit_log`) refuses anyone else."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.response import Template

from web.auth import Me, signed_in
from web.pages import NavItem
from web.render import page
from web.state import blocking
from workflow.errors import CampaignError, InvalidInput, NotFound, Refused
from workflow.services import audit_log
from workflow.services.dossier import event_label
from workflow.services.tasks import STATE_LABELS

PER_PAGE = 50
FILTERS = ("code", "actor", "event", "city", "since", "until")


def _params(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {k: (request.query_params.get(k) or "").strip()[:audit_log.TEXT_MAX] for k in FILTERS}


def _page_no(request: Request[Any, Any, Any]) -> int:
    raw = request.query_params.get("page") or "1"
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


def _url(params: dict[str, str], page_no: int | None = None) -> str:
    query = urlencode({k: v for k, v in {**params, "page": str(page_no) if page_no and page_no > 1 else ""}.items()
                       if v})
    return "/audit" + ("?" + query if query else "")


async def _render(request: Request[Any, Any, Any], me: Me, *, params: dict[str, str] | None = None,
                  page_no: int = 1, status: int = 200, verified: audit_log.Verified | None = None,
                  digest: audit_log.Digest | None = None) -> Template:
    params = params if params is not None else {k: "" for k in FILTERS}
    flt = audit_log.LogFilter(**{k: v or None for k, v in params.items()})
    filter_error = None
    try:
        result = await blocking(audit_log.entries, me.ctx, flt, page=page_no, per_page=PER_PAGE)
    except InvalidInput as exc:  # a bad date: shown next to the filters, the unfiltered log below
        filter_error, status = str(exc), 422
        result = await blocking(audit_log.entries, me.ctx, audit_log.LogFilter(), page=1, per_page=PER_PAGE)
    last = await blocking(audit_log.last_verify, me.ctx)
    pages = max(1, -(-result.total // result.per_page))
    return await page(request, "audit.html", me, status=status, result=result, params=params, pages=pages,
                      filter_error=filter_error, verified=verified, digest=digest, last=last,
                      state_zh=STATE_LABELS,
                      prev_url=_url(params, result.page - 1) if result.page > 1 else None,
                      next_url=_url(params, result.page + 1) if result.page < pages else None)


@get("/audit", name="audit")
async def audit(request: Request[Any, Any, Any]) -> Template:
    me = await signed_in(request)
    return await _render(request, me, params=_params(request), page_no=_page_no(request))


@post("/audit/verify", name="audit_verify")
async def verify(request: Request[Any, Any, Any]) -> Template:
    me = await signed_in(request)
    verified = await blocking(audit_log.verify, me.ctx)
    return await _render(request, me, verified=verified)


@get("/audit/digest", name="audit_digest")
async def digest(request: Request[Any, Any, Any]) -> Template:
    me = await signed_in(request)
    found = await blocking(audit_log.digest, me.ctx)
    return await _render(request, me, digest=found)


@get("/audit/actors", name="audit_actors")
async def accountability(request: Request[Any, Any, Any]) -> Template:
    me = await signed_in(request)
    code = (request.query_params.get("code") or "").strip()[:40]
    record, error, status = None, None, 200
    if code:
        try:
            record = await blocking(audit_log.accountability, me.ctx, code)
        except Refused:
            raise  # web.errors answers it: 403 when it says "not you"
        except NotFound as exc:
            error, status = str(exc), 404
        except CampaignError as exc:
            error, status = str(exc), 422
    else:
        await blocking(audit_log.check_reader, me.ctx)  # the page itself is for province roles
    return await page(request, "audit_actors.html", me, status=status, code=code, record=record, error=error,
                      event_label=event_label)


ROUTES = [audit, verify, digest, accountability]
NAV = [NavItem(85, "/audit", "审计", "province")]
