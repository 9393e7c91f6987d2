"""报送 (/filings): a city's deliverables with due date, status and days left; the attachment generated
from the current data as a download; filing the stamped, signed scan (checked by its content)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Template

from web.auth import Me, flash_cookie, signed_in
from web.errors import error_page
from web.pages import NavItem
from web.render import page
from web.state import blocking, web_of
from workflow.errors import CampaignError, NotFound, Refused
from workflow.services import filings as service
from workflow.services.permissions import PERMISSION_RULES

STATUS_ZH = {"pending": "待报送", "submitted": "按时报送", "late": "逾期报送", "overdue": "已逾期",
             "not_owed": "无须报送"}
STATUS_TAG = {"pending": "yellow", "submitted": "green", "late": "yellow", "overdue": "red", "not_owed": "none"}


def days_of(r: Any) -> str:
    if r["days_left"] is not None:
        return "今天截止" if r["days_left"] == 0 else f"剩 {r['days_left']} 天"
    if r["days_overdue"] is not None:
        return f"已逾期 {r['days_overdue']} 天"
    if r["days_late"]:
        return f"晚 {r['days_late']} 天报送"
    return "—"


def attachment(name: str, content: bytes, media_type: str) -> Response[bytes]:
    """A download, never rendered inline (the name in RFC 5987 form, so Chinese names survive)."""
    ascii_name = "".join(ch if (ch.isascii() and ch.isalnum()) or ch in ".-_" else "_" for ch in name) or "file"
    return Response(content=content, media_type=media_type, headers={
        "content-disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}",
        "x-content-type-options": "nosniff", "cache-control": "no-store"})


async def _render(request: Request[Any, Any, Any], me: Me, city: str | None, *, status: int = 200,
                  error: dict[str, str] | None = None) -> Template:
    view = await blocking(service.filings, me.ctx, city)
    form_slots = {f"{f.row['kind']}:{f.row['period']}" for f in view.rows
                  if view.may_file and view.city and f.row["status"] != "not_owed"}
    return await page(request, "filings.html", me, status=status, view=view, error=error, form_slots=form_slots,
                      status_zh=STATUS_ZH, status_tag=STATUS_TAG, days_of=days_of, urlencode=urlencode)


def _refusal_status(exc: CampaignError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Refused) and exc.rule in PERMISSION_RULES:
        return 403
    return 422


@get("/filings", name="filings")
async def filings_page(request: Request[Any, Any, Any]) -> Template:
    me = await signed_in(request)
    city = (request.query_params.get("city") or "").strip()[:20] or None
    try:
        return await _render(request, me, city)
    except NotFound:
        return error_page(request, 404)
    except Refused as exc:
        return error_page(request, 403, str(exc))


@get("/filings/generated", name="filing_generated")
async def generated(request: Request[Any, Any, Any]) -> Response[Any]:
    me = await signed_in(request)
    q = request.query_params
    try:
        d = await blocking(service.generated, me.ctx, city=(q.get("city") or "")[:20],
                           kind=(q.get("kind") or "")[:40], period=(q.get("period") or "")[:7] or None)
    except CampaignError as exc:
        status = _refusal_status(exc)
        return error_page(request, status, None if status == 404 else str(exc))
    return attachment(d.name, d.content, d.media_type)


@get("/filings/scans/{sid:int}", name="filing_scan")
async def scan(request: Request[Any, Any, Any]) -> Response[Any]:
    me = await signed_in(request)
    try:
        d = await blocking(service.scan, me.ctx, int(request.path_params["sid"]))
    except NotFound:
        return error_page(request, 404)
    except Refused as exc:
        return error_page(request, 403, str(exc))
    return attachment(d.name, d.content, d.media_type)


@post("/filings/submit", name="filing_submit")
async def submit(request: Request[Any, Any, Any]) -> Template | Redirect | Response[Any]:
    me = await signed_in(request)
    form = await request.form()
    city = str(form.get("city") or "")[:20]
    kind = str(form.get("kind") or "")[:40]
    period = str(form.get("period") or "")[:7]
    note = str(form.get("note") or "")[:500]
    upload = form.get("scan")
    name, content = "", b""
    if isinstance(upload, UploadFile):
        name, content = upload.filename or "", await upload.read()
    try:
        r = await blocking(service.file_scan, me.ctx, city=city, kind=kind, period=period, name=name,
                           content=content, note=note)
    except CampaignError as exc:
        status = _refusal_status(exc)
        if status == 404:
            return error_page(request, 404)
        try:
            return await _render(request, me, city or None, status=status,
                                 error={"slot": f"{kind}:{period}", "message": str(exc)})
        except CampaignError:
            return error_page(request, status, str(exc))
    when = f"逾期 {r['days_late']} 天报送" if r["late"] else "按时报送"
    msg = (f"已报送：{r['title']}（{r['period']}，{when}，文件 {r['file']}，SHA-256 {str(r['sha256'])[:12]}…，"
           f"审计 #{r['seq']}）")
    return Redirect(path="/filings?" + urlencode({"city": r["city"]}), status_code=303,
                    cookies=[flash_cookie(web_of(request), msg)])


ROUTES = [filings_page, generated, scan, submit]
NAV = [NavItem(40, "/filings", "报送", "city")]
