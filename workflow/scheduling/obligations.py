"""Per-enterprise obligations: the monthly evaluation of each participation in tracking, the months
for which a city owes 附件4 (someone of its in tracking), and the publicity period that ended
without objection (ready to certify)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import String, func, literal, select, union_all
from sqlmodel import Session

from models.tables import AuditEntry, City, Enterprise, Evaluation, Participation, table
from workflow.clock import SHANGHAI, utc_iso
from workflow.domain import alerts
from workflow.store.campaigns import CampaignRef

_AU, _P, _E, _C, _EV = (table(m).c for m in (AuditEntry, Participation, Enterprise, City, Evaluation))


def _months(camp: CampaignRef) -> list[tuple[str, date]]:
    """(month, alert day) for every month an evaluation can be owed; alerts stop at the campaign's end."""
    opens = camp.plan.window("record_evaluation").opens or camp.plan.start
    months = alerts.month_days(opens.strftime("%Y-%m"), camp.plan.end.strftime("%Y-%m"))
    return [(m, day) for m, day in months if day <= camp.plan.end]


def spans(changes: list[tuple[str, str]]) -> list[tuple[str, str | None]]:
    """The [entered, left) periods in tracking of one enterprise, from its state changes in log order
    (to_state, effective_at); `left` is None while it is still in tracking (pure)."""
    out: list[tuple[str, str | None]] = []
    entered: str | None = None
    for to_state, at in changes:
        if to_state == "tracking" and entered is None:
            entered = at
        elif to_state != "tracking" and entered is not None:
            out.append((entered, at))
            entered = None
    return [*out, (entered, None)] if entered is not None else out


def _month_cuts(month: str) -> tuple[str, str]:
    """The month's first instant and the next month's first instant (Asia/Shanghai), stored form."""
    ((_, after),) = alerts.month_days(month, month)
    first = date.fromisoformat(f"{month}-01")
    return (utc_iso(datetime.combine(first, time(0, 0), SHANGHAI)),
            utc_iso(datetime.combine(after, time(0, 0), SHANGHAI)))


def _changes(camp: CampaignRef) -> Any:
    """Every state change of the campaign's participations (per the audit log), with when it took
    effect (`entered`) and when the next change of the same participation did (`left`, NULL for the
    last): the state holds over [entered, left). One pass over the log in SQL (a window function over
    the index ix_audit_state_changes, already in (code, seq) order), so that only the answer comes
    back to Python. (Narrowing it first to the codes that ever entered tracking costs more than it saves.)"""
    return (select(_AU.code, _AU.to_state, _AU.effective_at.label("entered"),
                   func.lead(_AU.effective_at).over(partition_by=_AU.code, order_by=_AU.seq).label("left"))
            .where(_AU.campaign_year == camp.year, _AU.to_state.is_not(None))
            .subquery("changes"))


def _table(rows: Sequence[tuple[str, ...]], names: tuple[str, ...]) -> Any:
    """A few literal rows as a subquery (UNION ALL of one-row SELECTs: SQLite and PostgreSQL alike)."""
    selects = [select(*(literal(v, String).label(n) for v, n in zip(r, names, strict=True))) for r in rows]
    return (selects[0] if len(selects) == 1 else union_all(*selects)).subquery("months")


def tracked_months(s: Session, camp: CampaignRef, months: list[str]) -> set[tuple[str, str]]:
    """(city, month) for each of `months` in which at least one of the city's participations was in
    tracking at some time (per the audit log): it entered tracking before the month ended and had
    not left it before the month began (the periods of `spans`, one per tracking entry). Only such a
    month owes the city's 附件4 (nil returns: a city with nobody in tracking that month owes nothing)."""
    if not months:
        return set()
    ch = _changes(camp)
    mo = _table([(m, *_month_cuts(m)) for m in dict.fromkeys(months)], ("month", "first", "after"))
    rows = s.execute(
        select(_C.name, mo.c.month).distinct().select_from(ch)
        .join(mo, (ch.c.entered < mo.c.after) & (ch.c.left.is_(None) | (ch.c.left >= mo.c.first)))
        .join(table(Enterprise), _E.code == ch.c.code).join(table(City), _C.id == _E.city_id)
        .where(ch.c.to_state == "tracking"))
    return {(str(city), str(month)) for city, month in rows}


def _owing(s: Session, camp: CampaignRef, cuts: list[tuple[str, str]]) -> list[Any]:
    """(month, code, name, city) of the participations whose last state before the month's cut (per
    the audit log) was tracking and that have no evaluation for that month, by month and code, for
    every (month, cut) at once. The state at a cut is the to_state of the code's last audit entry
    effective before it: the change in force over [entered, left) with entered < cut <= left (effective
    times of one participation never go back, so one change per code holds at a cut)."""
    ch = _changes(camp)
    mo = _table(cuts, ("month", "cut"))
    evaluated = (select(_EV.id)  # that month's evaluation of the participation's current cycle
                 .where(_EV.participation_id == _P.id, _EV.cycle == _P.cycle, _EV.month == mo.c.month).exists())
    return list(s.execute(
        select(mo.c.month, _E.code, _E.name, _C.name.label("city")).select_from(ch)
        .join(mo, (ch.c.entered < mo.c.cut) & (ch.c.left.is_(None) | (ch.c.left >= mo.c.cut)))
        .join(table(Enterprise), _E.code == ch.c.code)
        .join(table(Participation), (_P.enterprise_id == _E.id) & (_P.campaign_id == camp.id))
        .join(table(City), _C.id == _E.city_id)
        .where(ch.c.to_state == "tracking", ~evaluated)
        .order_by(mo.c.month, _E.code)))


def evaluation_alerts(s: Session, camp: CampaignRef, today: date) -> tuple[list[alerts.Alert], set[date]]:
    """Each month that ended with a participation in tracking (per the audit log) and no evaluation
    for that month raises one alert to its city, on the first day of the next month."""
    months = _months(camp)
    wake = {day for _, day in months if day > today}
    due = {month: day for month, day in months if day <= today}
    if not due:
        return [], wake
    cuts = [(m, utc_iso(datetime.combine(day, time(0, 0), SHANGHAI))) for m, day in due.items()]
    found = []
    for month, code, name, city in _owing(s, camp, cuts):
        by = due[month] - timedelta(days=1)
        found.append(alerts.Alert(
            "evaluation_missing", f"evaluation_missing:{code}:{month}", city, code, by,
            {"city": city, "code": code, "enterprise_name": name, "period": month, "due": by.isoformat()}))
    return found, wake


def certify_alerts(s: Session, camp: CampaignRef, today: date) -> tuple[list[alerts.Alert], set[date]]:
    """Participations whose publicity ended without objection: ready to certify (the day after)."""
    rows = s.execute(
        select(_E.code, _E.name, _C.name.label("city"), _P.target_grade, _P.publicity_start, _P.publicity_end)
        .select_from(table(Participation)).join(table(Enterprise), _E.id == _P.enterprise_id)
        .join(table(City), _C.id == _E.city_id)
        .where(_P.campaign_id == camp.id, _P.state == "certification", _P.publicity_end.is_not(None))).all()
    found, wake = [], set()
    for r in rows:
        day = r.publicity_end + timedelta(days=1)
        if day > camp.plan.end:
            continue
        if day > today:
            wake.add(day)
            continue
        found.append(alerts.Alert(
            "ready_to_certify", f"ready_to_certify:{r.code}:{r.publicity_end.isoformat()}", r.city, r.code,
            r.publicity_end,
            {"city": r.city, "code": r.code, "enterprise_name": r.name, "grade": r.target_grade,
             "publicity_start": r.publicity_start.isoformat(), "publicity_end": r.publicity_end.isoformat()}))
    return found, wake
