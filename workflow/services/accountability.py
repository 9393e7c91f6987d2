"""Read the audit log for the discipline inspection (纪检): who acted on an enterprise, and filtered
queries over the whole log."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any, TypedDict, cast

from sqlalchemy import and_, or_, select
from sqlmodel import Session

from models.db import UnitOfWork
from models.tables import AuditEntry, Campaign, table
from workflow.clock import SHANGHAI, utc_iso
from workflow.context import Context
from workflow.domain import creditcode
from workflow.errors import InvalidInput, NotFound
from workflow.store.campaigns import campaign

_AU, _CA = table(AuditEntry).c, table(Campaign).c
COLUMNS = ("seq", "effective_at", "recorded_at", "actor", "role", "event", "code", "campaign_year", "city",
           "from_state", "to_state", "reason", "payload")


class Action(TypedDict):
    seq: int
    event: str
    at: str
    reason: str


class ActorActions(TypedDict):
    actor: str
    roles: list[str]
    actions: list[Action]


class Disqualification(TypedDict):
    seq: int
    actor: str
    reason: str
    at: str


class Accountability(TypedDict):
    code: str
    year: int
    disqualified: Disqualification | None
    actors: list[ActorActions]


class LogEntry(TypedDict):
    seq: int
    effective_at: str
    recorded_at: str
    actor: str
    role: str
    event: str
    code: str | None
    campaign_year: int | None
    city: str | None
    from_state: str | None
    to_state: str | None
    reason: str
    payload: dict[str, Any]  # decoded


def _in_campaign(s: Session, year: int) -> Any:
    """Entries of the campaign: its year, or year-less ones (master data, assignments) inside its dates."""
    start, end = s.execute(select(_CA.start, _CA.end).where(_CA.year == year)).one()
    return or_(_AU.campaign_year == year,
               and_(_AU.campaign_year.is_(None), _AU.effective_at >= _utc(start), _AU.effective_at < _utc(end, 1)))


def _utc(day: date, plus_days: int = 0) -> str:
    return utc_iso(datetime.combine(day + timedelta(days=plus_days), time(0), SHANGHAI))


def actors_of(s: Session, code: str, year: int) -> list[ActorActions]:
    """The actors who acted on the enterprise in the campaign, each with what and when."""
    rows = s.execute(select(_AU.seq, _AU.actor, _AU.role, _AU.event, _AU.effective_at, _AU.reason)
                     .where(_AU.code == code, _in_campaign(s, year)).order_by(_AU.seq)).all()
    out: dict[str, ActorActions] = {}
    for seq, actor, role, event, at, reason in rows:
        rec = out.setdefault(actor, {"actor": actor, "roles": [], "actions": []})
        if role not in rec["roles"]:
            rec["roles"].append(role)
        rec["actions"].append({"seq": seq, "event": event, "at": at, "reason": reason})
    return list(out.values())


def accountability(ctx: Context, code: str) -> Accountability:
    """`campaign audit actors CODE`: the accountability record of one enterprise in this campaign."""
    code = creditcode.validate(code)
    with UnitOfWork(ctx.engine) as uow:
        s = uow.session
        camp = campaign(s, ctx)
        actors = actors_of(s, code, camp.year)
        dq = s.execute(select(_AU.seq, _AU.actor, _AU.reason, _AU.effective_at).where(
            _AU.code == code, _AU.campaign_year == camp.year, _AU.event == "disqualify")
            .order_by(_AU.seq.desc()).limit(1)).first()
    if not actors:
        raise NotFound(f"企业 {code} 在 {camp.year} 年行动中没有审计记录")
    disq: Disqualification | None = {"seq": dq[0], "actor": dq[1], "reason": dq[2], "at": dq[3]} if dq else None
    return {"code": code, "year": camp.year, "disqualified": disq, "actors": actors}


def _bound(text: str | None, name: str, plus_days: int) -> str | None:
    if not text:
        return None
    try:
        return _utc(date.fromisoformat(text.strip()), plus_days)
    except ValueError:
        raise InvalidInput(f"--{name} 应为日期 YYYY-MM-DD，收到 '{text}'") from None


def log(ctx: Context, *, actor: str | None = None, city: str | None = None, code: str | None = None,
        event: str | None = None, since: str | None = None, until: str | None = None) -> list[LogEntry]:
    """Audit entries matching every filter given; --since/--until are days (Asia/Shanghai), inclusive,
    on the campaign clock (effective_at)."""
    q = select(*[getattr(_AU, c) for c in COLUMNS]).order_by(_AU.seq)
    lo, hi = _bound(since, "since", 0), _bound(until, "until", 1)
    for col, value in ((_AU.actor, actor), (_AU.event, event),
                       (_AU.code, code.strip().upper() if code else None)):
        if value:
            q = q.where(col == value)
    if city:
        name = city.strip()
        q = q.where(or_(_AU.city == name, _AU.city == name + "市"))
    if lo:
        q = q.where(_AU.effective_at >= lo)
    if hi:
        q = q.where(_AU.effective_at < hi)
    with UnitOfWork(ctx.engine) as uow:
        rows = uow.session.connection().execute(q).all()
    return [cast(LogEntry, {**dict(r._mapping), "payload": json.loads(r.payload)}) for r in rows]


def write_xlsx(rows: list[LogEntry], path: str, *, simulation: bool = False) -> str:
    """The filtered log as a printable workbook (one row per entry, the payload as JSON)."""
    from workflow.domain.audit import canonical_json
    from workflow.reports.sheets import Column, Sheet
    from workflow.reports.writers import write

    cols = (Column("序号 seq", 8, True), Column("时间 effective_at", 22), Column("操作人 actor", 12),
            Column("角色 role", 16), Column("事件 event", 20), Column("企业 code", 22), Column("城市 city", 10),
            Column("从 from", 12), Column("到 to", 12), Column("理由 reason", 24), Column("内容 payload", 48),
            Column("记录时间 recorded_at", 22))
    sheet = Sheet("审计日志", "审计日志", "创A晋B行动审计日志 Audit log", f"共 {len(rows)} 条", cols,
                  [[r["seq"], r["effective_at"], r["actor"], r["role"], r["event"], r["code"], r["city"],
                    r["from_state"], r["to_state"], r["reason"], canonical_json(r["payload"]), r["recorded_at"]]
                   for r in rows])
    return str(write([sheet], path, simulation=simulation))
