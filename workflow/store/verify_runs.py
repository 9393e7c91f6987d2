"""Full verifications of the audit log (`audit verify`) and their results, outside the chain: the
web workspace shows the time and result of the last one."""

from __future__ import annotations

import logging

from sqlalchemy import insert, select
from sqlmodel import Session

from models.tables import VerifyRun, table
from workflow.clock import utc_iso
from workflow.context import Context

log = logging.getLogger("campaign.audit")
_V = table(VerifyRun)
_LAST = select(_V.c.at, _V.c.ok).order_by(_V.c.id.desc()).limit(1)


def record(ctx: Context, *, ok: bool, entries: int) -> None:
    """Record one full verify in its own unit of work. A run that cannot be recorded (a read-only
    database or login, a schema before 0006) is logged, never raised: the verify's result stands."""
    try:
        with ctx.uow(ctx.engine) as uow:
            uow.session.connection().execute(insert(_V).values(at=utc_iso(ctx.wall.now()), ok=ok, entries=entries,
                                                               actor=ctx.actor or ""))
            uow.commit()
    except Exception as exc:
        log.info("verify run not recorded: %s", exc)


def last(session: Session) -> tuple[str, bool] | None:
    """(UTC instant as stored, ok) of the last recorded full verify; None when none is recorded (or
    the table cannot be read: a schema before 0006). Call it last in a read-only transaction: on
    PostgreSQL a failed read ends the transaction."""
    try:
        row = session.connection().execute(_LAST).first()
    except Exception as exc:
        log.info("verify runs not readable: %s", exc)
        return None
    return None if row is None else (str(row[0]), bool(row[1]))
