"""Delivering committed notices, a round (up to BATCH notices) at a time.

A round is claimed with one statement in a short transaction (each claimed notice becomes
`sending` until a lease runs out, so no other deliverer takes it meanwhile); the round's successful
attempts and the contacts of its cities are read in one query each; the letters are sent with no
transaction open; the attempts (one row per channel and target) and the new statuses are recorded
in one transaction per round. A notice that went to a network channel (e-mail, webhook) is recorded
at once, on its own, so a crash repeats at most one network send. A failure is retried with
backoff; nothing is dropped: a notice whose round was never recorded (a crash, a lost database)
is `sending` until its lease runs out and is then delivered again, skipping what succeeded.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, FromClause, and_, bindparam, or_, select, text, update
from sqlmodel import Session

from models.notices import Contact, DeliveryAttempt, Notice
from models.tables import table
from workflow.clock import utc_iso

from . import channels, kinds
from .filters import cn_date_week
from .queue import backoff, marked, try_render
from .render import RenderError
from .settings import Settings

log = logging.getLogger("campaign.notifications")
_N, _D, _CT = table(Notice), table(DeliveryAttempt), table(Contact)
LEASE_MINUTES = 10  # a claimed notice whose deliverer died is picked up again after this
BATCH = 200
MAX_ROUNDS = 1000  # per call: 200,000 notices
_CHUNK = 500  # ids per IN (…) list
BY_ID = 1000  # notices per round when they are named by id: such a claim reads only its own rows


@dataclass(frozen=True)
class Target:
    channel: str  # outbox | email | webhook
    contact_id: int | None
    address: str  # path, e-mail address or the full webhook URL (never recorded as is)

    @property
    def shown(self) -> str:
        return channels.mask_url(self.address) if self.channel == "webhook" else self.address


def _due(t: FromClause, stamp: str, force: bool) -> ColumnElement[bool]:
    """What a deliverer may take: pending; failed and due for retry; sending with its lease run out."""
    due: ColumnElement[bool] = or_(t.c.status == "pending",
                                   and_(t.c.status.in_(("failed", "sending")), t.c.next_attempt_at <= stamp))
    if force:  # an operator's retry: every failed one now, no waiting for the backoff
        due = or_(due, t.c.status == "failed")
    return due


_CLAIMED = (_N.c.id, _N.c.kind, _N.c.city, _N.c.code, _N.c.due, _N.c.context, _N.c.subject, _N.c.body,
            _N.c.template, _N.c.created_at, _N.c.attempts)


def _claim(engine: Engine, now: datetime, ids: Sequence[int] | None, force: bool) -> list[Any]:
    """Mark the notices this round delivers as `sending` (a lease), so no other run sends them.

    One statement: the due notices (at most BATCH, or the given ids) are picked in a subquery and
    updated only if they are still due when the update reaches them — a notice another deliverer
    claimed meanwhile is `sending` with a lease in the future, so it is left alone. On PostgreSQL
    the pick locks its rows and skips rows another deliverer holds (FOR UPDATE SKIP LOCKED);
    on SQLite every write transaction holds the database's write lock (BEGIN IMMEDIATE)."""
    stamp = utc_iso(now)
    lease = utc_iso(now + timedelta(minutes=LEASE_MINUTES))
    pick_from = _N.alias("claimable")
    pick = select(pick_from.c.id).where(_due(pick_from, stamp, force)).with_for_update(skip_locked=True)
    pick = (pick.where(pick_from.c.id.in_(list(ids))) if ids is not None
            else pick.order_by(pick_from.c.id).limit(BATCH))
    claim = (update(_N).where(_N.c.id.in_(pick), _due(_N, stamp, force))
             .values(status="sending", next_attempt_at=lease).returning(*_CLAIMED))
    with Session(engine) as s:
        claimed = sorted(s.connection().execute(claim).all(), key=lambda r: int(r.id))
        s.commit()
    return claimed


def _succeeded(s: Session, ids: list[int]) -> set[tuple[int, str, int | None]]:
    """(notice, channel, contact) of every attempt that succeeded: those are not sent again."""
    done: set[tuple[int, str, int | None]] = set()
    for n in range(0, len(ids), _CHUNK):
        done.update((int(r[0]), str(r[1]), None if r[2] is None else int(r[2])) for r in s.execute(
            select(_D.c.notice_id, _D.c.channel, _D.c.contact_id)
            .where(_D.c.notice_id.in_(ids[n:n + _CHUNK]), _D.c.ok.is_(True))))
    return done


def _wants_province(notice: Any) -> bool:
    spec = kinds.KINDS.get(notice.kind)
    return notice.city is None or (spec is not None and spec.province)


def _contacts(s: Session, notices: Sequence[Any]) -> list[Any]:
    """The active contacts of every city of the round (and the province's where one wants them)."""
    cities = sorted({str(n.city) for n in notices if n.city})
    where: ColumnElement[bool] = _CT.c.city.in_(cities)
    if any(_wants_province(n) for n in notices):
        where = or_(where, _CT.c.city.is_(None))
    return list(s.execute(select(_CT.c.id, _CT.c.city, _CT.c.email, _CT.c.webhook)
                          .where(where, _CT.c.active.is_(True)).order_by(_CT.c.id)))


def _targets(contacts: Sequence[Any], city: str | None, province: bool, settings: Settings
             ) -> tuple[list[Target], int]:
    """Outbox, then the contacts of the notice's city (and the province's when the kind says so)."""
    found = [Target("outbox", None, str(settings.outbox))]
    skipped = 0
    for cid, ccity, email, webhook in contacts:
        if not ((city is not None and ccity == city) or (ccity is None and province)):
            continue
        if email:
            if settings.smtp is None:
                skipped += 1
            else:
                found.append(Target("email", int(cid), str(email)))
        if webhook:
            found.append(Target("webhook", int(cid), str(webhook)))
    return found, skipped


def _send(target: Target, letter: channels.Letter, settings: Settings, now: datetime) -> str | None:
    if target.channel == "outbox":
        return channels.send_outbox(settings.outbox, letter)
    if target.channel == "email":
        if settings.smtp is None:
            return "未配置 SMTP，无法发送邮件 (CAMPAIGN_SMTP_HOST)"
        return channels.send_email(settings.smtp, target.address, letter, now)
    return channels.send_webhook(target.address, letter, settings.webhook_timeout)


@dataclass
class _Outcome:
    """One notice's round, sent and not yet recorded."""

    nid: int
    delivered: bool
    status: tuple[Any, ...]  # the parameters of _DELIVERED or _FAILED, in order
    rows: list[tuple[Any, ...]] = field(default_factory=list)  # the attempts (_ATTEMPT_COLUMNS order)
    rendered: dict[str, Any] | None = None  # subject, body, template when rendered again this round
    skipped: int = 0
    networked: bool = False  # went to e-mail or a webhook: recorded at once


def _deliver_one(n: Any, done: set[tuple[int, str, int | None]], targets: list[Target], skipped: int,
                 settings: Settings, now: datetime, stamp: str) -> _Outcome:
    """One round for one claimed notice: render again if it never rendered, send to every target
    that has not succeeded yet. Touches no database."""
    nid, attempt = int(n.id), int(n.attempts) + 1
    rows: list[tuple[Any, ...]] = []
    failures: list[str] = []
    rendered: dict[str, Any] | None = None
    networked = False
    subject, body, template = n.subject, n.body, n.template
    if not subject:
        context = json.loads(n.context)
        outcome = try_render(n.kind, context, settings.templates, settings.template_timeout)
        if isinstance(outcome, RenderError):
            failures.append(str(outcome))
        else:
            subject, body, template = outcome.subject, marked(outcome.body, context), outcome.template
            rendered = {"b_id": nid, "b_subject": subject, "b_body": body, "b_template": template}
    if not failures:
        spec = kinds.KINDS.get(n.kind)
        letter = channels.Letter(nid, n.kind, spec.title if spec else n.kind, n.city, n.code,
                                 cn_date_week(n.due) if n.due else None, subject, body, template,
                                 n.created_at)
        for t in targets:
            if (nid, t.channel, t.contact_id) in done:
                continue
            error = _send(t, letter, settings, now)
            rows.append((nid, attempt, t.channel, t.contact_id, t.shown, stamp, error is None, error or ""))
            networked = networked or t.channel != "outbox"
            if error:
                failures.append(f"{t.channel} {t.shown}：{error}")
                log.warning("notice %s via %s %s failed: %s", nid, t.channel, t.shown, error)
    if failures:
        status: tuple[Any, ...] = ("；".join(failures)[:2000], attempt,
                                   backoff(attempt, now, settings.retry_max_minutes), nid)
    else:
        status = (attempt, stamp, nid)
    return _Outcome(nid, not failures, status, rows, rendered, skipped, networked)


# The round's writes, with the driver's executemany (the values are plain already; SQLAlchemy's
# per-row parameter processing would cost more than the statements). `?` is the driver's mark.
_ATTEMPT_COLUMNS = ("notice_id", "round", "channel", "contact_id", "target", "attempted_at", "ok", "error")
_ATTEMPTS = (f"INSERT INTO delivery_attempt ({', '.join(_ATTEMPT_COLUMNS)}) "
             f"VALUES ({', '.join('?' * len(_ATTEMPT_COLUMNS))})")
_DELIVERED = ("UPDATE notice SET status = 'delivered', error = '', attempts = ?, next_attempt_at = NULL, "
              "delivered_at = ? WHERE id = ? AND status = 'sending'")
_FAILED = ("UPDATE notice SET status = 'failed', error = ?, attempts = ?, next_attempt_at = ? "
           "WHERE id = ? AND status = 'sending'")
_MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}
_RENDERED = (update(_N).where(_N.c.id == bindparam("b_id"))
             .values(subject=bindparam("b_subject"), body=bindparam("b_body"),
                     template=bindparam("b_template"), error=""))


def _many(conn: Any, sql: str, rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    mark = _MARKS.get(conn.dialect.paramstyle)
    if mark is not None:
        conn.exec_driver_sql(sql.replace("?", mark), rows)
    else:  # a driver with named parameters: the portable path
        params = [{f"p{i}": v for i, v in enumerate(r)} for r in rows]
        parts = sql.split("?")
        conn.execute(text("".join(p + (f":p{i}" if i < len(parts) - 1 else "") for i, p in enumerate(parts))),
                     params)


def _record(engine: Engine, outcomes: list[_Outcome], counts: dict[str, int]) -> None:
    """Record the attempts and the new statuses of these notices in one transaction, and count them.

    If that fails, the notices stay `sending` until their lease runs out and are delivered again
    then (what succeeded unrecorded is sent again); they count as failed here."""
    if not outcomes:
        return
    rendered = [o.rendered for o in outcomes if o.rendered is not None]
    try:
        with Session(engine) as s:
            conn = s.connection()
            _many(conn, _ATTEMPTS, [r for o in outcomes for r in o.rows])
            if rendered:
                conn.execute(_RENDERED, rendered)
            _many(conn, _DELIVERED, [o.status for o in outcomes if o.delivered])
            _many(conn, _FAILED, [o.status for o in outcomes if not o.delivered])
            s.commit()
    except Exception:  # a lost database must not stop the other notices of the round
        log.exception("notices %s: recording the delivery round failed", ", ".join(str(o.nid) for o in outcomes))
        counts["failed"] += len(outcomes)
        return
    for o in outcomes:
        counts["delivered" if o.delivered else "failed"] += 1
        counts["attempts"] += len(o.rows)
        counts["skipped"] += o.skipped


def deliver(engine: Engine, settings: Settings, now: datetime, *, ids: Sequence[int] | None = None,
            force: bool = False) -> dict[str, int]:
    """Deliver everything due at `now` (or the given ids), a round of at most BATCH at a time;
    returns counts per outcome.

    A notice is claimed at most once per call: what a round fails waits for its backoff (or its
    lease), which lies after `now`. `force` (an operator's retry) also takes failed notices before
    their backoff, so those are picked once, up front, and delivered by id."""
    counts = {"delivered": 0, "failed": 0, "attempts": 0, "skipped": 0}
    if ids is None and force:
        with Session(engine) as s:
            ids = list(s.execute(select(_N.c.id).where(_due(_N, utc_iso(now), True)).order_by(_N.c.id))
                       .scalars())
    if ids is not None:
        for n in range(0, len(ids), BY_ID):
            _round(engine, settings, now, counts, _claim(engine, now, ids[n:n + BY_ID], force))
        return counts
    for _ in range(MAX_ROUNDS):  # new notices enqueued meanwhile are delivered too, within reason
        claimed = _claim(engine, now, None, False)
        if not claimed:
            break
        _round(engine, settings, now, counts, claimed)
    return counts


def _round(engine: Engine, settings: Settings, now: datetime, counts: dict[str, int],
           claimed: list[Any]) -> None:
    """Send the claimed notices and record the outcome, adding it to `counts`."""
    if not claimed:
        return
    try:
        with Session(engine) as s:
            done = _succeeded(s, [int(n.id) for n in claimed])
            contacts = _contacts(s, claimed)
    except Exception:  # a lost database: the round stays claimed and is picked up after its lease
        log.exception("notices %s: delivery round failed", ", ".join(str(n.id) for n in claimed))
        counts["failed"] += len(claimed)
        return
    stamp = utc_iso(now)
    targets: dict[tuple[str | None, bool], tuple[list[Target], int]] = {}
    pending: list[_Outcome] = []
    for n in claimed:
        try:
            where = (n.city, _wants_province(n))
            if where not in targets:
                targets[where] = _targets(contacts, *where, settings)
            outcome = _deliver_one(n, done, *targets[where], settings, now, stamp)
        except Exception:  # a bug must not stop the other notices
            log.exception("notice %s: delivery round failed", n.id)
            counts["failed"] += 1
            continue
        pending.append(outcome)
        if outcome.networked:  # a network send is recorded before the next one
            _record(engine, pending, counts)
            pending = []
    _record(engine, pending, counts)
