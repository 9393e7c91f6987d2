"""The audit log as the province reads it in the web workspace: browse and filter it page by page,
run a full verify, take the digest to copy into an external record, and the accountability record of
one enterprise. Province roles only (`audit_read`); a city role is refused (权限), nothing written."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import Session

from models.tables import AuditEntry, table
from workflow.clock import SHANGHAI, parse_stored
from workflow.context import Context
from workflow.domain.audit import canonical_json
from workflow.errors import IntegrityFailure, InvalidInput
from workflow.services import accountability as acc
from workflow.services import permissions, queries
from workflow.services.actors import lookup
from workflow.services.dossier import event_label
from workflow.store import verify_runs

_AU = table(AuditEntry).c
MAX_PER_PAGE = 200
TEXT_MAX = 100  # what a filter field may hold


@dataclass(frozen=True)
class LogFilter:
    """Every filter is optional; `since`/`until` are days (YYYY-MM-DD, Asia/Shanghai, inclusive) on
    the campaign clock (the entry's effective time)."""

    code: str | None = None
    actor: str | None = None
    event: str | None = None
    city: str | None = None
    since: str | None = None
    until: str | None = None


@dataclass(frozen=True)
class LogRow:
    seq: int
    at: str  # effective time, Asia/Shanghai, "YYYY-MM-DD HH:MM"
    actor: str
    role: str
    event: str
    event_label: str
    code: str | None
    city: str | None
    from_state: str | None
    to_state: str | None
    reason: str
    payload: str  # canonical JSON
    hash: str


@dataclass(frozen=True)
class LogPage:
    rows: list[LogRow]
    total: int
    page: int
    per_page: int
    events: list[tuple[str, str]]  # (event, label) of every event the log holds, for the filter


@dataclass(frozen=True)
class Verified:
    """One full verify: intact (`ok`) or the first break, in the engine's words."""

    ok: bool
    entries: int | None
    head: str | None
    message: str
    seq: int | None = None  # the broken entry, when one is at fault
    code: str | None = None


@dataclass(frozen=True)
class Digest:
    ok: bool
    entries: int | None
    digest: str | None
    message: str


def _authorize(s: Session, ctx: Context) -> None:
    permissions.authorize_role(lookup(s, ctx.actor), "audit_read")


def check_reader(ctx: Context) -> None:
    """Refused (权限) unless ctx.actor holds a province role; reads nothing else."""
    with ctx.uow(ctx.engine) as uow:
        _authorize(uow.session, ctx)


def _local(stored: str) -> str:
    return parse_stored(stored).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()[:TEXT_MAX]
    return value or None


def entries(ctx: Context, flt: LogFilter, *, page: int = 1, per_page: int = 50) -> LogPage:
    """The entries matching every filter, newest first, one page of them, with the total."""
    if page < 1 or not 0 < per_page <= MAX_PER_PAGE:
        raise InvalidInput(f"页码应为正整数，每页 1–{MAX_PER_PAGE} 条 (bad page)")
    lo = acc._bound(_clean(flt.since), "since", 0)  # InvalidInput naming the field for a bad day
    hi = acc._bound(_clean(flt.until), "until", 1)
    code = _clean(flt.code)
    conds: list[Any] = []
    if code:
        conds.append(_AU.code == code.upper())  # a partial or mistyped code finds nothing
    for col, value in ((_AU.actor, _clean(flt.actor)), (_AU.event, _clean(flt.event))):
        if value:
            conds.append(col == value)
    city = _clean(flt.city)
    if city:
        conds.append(or_(_AU.city == city, _AU.city == city + "市"))
    if lo:
        conds.append(_AU.effective_at >= lo)
    if hi:
        conds.append(_AU.effective_at < hi)
    cols = (_AU.seq, _AU.effective_at, _AU.actor, _AU.role, _AU.event, _AU.code, _AU.city, _AU.from_state,
            _AU.to_state, _AU.reason, _AU.payload, _AU.hash)
    with ctx.uow(ctx.engine) as uow:
        s = uow.session
        _authorize(s, ctx)
        conn = s.connection()
        total = int(conn.execute(select(func.count()).select_from(table(AuditEntry)).where(*conds)).scalar_one())
        rows = conn.execute(select(*cols).where(*conds).order_by(_AU.seq.desc())
                            .offset((page - 1) * per_page).limit(per_page)).all()
        kinds = sorted(str(e) for e in conn.execute(select(_AU.event).distinct()).scalars())
    import json

    out = [LogRow(seq=int(r[0]), at=_local(r[1]), actor=r[2], role=r[3], event=r[4], event_label=event_label(r[4]),
                  code=r[5], city=r[6], from_state=r[7], to_state=r[8], reason=r[9] or "",
                  payload=canonical_json(json.loads(r[10])) if r[10] else "", hash=r[11])
           for r in rows]
    return LogPage(rows=out, total=total, page=page, per_page=per_page,
                   events=[(k, event_label(k)) for k in kinds])


def verify(ctx: Context) -> Verified:
    """`campaign audit verify` (chain and replay), recorded as the last verify; a break is the answer,
    not an error: its one line names the first broken entry or differing row."""
    check_reader(ctx)
    try:
        r = queries.verify(ctx)
    except IntegrityFailure as exc:
        return Verified(ok=False, entries=None, head=None, message=str(exc), seq=getattr(exc, "seq", None),
                        code=getattr(exc, "code", None))
    extra = f"，含 {r['baselines']} 条基线记录" if r.get("baselines") else ""
    return Verified(ok=True, entries=int(r["entries"]), head=str(r["head"]),
                    message=f"审计链完整：{r['entries']} 条{extra}，逐条哈希与数据表重放均一致")


def digest(ctx: Context) -> Digest:
    """The digest of the whole log (`campaign audit digest`), to copy into an external record."""
    check_reader(ctx)
    try:
        r = queries.digest(ctx)
    except IntegrityFailure as exc:
        return Digest(ok=False, entries=None, digest=None, message=str(exc))
    return Digest(ok=True, entries=int(r["entries"]), digest=str(r["digest"]),
                  message=f"审计条目 {r['entries']} 条")


def last_verify(ctx: Context) -> tuple[str, bool] | None:
    """(time in Asia/Shanghai, ok) of the last recorded full verify, or None."""
    with ctx.uow(ctx.engine) as uow:
        _authorize(uow.session, ctx)
        found = verify_runs.last(uow.session)
    return None if found is None else (_local(found[0]), found[1])


def accountability(ctx: Context, code: str) -> acc.Accountability:
    """`campaign audit actors CODE`: who acted on the enterprise in this campaign, what and when (times
    in Asia/Shanghai, "YYYY-MM-DD HH:MM")."""
    check_reader(ctx)
    r = acc.accountability(ctx, code)
    for a in r["actors"]:
        a["actions"] = [{**x, "at": _local(x["at"])} for x in a["actions"]]
    if r["disqualified"] is not None:
        r["disqualified"] = {**r["disqualified"], "at": _local(r["disqualified"]["at"])}
    return r
