"""Read-side services: status counts, a participation's history, audit verification."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from models.db import UnitOfWork
from models.tables import AuditEntry, City, Enterprise, Participation, table
from workflow.context import Context
from workflow.domain import creditcode
from workflow.domain.states import STATES
from workflow.errors import IntegrityFailure, NotFound
from workflow.store import chain
from workflow.store.campaigns import campaign

_A = AuditEntry.__table__  # type: ignore[attr-defined]


def status(ctx: Context) -> dict[str, Any]:
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        s = uow.session
        camp = campaign(s, ctx)
        c, e, p = table(City).c, table(Enterprise).c, table(Participation).c
        rows = s.execute(
            select(c.name, p.state, func.count())
            .join_from(table(City), table(Enterprise), e.city_id == c.id)
            .join(table(Participation), p.enterprise_id == e.id)
            .where(p.campaign_id == camp.id)
            .group_by(c.name, p.state)).all()
        city_order = list(camp.plan.cities)
    by_state = {st: 0 for st in STATES}
    by_city: dict[str, dict[str, int]] = {c: {} for c in city_order}
    for city, state, n in rows:
        by_state[state] = by_state.get(state, 0) + n
        by_city.setdefault(city, {})[state] = n
    return {"year": camp.year, "as_of": ctx.today.isoformat(), "total": sum(by_state.values()),
            "by_state": by_state, "by_city": by_city}


def history(ctx: Context, code: str) -> list[dict[str, Any]]:
    code = creditcode.validate(code)
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        camp = campaign(uow.session, ctx)
        rows = uow.session.connection().execute(
            select(_A.c.seq, _A.c.event, _A.c.from_state, _A.c.to_state, _A.c.actor, _A.c.role,
                   _A.c.reason, _A.c.payload, _A.c.effective_at, _A.c.recorded_at, _A.c.hash,
                   _A.c.prev_hash)
            .where(_A.c.code == code, _A.c.campaign_year == camp.year).order_by(_A.c.seq)).all()
    if not rows:
        exists = show_exists(ctx, code)
        raise NotFound(f"企业 {code} 在 {camp.year} 年行动中没有记录" if exists
                       else f"企业 {code} 未登记 (unknown enterprise)")
    import json

    return [{**dict(r._mapping), "payload": json.loads(r.payload)} for r in rows]


def show_exists(ctx: Context, code: str) -> bool:
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        e = table(Enterprise).c
        return uow.session.execute(select(e.id).where(e.code == code)).first() is not None


def verify(ctx: Context, digest: str | None = None) -> dict[str, Any]:
    """Recompute the chain and replay it: raise IntegrityFailure naming the first broken entry, or
    RowsDiffer naming each audited row that is not what the log implies (table, key, column)."""
    if digest is not None and (len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest)):
        from workflow.errors import InvalidInput

        raise InvalidInput("--digest 应为 64 位十六进制摘要（campaign audit digest 的最后一行）")
    from workflow.store.projection import RowsDiffer, check
    from workflow.store.verify_runs import record

    verdict, replayed, found, total = check(ctx.engine, digest)
    ok = verdict.broken is None and verdict.digest_found and not found
    record(ctx, ok=ok, entries=verdict.count)  # the time and result of the last full verify (web workspace)
    if verdict.broken is not None:
        raise IntegrityFailure(verdict.broken.message(), seq=verdict.broken.seq, code=verdict.broken.code)
    if not verdict.digest_found:
        raise IntegrityFailure(f"摘要 {(digest or '')[:12]}… 不在当前审计链中：此后历史被截断或改写 "
                               "(history cut off or rewritten since digest)")
    if found:  # every audited row must be what the log implies
        raise RowsDiffer(found, total)
    return {"entries": verdict.count, "head": verdict.head, "ok": True, "baselines": replayed.baselines}


def digest(ctx: Context) -> dict[str, Any]:
    verdict = chain.verify(ctx.engine)
    if verdict.broken is not None:
        raise IntegrityFailure(verdict.broken.message(), seq=verdict.broken.seq, code=verdict.broken.code)
    return {"entries": verdict.count, "digest": verdict.head}
