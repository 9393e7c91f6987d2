"""Delivering committed notices: claim in a short transaction, send with no transaction open,
record the attempts in another. A failed round is retried with backoff; nothing is dropped."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, insert, or_, select, update
from sqlmodel import Session

from models.notices import Contact, DeliveryAttempt, Notice
from models.tables import table
from workflow.clock import utc_iso

from . import channels, kinds
from .filters import cn_date_week
from .queue import backoff, try_render
from .render import RenderError
from .settings import Settings

log = logging.getLogger("campaign.notifications")
_N, _D, _C = table(Notice), table(DeliveryAttempt), table(Contact)
LEASE_MINUTES = 10  # a claimed notice whose deliverer died is picked up again after this
BATCH = 200


@dataclass(frozen=True)
class Target:
    channel: str  # outbox | email | webhook
    contact_id: int | None
    address: str  # path, e-mail address or the full webhook URL (never recorded as is)

    @property
    def shown(self) -> str:
        return channels.mask_url(self.address) if self.channel == "webhook" else self.address


def _claim(engine: Engine, now: datetime, ids: Sequence[int] | None, force: bool) -> list[int]:
    """Mark the notices this run delivers as `sending` (a lease), so no other run sends them."""
    stamp = utc_iso(now)
    due: ColumnElement[bool] = or_(_N.c.status == "pending",
              and_(_N.c.status.in_(("failed", "sending")), _N.c.next_attempt_at <= stamp))
    if force:  # an operator's retry: every failed one now, no waiting for the backoff
        due = or_(due, _N.c.status == "failed")
    query = select(_N.c.id, _N.c.status, _N.c.next_attempt_at).where(due).order_by(_N.c.id)
    query = query.where(_N.c.id.in_(ids)) if ids is not None else query.limit(BATCH)
    lease = utc_iso(now + timedelta(minutes=LEASE_MINUTES))
    claimed: list[int] = []
    with Session(engine) as s:
        for nid, status, next_at in s.execute(query).all():
            same = (_N.c.next_attempt_at.is_(None) if next_at is None else _N.c.next_attempt_at == next_at)
            hit = s.connection().execute(update(_N).where(_N.c.id == nid, _N.c.status == status, same)
                            .values(status="sending", next_attempt_at=lease))
            if hit.rowcount == 1:
                claimed.append(int(nid))
        s.commit()
    return claimed


def _targets(s: Session, notice: Any, settings: Settings) -> tuple[list[Target], int]:
    """Outbox, then the contacts of the notice's city (and the province's when the kind says so)."""
    found = [Target("outbox", None, str(settings.outbox))]
    spec = kinds.KINDS.get(notice.kind)
    cities = [notice.city] if notice.city else []
    where: ColumnElement[bool] = _C.c.city.in_(cities)
    if notice.city is None or (spec is not None and spec.province):
        where = or_(where, _C.c.city.is_(None))
    skipped = 0
    for cid, email, webhook in s.execute(select(_C.c.id, _C.c.email, _C.c.webhook)
                                         .where(where, _C.c.active.is_(True)).order_by(_C.c.id)):
        if email:
            if settings.smtp is None:
                skipped += 1
            else:
                found.append(Target("email", int(cid), str(email)))
        if webhook:
            found.append(Target("webhook", int(cid), str(webhook)))
    return found, skipped


def _letter(n: Any) -> channels.Letter:
    spec = kinds.KINDS.get(n.kind)
    return channels.Letter(int(n.id), n.kind, spec.title if spec else n.kind, n.city, n.code,
                           cn_date_week(n.due) if n.due else None, n.subject, n.body, n.template,
                           n.created_at)


def _send(target: Target, letter: channels.Letter, settings: Settings, now: datetime) -> str | None:
    if target.channel == "outbox":
        return channels.send_outbox(settings.outbox, letter)
    if target.channel == "email":
        assert settings.smtp is not None
        return channels.send_email(settings.smtp, target.address, letter, now)
    return channels.send_webhook(target.address, letter, settings.webhook_timeout)


def _rerender(engine: Engine, n: Any, settings: Settings) -> RenderError | None:
    outcome = try_render(n.kind, json.loads(n.context), settings.templates, settings.template_timeout)
    if isinstance(outcome, RenderError):
        return outcome
    with Session(engine) as s:
        s.execute(update(_N).where(_N.c.id == n.id).values(
            subject=outcome.subject, body=outcome.body, template=outcome.template, error=""))
        s.commit()
    return None


def _deliver_one(engine: Engine, nid: int, settings: Settings, now: datetime) -> tuple[str, int, int]:
    """One round for one claimed notice: (final status, attempts recorded, channels skipped)."""
    with Session(engine) as s:
        n = s.execute(select(_N).where(_N.c.id == nid)).one()
        done = {(r[0], r[1]) for r in s.execute(
            select(_D.c.channel, _D.c.contact_id).where(_D.c.notice_id == nid, _D.c.ok.is_(True)))}
        targets, skipped = _targets(s, n, settings)
    rows: list[dict[str, Any]] = []
    failures: list[str] = []
    problem = _rerender(engine, n, settings) if not n.subject else None
    if problem is not None:
        failures.append(str(problem))
    else:
        with Session(engine) as s:
            n = s.execute(select(_N).where(_N.c.id == nid)).one()
        letter = _letter(n)
        for t in targets:
            if (t.channel, t.contact_id) in done:
                continue
            error = _send(t, letter, settings, now)
            rows.append({"notice_id": nid, "round": n.attempts + 1, "channel": t.channel,
                         "contact_id": t.contact_id, "target": t.shown, "attempted_at": utc_iso(now),
                         "ok": error is None, "error": error or ""})
            if error:
                failures.append(f"{t.channel} {t.shown}：{error}")
                log.warning("notice %s via %s %s failed: %s", nid, t.channel, t.shown, error)
    values: dict[str, Any]
    if failures:
        values = {"status": "failed", "error": "；".join(failures)[:2000], "attempts": n.attempts + 1,
                  "next_attempt_at": backoff(n.attempts + 1, now, settings.retry_max_minutes)}
    else:
        values = {"status": "delivered", "error": "", "attempts": n.attempts + 1,
                  "next_attempt_at": None, "delivered_at": utc_iso(now)}
    with Session(engine) as s:
        if rows:
            s.execute(insert(_D), rows)
        s.execute(update(_N).where(_N.c.id == nid, _N.c.status == "sending").values(**values))
        s.commit()
    return values["status"], len(rows), skipped


def deliver(engine: Engine, settings: Settings, now: datetime, *, ids: Sequence[int] | None = None,
            force: bool = False) -> dict[str, int]:
    """Deliver what is due (or the given ids); returns counts per outcome."""
    counts = {"delivered": 0, "failed": 0, "attempts": 0, "skipped": 0}
    for nid in _claim(engine, now, ids, force):
        try:
            status, attempts, skipped = _deliver_one(engine, nid, settings, now)
        except Exception:  # a bug or a lost database must not stop the other notices
            log.exception("notice %s: delivery round failed", nid)
            status, attempts, skipped = "failed", 0, 0
        counts[status] = counts.get(status, 0) + 1
        counts["attempts"] += attempts
        counts["skipped"] += skipped
    return counts
