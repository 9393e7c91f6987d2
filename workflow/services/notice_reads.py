"""The notices in the web workspace (通知) and their read receipts (`notice_read`).

Scope (checked here): a city's coordinator and reviewer see the notices addressed to their city; the
province's roles see every notice and, per notice, who opened it when; an expert sees none (an empty
list; opening one is not found). The first time a person opens a notice, a receipt records who and
when (real time); opening it again changes nothing. A receipt is a record of reading, not an action
on the campaign: it is not an audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from models.db import UnitOfWork
from models.notices import Notice
from models.tables import table
from models.workspace import NoticeRead
from notifications import KINDS
from workflow.clock import SHANGHAI, parse_stored, utc_iso
from workflow.context import Context
from workflow.domain.matrix import CITY_ROLES, ActorRecord
from workflow.errors import InvalidInput, NotFound, Refused
from workflow.services.actors import city_id
from workflow.services.permissions import refuse
from workflow.services.tasks import me
from workflow.store import scope

_N, _R = table(Notice).c, table(NoticeRead).c
KIND_LABELS = {k.name: k.title for k in KINDS.values()}  # reminder → 提醒函, …
MAX_ID = 2**63 - 1
PER_PAGE = 100


@dataclass(frozen=True)
class Receipt:
    actor: str
    read_at: str  # Asia/Shanghai "YYYY-MM-DD HH:MM"


@dataclass(frozen=True)
class NoticeLine:
    id: int
    kind: str
    kind_label: str  # 提醒函, 催办通知, …
    city: str | None  # None: addressed to the province
    code: str | None
    subject: str
    created: str  # Asia/Shanghai "YYYY-MM-DD HH:MM"
    status: str  # delivery status: pending, delivered, failed, sending
    read_by_me: bool
    readers: int  # how many people opened it


@dataclass(frozen=True)
class NoticeShown:
    line: NoticeLine
    body: str  # the rendered official text
    receipts: tuple[Receipt, ...]  # who opened it when (first time each), oldest first
    first_read: bool  # this opening recorded the person's receipt


@dataclass(frozen=True)
class NoticePage:
    city: str | None  # the city shown (None: every notice, for the province)
    items: tuple[NoticeLine, ...]
    total: int
    page: int
    per_page: int


def _local(stored: str | None) -> str:
    return parse_stored(stored).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if stored else ""


def _unit(s: Session, ctx: Context, city: str | None) -> tuple[ActorRecord, str | None, bool]:
    """(actor, the city whose notices they see or None for all, province-wide); an expert (no city,
    no province role) is refused: no notice is addressed to them."""
    _, actor = me(s, ctx.actor)
    wanted = city.strip() if city and city.strip() else None
    if any(scope.province_wide(r) for r in actor.roles):
        return actor, city_id(s, wanted)[1] if wanted else None, True
    if actor.city and any(r in CITY_ROLES for r in actor.roles):
        if wanted and wanted not in (actor.city, actor.city.removesuffix("市")):
            raise NotFound(f"城市 {wanted} 不存在，或不在您的管辖范围内 (not in your scope)")
        return actor, actor.city, False
    raise refuse("权限", f"{actor.name} 无权查看通知；须为市级联络员、市级评审人员或省级人员 (not permitted)")


def _line(r: object, mine: set[int], counts: dict[int, int]) -> NoticeLine:
    kind = str(r.kind)  # type: ignore[attr-defined]
    nid = int(r.id)  # type: ignore[attr-defined]
    return NoticeLine(nid, kind, KIND_LABELS.get(kind, kind), r.city, r.code, r.subject,  # type: ignore[attr-defined]
                      _local(r.created_at), str(r.status), nid in mine, counts.get(nid, 0))  # type: ignore[attr-defined]


_COLS = (_N.id, _N.kind, _N.city, _N.code, _N.subject, _N.created_at, _N.status)


def notices(ctx: Context, *, city: str | None = None, kind: str | None = None, unread: bool = False,
            page: int = 1, per_page: int = PER_PAGE) -> NoticePage:
    """The notices this person may see, newest first: their city's (city roles) or every one, or one
    city's (the province)."""
    page, per_page = max(1, int(page)), min(500, max(1, int(per_page)))
    with UnitOfWork(ctx.engine) as uow:
        s = uow.session
        try:
            actor, name, _ = _unit(s, ctx, city)
        except Refused:  # an expert: no notice is addressed to them
            return NoticePage(None, (), 0, page, per_page)
        cond = [] if name is None else [_N.city == name]
        if kind:
            if kind not in KIND_LABELS:
                raise InvalidInput(f"未知通知类型 '{kind}'，可选：{', '.join(KIND_LABELS)} (unknown notice kind)")
            cond.append(_N.kind == kind)
        if unread:
            cond.append(_N.id.not_in(select(_R.notice_id).where(_R.actor == actor.name)))
        total = int(s.execute(select(func.count()).select_from(table(Notice)).where(*cond)).scalar_one())
        rows = s.execute(select(*_COLS).where(*cond).order_by(_N.id.desc())
                         .limit(per_page).offset((page - 1) * per_page)).all()
        ids = [int(r.id) for r in rows]
        mine = set(s.execute(select(_R.notice_id).where(_R.actor == actor.name, _R.notice_id.in_(ids))).scalars())
        counts = {int(k): int(v) for k, v in s.execute(select(_R.notice_id, func.count())
                                                        .where(_R.notice_id.in_(ids)).group_by(_R.notice_id))}
    return NoticePage(name, tuple(_line(r, mine, counts) for r in rows), total, page, per_page)


def open_notice(ctx: Context, notice_id: int) -> NoticeShown:
    """One notice as its official text; the first opening by this person records their receipt
    (who, when). Another city's notice is not found, as an unknown one."""
    if not 0 < notice_id <= MAX_ID:
        raise NotFound(f"通知 {notice_id} 不存在 (no such notice)", key=notice_id)
    with UnitOfWork(ctx.engine) as uow:
        s = uow.session
        try:
            actor, name, _ = _unit(s, ctx, None)
        except Refused:
            raise NotFound(f"通知 {notice_id} 不存在，或不在您的管辖范围内 (no such notice)", key=notice_id) from None
        r = s.execute(select(*_COLS, _N.body).where(_N.id == notice_id)).one_or_none()
        if r is None or (name is not None and r.city != name):
            raise NotFound(f"通知 {notice_id} 不存在，或不在您的管辖范围内 (no such notice)", key=notice_id)
        seen = s.execute(select(_R.id).where(_R.notice_id == notice_id, _R.actor == actor.name)).first()
    first = False
    if seen is None:
        first = _record(ctx, notice_id, actor.name, r.city)
    with UnitOfWork(ctx.engine) as uow:
        receipts = tuple(Receipt(a, _local(t)) for a, t in uow.session.execute(
            select(_R.actor, _R.read_at).where(_R.notice_id == notice_id).order_by(_R.read_at, _R.id)))
    line = _line(r, {notice_id}, {notice_id: len(receipts)})
    return NoticeShown(line, str(r.body), receipts, first)


def _record(ctx: Context, notice_id: int, name: str, city: str | None) -> bool:
    """Insert the receipt; False when a concurrent opening by the same person got there first."""
    try:
        with UnitOfWork(ctx.engine) as uow:
            uow.session.connection().execute(insert(table(NoticeRead)).values(
                notice_id=notice_id, actor=name, city=city, read_at=utc_iso(ctx.wall.now())))
            uow.commit()
    except IntegrityError:  # uq_notice_read_actor: the same person, another tab, a moment earlier
        return False
    return True


def receipts(ctx: Context, notice_id: int) -> tuple[Receipt, ...]:
    """Who opened a notice when, without recording a receipt (the province's view of any notice; a
    city role its own city's)."""
    with UnitOfWork(ctx.engine) as uow:
        s = uow.session
        _, name, _ = _unit(s, ctx, None)
        city = s.execute(select(_N.city).where(_N.id == notice_id)).one_or_none()
        if city is None or (name is not None and city[0] != name):
            raise NotFound(f"通知 {notice_id} 不存在，或不在您的管辖范围内 (no such notice)", key=notice_id)
        return tuple(Receipt(a, _local(t)) for a, t in s.execute(
            select(_R.actor, _R.read_at).where(_R.notice_id == notice_id).order_by(_R.read_at, _R.id)))
