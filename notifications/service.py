"""Services behind `campaign notices …`: list, show, preview, deliver and retry (plain values out)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from models.notices import DeliveryAttempt, Notice
from models.tables import table
from workflow.context import Context
from workflow.errors import InvalidInput, NotFound

from . import kinds
from .render import render
from .settings import load

_N, _D = table(Notice), table(DeliveryAttempt)
STATUSES = ("pending", "sending", "delivered", "failed")


def _row(r: Any) -> dict[str, Any]:
    spec = kinds.KINDS.get(r.kind)
    return {"id": r.id, "kind": r.kind, "title": spec.title if spec else r.kind, "city": r.city,
            "code": r.code, "due": r.due.isoformat() if r.due else None, "created_at": r.created_at,
            "status": r.status, "attempts": r.attempts, "next_attempt_at": r.next_attempt_at,
            "delivered_at": r.delivered_at, "subject": r.subject, "error": r.error}


def listing(ctx: Context, *, status: str | None = None, kind: str | None = None,
            city: str | None = None, province: bool = False) -> list[dict[str, Any]]:
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"未知状态 '{status}'，可选：{', '.join(STATUSES)}")
    if kind is not None:
        kinds.get(kind)
    query = select(_N).order_by(_N.c.id)
    for column, value in ((_N.c.status, status), (_N.c.kind, kind)):
        if value is not None:
            query = query.where(column == value)
    with Session(ctx.engine) as s:
        if province:  # the province's own notices
            query = query.where(_N.c.city.is_(None))
        elif city is not None:
            query = query.where(_N.c.city == city)
        return [_row(r) for r in s.execute(query).all()]


def show(ctx: Context, notice_id: int) -> dict[str, Any]:
    """One notice with its rendered text and every delivery attempt."""
    with Session(ctx.engine) as s:
        r = s.execute(select(_N).where(_N.c.id == notice_id)).one_or_none()
        if r is None:
            raise NotFound(f"通知 {notice_id} 不存在 (no such notice)")
        tries = s.execute(select(_D).where(_D.c.notice_id == notice_id).order_by(_D.c.id)).all()
    out = _row(r)
    out.update(key=r.key, template=r.template, body=r.body,
               text=f"{r.subject}\n\n{r.body}\n" if r.subject else "",
               delivery=[{"round": a.round, "channel": a.channel, "target": a.target,
                          "attempted_at": a.attempted_at, "ok": bool(a.ok), "error": a.error}
                         for a in tries])
    return out


def preview(kind: str, *, templates: str | Path | None = None, home: Path | None = None,
            settings: Mapping[str, str] | None = None) -> dict[str, Any]:
    """`kind`'s template rendered with its sample data (the run's `settings` name the override
    templates, --templates wins); a broken template raises RenderError."""
    spec = kinds.get(kind)
    conf = load(home or Path.cwd(), settings or {}, templates=templates)
    rendered = render(spec.name, spec.sample, templates=conf.templates, timeout=conf.template_timeout)
    return {"kind": spec.name, "title": spec.title, "template": rendered.template,
            "subject": rendered.subject, "text": rendered.text}


def deliver_now(ctx: Context, *, templates: str | Path | None = None) -> dict[str, int]:
    """What the scheduler does: deliver what is pending or due for retry at the campaign clock."""
    from .delivery import deliver

    return deliver(ctx.engine, load(ctx.home, ctx.settings, templates=templates), ctx.now())


def retry(ctx: Context, notice_id: int | None = None, *, templates: str | Path | None = None
          ) -> dict[str, int]:
    """Render again what failed to render, and deliver again: one notice, or every failed one."""
    from .delivery import deliver

    settings = load(ctx.home, ctx.settings, templates=templates)
    ids: list[int] | None = None
    if notice_id is not None:
        with Session(ctx.engine) as s:
            status = s.execute(select(_N.c.status).where(_N.c.id == notice_id)).scalar_one_or_none()
        if status is None:
            raise NotFound(f"通知 {notice_id} 不存在 (no such notice)")
        if status == "delivered":
            raise InvalidInput(f"通知 {notice_id} 已送达，无需重试 (already delivered)")
        ids = [notice_id]
    return deliver(ctx.engine, settings, ctx.now(), ids=ids, force=True)
