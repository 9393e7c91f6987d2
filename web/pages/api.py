"""The JSON API for other systems (/api/…): the same services and permission checks as the CLI and the
pages, for the province's platforms and scripts.

Authentication: `Authorization: Bearer <token>` only, a per-actor token from `campaign actor token NAME`
(`workflow.services.tokens`); the request acts as the token's person. A session cookie is never
looked at here, so the API needs no CSRF token (the handlers opt out of Litestar's CSRF check).
Errors are JSON `{"error": <the reason text>, "rule": <the rule>, "code": <the enterprise>}` with
400 invalid input, 401 no or bad token, 403 refused by permission, 404 unknown or not in your scope
(the same answer for both: the API does not say whether an enterprise outside your scope exists),
409 changed by someone else, 422 refused by a rule or a time window. The OpenAPI schema is served
at /api/openapi.json (`schema`), built from these handlers.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import HttpMethod, Litestar, Request, Response, Router, get, post, route
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.spec import Components, SecurityScheme
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from web.state import blocking, web_of
from workflow import api
from workflow.context import Context
from workflow.errors import CampaignError, ConcurrentChange, InvalidInput, NotFound, Refused
from workflow.reports.figures import Targets, targets
from workflow.services import deadlines, needs, tasks, tokens
from workflow.services import dossier as dossiers
from workflow.services.deadlines import DeadlineRow, Submitted
from workflow.services.needs import NeedAnswered, NeedOpened
from workflow.services.permissions import PERMISSION_RULES

log = logging.getLogger("campaign.web")
T = TypeVar("T")

PREFIX = "/api"
SCHEMA_PATH = "/openapi.json"
SCHEME = "BearerToken"
# PERMISSION_RULES (workflow.domain.matrix) say "not you" rather than "not now"; 城市范围 answers
# 404 here, as the enterprise page does: outside your city is outside your scope.
OUT_OF_SCOPE_RULES = frozenset({"城市范围"})
SCOPE_RULE = "范围"
NO_TOKEN = "请在请求头 Authorization: Bearer <令牌> 中提供有效的 API 令牌（campaign actor token 创建）(token required)"
BAD_TOKEN = "API 令牌无效、已过期或已吊销，或其操作人已停用 (invalid token)"
NO_ROUTE = "没有这个 API 接口，见 /api/openapi.json (no such endpoint)"
INTERNAL = "服务器内部错误，已记录。请稍后重试，或联系省级管理员。(internal error)"


def _unseen(thing: str) -> str:
    return f"{thing}不存在，或不在您的管辖范围内 (not found or outside your scope)"


# --- bodies ---------------------------------------------------------------------------------------

class ApiError(msgspec.Struct):
    """Every error: the reason (as the CLI prints it), the rule that refused, the enterprise."""

    error: str
    rule: str = ""
    code: str | None = None


class AdvanceIn(msgspec.Struct, forbid_unknown_fields=True):
    """One event on one enterprise, as `campaign advance CODE EVENT …`."""

    code: str
    event: str
    reason: str = ""
    month: str | None = None
    grade: str | None = None
    consent: str | None = None
    target_grade: str | None = None
    data: dict[str, str] = msgspec.field(default_factory=dict)
    expected_version: int | None = None  # the participation's version you saw: refused (409) if it changed


class AdvancedOut(msgspec.Struct):
    code: str
    event: str
    from_state: str
    to_state: str
    seq: int  # the audit entry
    hash: str
    late: bool
    version: int  # the participation's version now


class RowOutcome(msgspec.Struct):
    line: int  # 1-based position in the list sent
    code: str
    event: str
    ok: bool
    message: str


class BatchOut(msgspec.Struct):
    """All or nothing: `ok` false means nothing was written; each row says why (or that it would pass)."""

    ok: bool
    outcomes: list[RowOutcome]
    error: str | None = None


class EnterpriseItem(msgspec.Struct):
    code: str
    name: str
    city: str
    industry: str
    grade: str
    state: str | None
    state_label: str
    days_left: int | None  # to the participation's next step, whoever owns it


class EnterprisePageOut(msgspec.Struct):
    items: list[EnterpriseItem]
    total: int
    page: int
    per_page: int
    sort: str


class HistoryEntry(msgspec.Struct):
    seq: int
    event: str
    event_label: str
    from_state: str | None
    to_state: str | None
    actor: str
    role: str
    at: str  # Asia/Shanghai, when it took effect
    reason: str
    hash: str
    ok: bool  # the entry matches its hash and links to the one before it


class ActionOut(msgspec.Struct):
    event: str
    label: str
    fields: list[str]  # the advance fields it needs ("data:summary" is data["summary"])


class EnterpriseOut(msgspec.Struct):
    code: str
    name: str
    city: str
    county: str
    industry: str
    grade: str
    rating_doc: str
    ule: str
    livelihood: bool
    state: str | None
    state_label: str
    version: int | None  # send it back as expected_version
    cycle: int | None
    target_grade: str | None
    achieved_grade: str | None
    actions: list[ActionOut]  # the events you may try now
    history: list[HistoryEntry]
    chain_ok: bool


class DeliverableIn(msgspec.Struct, forbid_unknown_fields=True):
    """A city's submission, as `campaign deliverable submit` without a file."""

    city: str
    kind: str
    period: str | None = None
    note: str = ""
    generate: bool = False  # emission_list: build the city's list from the data now


class NeedIn(msgspec.Struct, forbid_unknown_fields=True):
    code: str
    subject: str
    received: date | None = None


class AnswerIn(msgspec.Struct, forbid_unknown_fields=True):
    text: str


# --- who is asking --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Caller:
    """The token's person and the context that acts as them."""

    who: tokens.Bearer
    ctx: Context


class ApiFailure(Exception):
    def __init__(self, status: int, body: ApiError, headers: dict[str, str] | None = None) -> None:
        super().__init__(body.error)
        self.status, self.body, self.headers = status, body, headers or {}


def bearer_of(request: Request[Any, Any, Any]) -> str | None:
    """The token of `Authorization: Bearer …`; cookies are never read."""
    scheme, _, value = request.headers.get("authorization", "").strip().partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


async def _caller(request: Request[Any, Any, Any]) -> Caller:
    web = web_of(request)
    token = bearer_of(request)
    who = await blocking(tokens.authenticate, web.base, token) if token else None
    if who is None:
        error = "invalid_token" if token else "invalid_request"
        raise ApiFailure(401, ApiError(error=BAD_TOKEN if token else NO_TOKEN, rule="令牌"),
                         {"WWW-Authenticate": f'Bearer realm="campaign", error="{error}"'})
    return Caller(who=who, ctx=dataclasses.replace(web.base, actor=who.name))


# --- errors ---------------------------------------------------------------------------------------

def _status(exc: CampaignError) -> int:
    if isinstance(exc, ConcurrentChange):
        return 409
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, InvalidInput):
        return 400
    if isinstance(exc, Refused) and exc.rule in OUT_OF_SCOPE_RULES:
        return 404
    if isinstance(exc, Refused) and exc.rule in PERMISSION_RULES:
        return 403
    return 422


def _visible(ctx: Context, code: str) -> bool:
    try:
        dossiers.dossier(ctx, code)
    except NotFound:
        return False
    return True


def _failure(ctx: Context, exc: CampaignError, *, code: str | None = None, thing: str | None = None) -> ApiFailure:
    """The JSON error of a refusal. A permission refusal on an enterprise the caller cannot see, a city
    scope refusal and an unknown enterprise are the same 404."""
    status = _status(exc)
    key = (code or "").strip().upper() or None
    if status == 403 and key and not _visible(ctx, key):
        status = 404
    rule = str(getattr(exc, "rule", "") or "")
    if status == 404 and (key or thing):
        return ApiFailure(404, ApiError(error=_unseen(f"企业 {key} " if key else thing or ""), rule=SCOPE_RULE,
                                        code=key))
    given = (code or "").strip() or getattr(exc, "code", None)
    return ApiFailure(status, ApiError(error=str(exc), rule=rule, code=given))


async def _run(caller: Caller, fn: Callable[..., T], *args: Any, code: str | None = None,
               thing: str | None = None, **kwargs: Any) -> T:
    """A service call as the caller, its refusal turned into the API's error."""
    try:
        return await blocking(fn, caller.ctx, *args, **kwargs)
    except CampaignError as exc:
        raise await blocking(_failure, caller.ctx, exc, code=code, thing=thing) from None


def _json(status: int, body: ApiError, headers: dict[str, str] | None = None) -> Response[ApiError]:
    return Response(content=body, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})})


def _on_failure(_request: Request[Any, Any, Any], exc: ApiFailure) -> Response[ApiError]:
    return _json(exc.status, exc.body, exc.headers)


def _on_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[ApiError]:
    if isinstance(exc, NotAuthorizedException):
        return _json(401, ApiError(error=NO_TOKEN, rule="令牌"), {"WWW-Authenticate": 'Bearer realm="campaign"'})
    if isinstance(exc, ValidationException):
        extra = "; ".join(f"{e.get('key', '')}: {e.get('message', '')}" for e in (exc.extra or [])
                          if isinstance(e, dict))
        return _json(400, ApiError(error=f"请求格式不正确：{extra or exc.detail} (invalid request)", rule="格式"))
    if exc.status_code >= 500:
        log.error("HTTP %s on %s %s: %s", exc.status_code, request.method, request.url.path, exc.detail)
    return _json(exc.status_code, ApiError(error=str(exc.detail)))


def _on_campaign(_request: Request[Any, Any, Any], exc: CampaignError) -> Response[ApiError]:
    return _json(_status(exc), ApiError(error=str(exc), rule=str(getattr(exc, "rule", "") or "")))


def _on_internal(request: Request[Any, Any, Any], exc: Exception) -> Response[ApiError]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _json(500, ApiError(error=INTERNAL))


ERRORS = {status: ResponseSpec(data_container=ApiError, description=text) for status, text in (
    (400, "输入不合法 (invalid input)"), (401, "缺少或无效的 API 令牌 (no or bad token)"),
    (403, "无权执行 (refused by permission)"), (404, "不存在或不在您的管辖范围内 (unknown or not in your scope)"),
    (409, "已被他人修改 (changed by someone else)"), (422, "被规则或时间窗口拒绝 (refused by a rule or window)"))}


# --- reads ----------------------------------------------------------------------------------------

@get("/enterprises", responses=ERRORS)
async def list_enterprises(caller: NamedDependency[Caller], q: FromQuery[str | None] = None,
                           city: FromQuery[str | None] = None,
                           in_state: Annotated[str | None, QueryParameter(name="state")] = None,
                           sort: FromQuery[str] = "code", page: FromQuery[int] = 1,
                           per_page: FromQuery[int] = 50) -> EnterprisePageOut:
    """The enterprises in your scope with their state and the days left to the next step; paginated
    (`per_page` at most 200), `sort` one of code, name, city, state, days_left ("-" first: descending)."""
    p = await _run(caller, tasks.enterprises, q=q, city=city, state=in_state, sort=sort, page=page, per_page=per_page)
    return EnterprisePageOut(items=[EnterpriseItem(code=r.code, name=r.name, city=r.city, industry=r.industry,
                                                   grade=r.grade, state=r.state, state_label=r.state_label,
                                                   days_left=r.days_left) for r in p.items], total=p.total,
                             page=p.page, per_page=p.per_page, sort=p.sort)


def _history(d: dossiers.Dossier) -> list[HistoryEntry]:
    return [HistoryEntry(seq=h.seq, event=h.event, event_label=h.event_label, from_state=h.from_state,
                         to_state=h.to_state, actor=h.actor, role=h.role, at=h.at, reason=h.reason, hash=h.hash,
                         ok=h.ok) for h in d.history]


@get("/enterprises/{code:str}", responses=ERRORS)
async def show_enterprise(caller: NamedDependency[Caller], code: FromPath[str]) -> EnterpriseOut:
    """One enterprise: master data, its participation's state and version, the events you may try now,
    and its history from the audit chain with each entry checked."""
    d = await _run(caller, dossiers.dossier, code, code=code)
    return EnterpriseOut(
        code=d.code, name=d.name, city=d.city, county=d.county, industry=d.industry, grade=d.grade,
        rating_doc=d.rating_doc, ule=d.ule, livelihood=d.livelihood, state=d.state, state_label=d.state_label,
        version=d.version, cycle=d.cycle, target_grade=d.target_grade, achieved_grade=d.achieved_grade,
        actions=[ActionOut(event=a.event, label=a.label, fields=[f.name for f in a.fields]) for a in d.actions],
        history=_history(d), chain_ok=d.chain_ok)


@get("/participations/{code:str}/history", responses=ERRORS)
async def participation_history(caller: NamedDependency[Caller], code: FromPath[str]) -> list[HistoryEntry]:
    """The enterprise's audit entries, oldest first, each checked against its hash."""
    return _history(await _run(caller, dossiers.dossier, code, code=code))


@get("/deadlines", responses=ERRORS)
async def list_deadlines(caller: NamedDependency[Caller], city: FromQuery[str | None] = None,
                         overdue: FromQuery[bool] = False, upcoming: FromQuery[int | None] = None) -> list[DeadlineRow]:
    """Every city's deliverables with due date and status, as `campaign deadlines`."""
    return await _run(caller, deadlines.listing, city=city, overdue=overdue, upcoming=upcoming)


@get("/targets", responses=ERRORS)
async def show_targets(caller: NamedDependency[Caller], city: FromQuery[str | None] = None) -> Targets:
    """Targets against certifications, per city and for the province, as `campaign report targets`."""
    return await _run(caller, targets, city=city)


# --- writes ---------------------------------------------------------------------------------------

def _request(body: AdvanceIn) -> api.Request:
    return api.Request(code=body.code, event=body.event, reason=body.reason, data=dict(body.data),
                       target_grade=body.target_grade, consent=body.consent, month=body.month, grade=body.grade,
                       expected_version=body.expected_version)


@post("/advance", status_code=200, responses=ERRORS)
async def advance(caller: NamedDependency[Caller], data: JSONBody[AdvanceIn]) -> AdvancedOut:
    """One event on one enterprise (`campaign advance`), audited as the token's person."""
    r = await _run(caller, api.advance, _request(data), code=data.code)
    return AdvancedOut(code=r["code"], event=r["event"], from_state=r["from_state"], to_state=r["to_state"],
                       seq=r["seq"], hash=r["hash"], late=r["late"], version=r["version"])


def _batch(ctx: Context, rows: list[AdvanceIn]) -> BatchOut:
    ok, outcomes = api.advance_batch(ctx, [(i, _request(b)) for i, b in enumerate(rows, start=1)])
    out = []
    for o in outcomes:
        message = o.message
        if not o.ok and message.split("：", 1)[0] in PERMISSION_RULES | OUT_OF_SCOPE_RULES \
                and not _visible(ctx, o.code):
            message = _unseen(f"企业 {o.code} ")  # the row's refusal would name another city's enterprise
        out.append(RowOutcome(line=o.line, code=o.code, event=o.event, ok=o.ok, message=message))
    first = next((o for o in out if not o.ok), None)
    return BatchOut(ok=ok, outcomes=out, error=None if first is None else f"第 {first.line} 行：{first.message}")


@post("/advance/batch", status_code=200, responses={**ERRORS, 422: ResponseSpec(
    data_container=BatchOut, description="一行被拒绝，整批未执行 (one row refused: nothing written)")})
async def advance_batch(caller: NamedDependency[Caller], data: JSONBody[list[AdvanceIn]]) -> BatchOut:
    """Several events in one transaction, all or nothing (`campaign advance --file`): 200 with every
    row applied, or 422 with each row's outcome and nothing written."""
    if not data:
        raise ApiFailure(400, ApiError(error="请至少提交一行事件 (empty batch)", rule="格式"))
    try:
        result = await blocking(_batch, caller.ctx, data)
    except CampaignError as exc:
        raise await blocking(_failure, caller.ctx, exc) from None
    if not result.ok:
        raise _BatchRefused(result)
    return result


class _BatchRefused(Exception):
    def __init__(self, result: BatchOut) -> None:
        super().__init__(result.error)
        self.result = result


def _on_batch(_request: Request[Any, Any, Any], exc: _BatchRefused) -> Response[BatchOut]:
    return Response(content=exc.result, status_code=422, headers={"Cache-Control": "no-store"})


@post("/deliverables", status_code=201, responses=ERRORS)
async def submit_deliverable(caller: NamedDependency[Caller], data: JSONBody[DeliverableIn]) -> Submitted:
    """Record a city's submission (`campaign deliverable submit` without a file); late ones are recorded
    as late."""
    return await _run(caller, deadlines.submit, city=data.city, kind=data.kind, period=data.period, file=None,
                      note=data.note, generate=data.generate, thing=f"{data.city} 的报送事项")


@post("/needs", status_code=201, responses=ERRORS)
async def open_need(caller: NamedDependency[Caller], data: JSONBody[NeedIn]) -> NeedOpened:
    """Record an enterprise's need (`campaign request open`); due the 5th working day after receipt."""
    return await _run(caller, needs.open_need, data.code, data.subject, data.received, code=data.code)


@post("/needs/{need_id:int}/answer", status_code=200, responses=ERRORS)
async def answer_need(caller: NamedDependency[Caller], need_id: FromPath[int],
                      data: JSONBody[AnswerIn]) -> NeedAnswered:
    """Answer a need (`campaign request answer`); after its due date the answer is recorded as late."""
    return await _run(caller, needs.answer, need_id, data.text, thing=f"需求 #{need_id} ")


# --- the schema -----------------------------------------------------------------------------------

_SCHEMA: dict[str, Any] = {}


def _openapi() -> dict[str, Any]:
    """The OpenAPI document of the API's handlers (built once, from a Litestar app holding only them)."""
    if not _SCHEMA:
        config = OpenAPIConfig(
            title="创A晋B 行动 campaign API", version="1",
            description=(__doc__ or "").strip(), path=None, render_plugins=(),
            components=Components(security_schemes={SCHEME: SecurityScheme(
                type="http", scheme="bearer", description="campaign actor token NAME 创建的 API 令牌")}),
            security=[{SCHEME: []}], use_handler_docstrings=True)
        shadow = Litestar(route_handlers=[router()], openapi_config=config, logging_config=None)
        _SCHEMA.update(shadow.openapi_schema.to_schema())
    return _SCHEMA


@get(SCHEMA_PATH, include_in_schema=False, opt={"public": True})
async def schema() -> dict[str, Any]:
    """The OpenAPI schema (no token needed: it describes, it holds no data)."""
    return await blocking(_openapi)


@route("/{rest:path}", http_method=list(HttpMethod), include_in_schema=False)
async def unknown(rest: FromPath[str]) -> Response[ApiError]:
    """Any other path under /api: a JSON 404, not the workspace's error page."""
    return _json(404, ApiError(error=NO_ROUTE))


def router() -> Router:
    """The API under /api: every handler needs a bearer token (the `caller` dependency), none the CSRF token."""
    return Router(
        path=PREFIX,
        route_handlers=[list_enterprises, show_enterprise, participation_history, list_deadlines, show_targets,
                        advance, advance_batch, submit_deliverable, open_need, answer_need, schema, unknown],
        dependencies={"caller": Provide(_caller)},
        exception_handlers={ApiFailure: _on_failure, _BatchRefused: _on_batch, HTTPException: _on_http,
                            CampaignError: _on_campaign, Exception: _on_internal},
        opt={"exclude_from_csrf": True},
        include_in_schema=True,
        security=[{SCHEME: []}],
        tags=["API"],
    )


ROUTES = [router()]
