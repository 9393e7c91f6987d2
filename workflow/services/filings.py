"""The cities' filings in the web workspace (报送): every deliverable of a city with its status and the
scans filed for it, the generated attachment as a download, and filing a stamped, signed scan.

Scope (checked here, not only in the page): a city's coordinator and reviewer see their own city
(another city is not found, as an unknown one); the province's roles see every city; an expert sees
none (Refused, 权限). Filing is `deadlines.submit` (the matrix's `submit_deliverable`, the city's
coordinator or the province admin), with the scan checked by its content first: only PDF, JPEG or
PNG, and a refused file is never stored.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session

from models.db import UnitOfWork
from models.deadlines import Submission
from models.tables import City, table
from workflow.context import Context
from workflow.domain.matrix import CITY_ROLES, ActorRecord
from workflow.errors import InvalidInput, NotFound
from workflow.files import evidence
from workflow.services import deadlines, needs
from workflow.services.actors import city_id
from workflow.services.permissions import refuse
from workflow.services.tasks import me
from workflow.store import campaigns, scope

_S, _C = table(Submission).c, table(City).c
SCAN_TYPES = (evidence.PDF, evidence.JPEG, evidence.PNG)  # a stamped, signed scan
GENERATABLE = ("attachment1", "attachment2", "attachment3", "attachment4", "attachment5", "emission_list")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Filed:
    """One submission of a deliverable, as the 报送 page lists it."""

    id: int
    city: str
    kind: str
    period: str
    submitted_on: str  # ISO date (campaign day)
    late: bool
    actor: str
    file_name: str | None
    sha256: str | None
    seq: int  # its audit entry
    note: str


@dataclass(frozen=True)
class Filing:
    """One city × deliverable × due date: the deadline row and the submissions filed for it."""

    row: deadlines.DeadlineRow
    filed: tuple[Filed, ...]
    generatable: bool  # the engine can build this attachment from the data now


@dataclass(frozen=True)
class Filings:
    city: str | None  # the city shown (None: every city, for the province)
    cities: tuple[str, ...]  # the cities this person may choose (one for a city role)
    rows: tuple[Filing, ...]
    may_file: bool  # this person may file (the city's coordinator, the province admin)


@dataclass(frozen=True)
class Download:
    name: str
    content: bytes
    media_type: str


def _unit(s: Session, ctx: Context, city: str | None) -> tuple[ActorRecord, str | None, tuple[str, ...]]:
    """(actor, the city they look at or None for every city, the cities they may choose)."""
    _, actor = me(s, ctx.actor)
    camp = campaigns.campaign(s, ctx)
    wanted = city.strip() if city and city.strip() else None
    if any(scope.province_wide(r) for r in actor.roles):
        return actor, city_id(s, wanted)[1] if wanted else None, tuple(camp.plan.cities)
    if actor.city and any(r in CITY_ROLES for r in actor.roles):
        if wanted and wanted not in (actor.city, actor.city.removesuffix("市")):
            raise NotFound(f"城市 {wanted} 不存在，或不在您的管辖范围内 (not in your scope)")
        return actor, actor.city, (actor.city,)
    raise refuse("权限", f"{actor.name} 无权查看各市报送事项；须为市级联络员、市级评审人员或省级人员 (not permitted)")


def visible_city(ctx: Context, city: str | None) -> str | None:
    """The city this person may look at: their own for a city role (another is NotFound), the given
    one or None (every city) for the province; an expert is refused."""
    with UnitOfWork(ctx.engine) as uow:
        return _unit(uow.session, ctx, city)[1]


def filings(ctx: Context, city: str | None = None) -> Filings:
    """The 报送 page: the city's (or, for the province without a city, every city's) deliverables,
    each with its due date, status, days left and the scans filed for it."""
    with UnitOfWork(ctx.engine) as uow:
        s = uow.session
        actor, name, cities = _unit(s, ctx, city)
        camp = campaigns.campaign(s, ctx)
        q = (select(_S.id, _C.name, _S.kind, _S.period, _S.submitted_on, _S.late, _S.actor, _S.file_name,
                    _S.sha256, _S.audit_seq, _S.note)
             .join(table(City), _C.id == _S.city_id).where(_S.campaign_id == camp.id).order_by(_S.id))
        if name is not None:
            q = q.where(_C.name == name)
        subs = [Filed(int(r[0]), r[1], r[2], r[3], r[4].isoformat(), bool(r[5]), r[6], r[7], r[8], int(r[9]),
                      r[10] or "") for r in s.execute(q)]
    rows = deadlines.listing(ctx, city=name)
    by_slot: dict[tuple[str, str, str], list[Filed]] = {}
    for f in subs:
        by_slot.setdefault((f.city, f.kind, f.period), []).append(f)
    may = "province_admin" in actor.roles or "city_coordinator" in actor.roles
    return Filings(name, cities, tuple(Filing(r, tuple(by_slot.get((r["city"], r["kind"], r["period"]), ())),
                                              r["kind"] in GENERATABLE) for r in rows), may)


def generated(ctx: Context, *, city: str, kind: str, period: str | None) -> Download:
    """The deliverable built from the current data, as `campaign export` writes it (XLSX)."""
    from workflow.reports.emission_list import build, sheet
    from workflow.reports.exports import attachment
    from workflow.reports.writers import write

    name = visible_city(ctx, city)
    if name is None:
        raise InvalidInput("请选择城市 (city required)")
    if kind not in GENERATABLE:
        raise InvalidInput(f"{kind} 无法按数据生成，请上传文件 (nothing to generate)")
    if kind == "emission_list":
        sheets = [sheet(build(ctx, city=name))]
    else:
        sheets = attachment(ctx, kind, city=name, period=period)
    stem = f"{sheets[0].label or kind}-{name}-{period or ctx.today.strftime('%Y-%m')}"
    with tempfile.TemporaryDirectory(prefix="campaign-") as tmp:
        out = write(sheets, Path(tmp) / f"{kind}.xlsx", simulation=ctx.simulation)
        return Download(f"{stem}.xlsx", out.read_bytes(), XLSX)


def detect(content: bytes) -> str | None:
    """The media type of a scan by its content (the evidence files' sniffer): PDF, JPEG or PNG, else None."""
    found = evidence.detect(content)
    return found if found in SCAN_TYPES else None


def file_scan(ctx: Context, *, city: str, kind: str, period: str | None, name: str, content: bytes,
              note: str = "") -> deadlines.Submitted:
    """File the stamped, signed scan of a deliverable: checked by content (PDF, JPEG or PNG, within
    the evidence files' size limit, 20 MB by default), then submitted as `deliverable submit --file`
    does (stored with its SHA-256, audited; late is allowed and recorded as late). A refused file is
    not stored."""
    target = visible_city(ctx, city)
    if target is None:
        raise InvalidInput("请选择城市 (city required)")
    if not content:
        raise InvalidInput("请选择盖章签字的扫描件（PDF、JPEG 或 PNG）后再提交 (no file)")
    limit = evidence.max_bytes(ctx.settings)
    if len(content) > limit:
        raise InvalidInput(f"文件过大（{len(content) / evidence.MB:.1f} MB），扫描件不得超过 "
                           f"{limit // evidence.MB} MB，未保存 (file too large)")
    media = detect(content)
    if media is None:
        raise InvalidInput(f"文件 {Path(name or '').name[:80]} 的内容不是 PDF、JPEG 或 PNG（按内容识别，不看扩展名），"
                           "未保存。请上传盖章签字的扫描件 (not a PDF, JPEG or PNG by content)")
    with tempfile.TemporaryDirectory(prefix="campaign-scan-") as tmp:
        path = Path(tmp) / evidence.clean_name(name, media)
        path.write_bytes(content)
        return deadlines.submit(ctx, city=target, kind=kind, period=period or None, file=str(path),
                                note=note.strip())


def scan(ctx: Context, submission_id: int) -> Download:
    """A filed scan, for those who may see its city (another city's is not found)."""
    with UnitOfWork(ctx.engine) as uow:
        s = uow.session
        name = _unit(s, ctx, None)[1]
        if not 0 < submission_id < 2**63:
            raise NotFound(f"报送记录 {submission_id} 不存在", key=submission_id)
        r = s.execute(select(_C.name, _S.file_name, _S.stored_path, _S.sha256)
                      .join(table(City), _C.id == _S.city_id).where(_S.id == submission_id)).one_or_none()
    if r is None or r[2] is None or (name is not None and r[0] != name):
        raise NotFound(f"报送记录 {submission_id} 不存在，或不在您的管辖范围内", key=submission_id)
    path = ctx.home / r[2]
    try:
        content = path.read_bytes()
    except OSError:
        raise NotFound(f"报送记录 {submission_id} 的文件不在文档库中（{r[2]}）", key=submission_id) from None
    media = detect(content) or ("application/octet-stream" if not str(r[2]).endswith(".xlsx") else XLSX)
    return Download(str(r[1] or Path(r[2]).name), content, media)


def needs_listing(ctx: Context, *, city: str | None = None, overdue: bool = False) -> tuple[
        str | None, tuple[str, ...], list[needs.NeedRow]]:
    """企业诉求 of the cities this person may see: (city shown, cities to choose, rows)."""
    with UnitOfWork(ctx.engine) as uow:
        _, name, cities = _unit(uow.session, ctx, city)
    return name, cities, needs.listing(ctx, city=name, overdue=overdue)


def open_need(ctx: Context, code: str, subject: str) -> needs.NeedOpened:
    """Open a need for an enterprise this person sees (another city's is not found, as an unknown one)."""
    from models.tables import Enterprise

    key = (code or "").strip().upper()
    with UnitOfWork(ctx.engine) as uow:
        actor_id, actor = me(uow.session, ctx.actor)
        _E = table(Enterprise).c
        seen = uow.session.execute(select(_E.id).where(_E.code == key, scope.visible(actor, actor_id))).first()
    if key and seen is None:
        raise NotFound(code=key)
    return needs.open_need(ctx, key or code, subject)


def answer_need(ctx: Context, request_id: int, text: str) -> needs.NeedAnswered:
    """Answer a need of a city this person sees (another city's is not found)."""
    from models.deadlines import EnterpriseNeed
    from models.tables import Enterprise

    _N, _E = table(EnterpriseNeed).c, table(Enterprise).c
    with UnitOfWork(ctx.engine) as uow:
        _, name, _ = _unit(uow.session, ctx, None)
        if not 0 < request_id < 2**63:
            raise NotFound(f"需求 {request_id} 不存在 (no such request)", key=request_id)
        city = uow.session.execute(select(_C.name).select_from(table(EnterpriseNeed))
                                   .join(table(Enterprise), _E.id == _N.enterprise_id)
                                   .join(table(City), _C.id == _E.city_id).where(_N.id == request_id)).scalar()
    if city is None or (name is not None and city != name):
        raise NotFound(f"需求 {request_id} 不存在，或不在您的管辖范围内 (no such request)", key=request_id)
    return needs.answer(ctx, request_id, text)


def filings_cities(ctx: Context) -> tuple[str, ...]:
    """The cities this person may choose on the 报送, 通知 and 企业诉求 pages."""
    with UnitOfWork(ctx.engine) as uow:
        return _unit(uow.session, ctx, None)[2]
