"""The cities' deliverables: submit one, list every deadline with its status, and their alerts."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypedDict

from sqlalchemy import func, insert, select
from sqlmodel import Session

from models.db import UnitOfWork
from models.deadlines import Submission
from models.tables import City, Enterprise, Participation, table
from workflow.clock import utc_iso
from workflow.context import Context
from workflow.domain import alerts
from workflow.domain.plan import Deliverable, Due
from workflow.domain.states import ACTIVE
from workflow.errors import InvalidInput, Refused
from workflow.files.documents import Stored, discard, store
from workflow.reports import emission_list
from workflow.reports.sheets import city_title
from workflow.scheduling import obligations
from workflow.services import permissions
from workflow.services.actors import city_id, lookup
from workflow.store import campaigns
from workflow.store.campaigns import CampaignRef
from workflow.store.ledger import Entry, Ledger, audited

_S, _C, _P = table(Submission).c, table(City).c, table(Participation).c
_E = table(Enterprise).c
CONDITIONAL = {"resubmission"}  # owed only by cities with a failed or contested participation still open
TRACKED = {"attachment4"}  # a month's report is owed only by cities with someone in tracking that month
GENERATED = {emission_list.KIND: emission_list.generate}  # kinds `--generate` builds from the data


@dataclass(frozen=True)
class Slot:
    city: str
    deliverable: Deliverable
    due: Due
    first: date | None  # first submission day
    count: int
    owed: bool = True  # False: nothing to report (nobody in tracking that month), no reminder

    def status(self, today: date) -> str:
        if self.first is not None:
            return "submitted" if self.first <= self.due.due or not self.owed else "late"
        if not self.owed:
            return "not_owed"
        return "overdue" if today > self.due.due else "pending"


class Submitted(TypedDict):
    city: str
    kind: str
    title: str
    period: str
    due: str  # ISO dates
    submitted_on: str
    late: bool
    days_late: int
    file: str | None
    sha256: str | None
    stored_path: str | None
    generated: bool
    seq: int


class DeadlineRow(TypedDict):
    """One city × deliverable × due date with its status (submitted, late, overdue, pending, not_owed)."""

    city: str
    kind: str
    attachment: str
    title: str
    period: str
    due: str
    status: str
    submitted_on: str | None
    submissions: int
    days_left: int | None  # pending only
    days_overdue: int | None  # overdue only
    days_late: int | None  # late only


def submit(ctx: Context, *, city: str, kind: str, period: str | None, file: str | None,
           note: str, generate: bool = False) -> Submitted:
    """Record a city's submission; the file (given, or with `generate` built from the data now) is
    copied into the document store. Late is allowed. All or nothing: if the submission is not
    recorded, the file it copied is removed again."""
    stored: list[Stored] = []
    try:
        return audited(ctx, "submit_deliverable", None,
                       lambda s: _submit(s, ctx, city, kind, period, file, note, generate, stored))
    except BaseException:
        for doc in stored:
            discard(ctx.home, doc)
        raise


def _submit(s: Session, ctx: Context, city: str, kind: str, period: str | None, file: str | None,
            note: str, generate: bool, stored: list[Stored]) -> Submitted:
    actor = lookup(s, ctx.actor)
    camp = campaigns.campaign(s, ctx)
    d = camp.plan.deliverables.get(kind)
    if d is None:
        raise InvalidInput(f"未知报送材料 '{kind}'，可选：{', '.join(camp.plan.deliverables)} (unknown kind)")
    if generate and file:
        raise InvalidInput("--file 与 --generate 只能选一个 (either a file or a generated one)")
    if generate and kind not in GENERATED:
        raise InvalidInput(f"--generate 只适用于 {'、'.join(GENERATED)}；{kind} 请用 --file 附上文件 "
                           "(nothing to generate)")
    due = d.due_for(period)
    cid, cname = city_id(s, city)
    if cname not in camp.plan.cities:
        raise InvalidInput(f"{cname} 不是 {camp.year} 年行动的报送单位")
    role = permissions.authorize(s, actor, "submit_deliverable", city=cname, code=None)
    today = ctx.today
    if len(d.dues) > 1 and due.period > today.strftime("%Y-%m"):
        raise Refused(f"{kind} 的 {due.period} 期次尚未开始（今天 {today}），请检查 --period", rule="period")
    stem = f"{kind}-{due.period}"
    doc: Stored | None = None
    if generate:
        with tempfile.TemporaryDirectory(prefix="campaign-") as tmp:
            doc = store(ctx.home, camp.year, cname, stem, GENERATED[kind](s, camp, cname, today, Path(tmp),
                                                                              simulation=ctx.simulation))
    elif file:
        doc = store(ctx.home, camp.year, cname, stem, Path(file))
    stored.extend([doc] if doc else [])
    late = today > due.due
    payload = {"kind": kind, "period": due.period, "due": due.due.isoformat(), "late": late,
               "submitted_on": today.isoformat(),
               **({"file": doc.name, "sha256": doc.sha256, "path": doc.path} if doc else {}),
               **({"generated": True} if generate else {})}
    seq, _ = Ledger(s, ctx).append(Entry(campaign_year=camp.year, city=cname, event="submit_deliverable",
                                         actor=actor.name, role=role, reason=note, payload=payload))
    s.connection().execute(insert(table(Submission)).values(
        campaign_id=camp.id, city_id=cid, kind=kind, period=due.period, due=due.due, submitted_on=today,
        submitted_at=utc_iso(ctx.now()), late=late, actor=actor.name, note=note, audit_seq=seq,
        file_name=doc.name if doc else None, sha256=doc.sha256 if doc else None,
        stored_path=doc.path if doc else None))
    return {"city": cname, "kind": kind, "title": city_title(d.title, cname), "period": due.period,
            "due": due.due.isoformat(), "submitted_on": today.isoformat(), "late": late,
            "days_late": max(0, (today - due.due).days), "file": doc.name if doc else None,
            "sha256": doc.sha256 if doc else None, "stored_path": doc.path if doc else None,
            "generated": generate, "seq": seq}


def _owing(s: Session, camp: CampaignRef) -> set[str]:
    """Cities with a failed or contested participation still open (they owe the re-submission)."""
    rows = s.execute(select(_C.name).select_from(table(Participation))
                     .join(table(Enterprise), _E.id == _P.enterprise_id)
                     .join(table(City), _C.id == _E.city_id)
                     .where(_P.campaign_id == camp.id, _P.failures > 0, _P.state.in_(ACTIVE)).distinct())
    return set(rows.scalars())


def slots(s: Session, camp: CampaignRef, as_of: date | None = None, *, conditional: bool = True) -> list[Slot]:
    """Every city × deliverable × due date of the campaign, with its submissions (up to `as_of`);
    `conditional=False` skips the conditional deliverables nobody has submitted (saves a query)."""
    q = (select(_C.name, _S.kind, _S.period, func.min(_S.submitted_on), func.count())
         .join(table(City), _C.id == _S.city_id).where(_S.campaign_id == camp.id)
         .group_by(_C.name, _S.kind, _S.period))
    if as_of is not None:
        q = q.where(_S.submitted_on <= as_of)
    done = {(r[0], r[1], r[2]): (r[3], int(r[4])) for r in s.execute(q)}
    owing = _owing(s, camp) if conditional and CONDITIONAL & set(camp.plan.deliverables) else set()
    months = [x.period for k in TRACKED & set(camp.plan.deliverables) for x in camp.plan.deliverables[k].dues]
    tracked = obligations.tracked_months(s, camp, months) if months else set()
    out = []
    for city in camp.plan.cities:
        for d in camp.plan.deliverables.values():
            for due in d.dues:
                first, count = done.get((city, d.kind, due.period), (None, 0))
                if d.kind in CONDITIONAL and city not in owing and not count:
                    continue
                out.append(Slot(city, d, due, first, count, d.kind not in TRACKED or (city, due.period) in tracked))
    return out


def row(slot: Slot, today: date) -> DeadlineRow:
    status, due = slot.status(today), slot.due.due
    return {"city": slot.city, "kind": slot.deliverable.kind, "attachment": slot.deliverable.attachment,
            "title": city_title(slot.deliverable.title, slot.city), "period": slot.due.period,
            "due": due.isoformat(),
            "status": status, "submitted_on": slot.first.isoformat() if slot.first else None,
            "submissions": slot.count,
            "days_left": (due - today).days if status == "pending" else None,
            "days_overdue": (today - due).days if status == "overdue" else None,
            "days_late": (slot.first - due).days if status == "late" and slot.first else None}


def listing(ctx: Context, *, city: str | None = None, overdue: bool = False,
            upcoming: int | None = None) -> list[DeadlineRow]:
    if upcoming is not None and upcoming < 0:
        raise InvalidInput("--upcoming 应为非负天数")
    with UnitOfWork(ctx.engine) as uow:
        s = uow.session
        camp = campaigns.campaign(s, ctx)
        name = city_id(s, city)[1] if city else None
        rows = [row(x, ctx.today) for x in slots(s, camp, ctx.today) if name is None or x.city == name]
    if overdue:
        rows = [r for r in rows if r["status"] == "overdue"]
    if upcoming is not None:
        rows = [r for r in rows if r["status"] == "pending" and r["days_left"] is not None
                and r["days_left"] <= upcoming]
    order = {c: i for i, c in enumerate(camp.plan.cities)}
    return sorted(rows, key=lambda r: (r["due"], order[r["city"]], r["kind"]))


def due_alerts(s: Session, camp: CampaignRef, today: date) -> tuple[list[alerts.Alert], set[date]]:
    """The reminder or overdue notice each unsubmitted deliverable owes today, and future alert days."""
    plan, found, wake = camp.plan, [], set()
    lead = timedelta(days=max(plan.reminder_days, default=0))
    conditional = [d for k, d in plan.deliverables.items() if k in CONDITIONAL]
    needed = any(today >= x.due - lead for c in conditional for x in c.dues)
    for c in conditional if not needed else ():  # not yet alerting: plan their days without the query
        for x in c.dues:
            wake.update(alerts.future(alerts.series(x.due, plan.reminder_days, plan.overdue_repeat_days,
                                                    plan.end), today))
    for slot in slots(s, camp, today, conditional=needed):
        if slot.first is not None:
            continue
        points = alerts.series(slot.due.due, plan.reminder_days, plan.overdue_repeat_days, plan.end)
        wake.update(alerts.future(points, today))
        p = alerts.latest(points, today) if slot.owed else None  # a nil return is not reminded
        if p is None:
            continue
        d, due = slot.deliverable, slot.due.due
        ctx: dict[str, Any] = {"city": slot.city, "deliverable": city_title(d.title, slot.city),
                               "attachment": d.attachment or "",
               "period": slot.due.period, "due": due.isoformat()}
        ctx.update({"days_overdue": (today - due).days} if p.overdue else {"days_left": (due - today).days})
        kind = "overdue" if p.overdue else "reminder"
        found.append(alerts.Alert(kind, f"{kind}:{d.kind}:{slot.due.period}:{slot.city}:{p.tag}",
                                  slot.city, None, due, ctx))
    return found, wake
