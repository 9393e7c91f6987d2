"""Per-enterprise obligations: the monthly evaluation of each participation in tracking, the months
for which a city owes 附件4 (someone of its in tracking), and the publicity period that ended
without objection (ready to certify)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
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


def _ever_tracking(camp: CampaignRef) -> Select[tuple[str | None]]:
    """The codes of the participations that ever entered tracking (per the audit log), as a subquery."""
    return select(_AU.code).where(_AU.campaign_year == camp.year, _AU.to_state == "tracking")


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


def tracked_months(s: Session, camp: CampaignRef, months: list[str]) -> set[tuple[str, str]]:
    """(city, month) for each of `months` in which at least one of the city's participations was in
    tracking at some time (per the audit log): it entered tracking before the month ended and had
    not left it before the month began. Only such a month owes the city's 附件4 (nil returns: a city
    with nobody in tracking that month owes nothing)."""
    rows = s.execute(
        select(_AU.code, _C.name, _AU.to_state, _AU.effective_at)
        .join(table(Enterprise), _E.code == _AU.code).join(table(City), _C.id == _E.city_id)
        .where(_AU.campaign_year == camp.year, _AU.to_state.is_not(None), _AU.code.in_(_ever_tracking(camp)))
        .order_by(_AU.code, _AU.seq)).all()
    changes: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for code, city, to_state, at in rows:
        changes.setdefault((code, city), []).append((to_state, at))
    cuts = {m: _month_cuts(m) for m in months}
    return {(city, m) for (_, city), states in changes.items() for entered, left in spans(states)
            for m, (first, after) in cuts.items() if entered < after and (left is None or left >= first)}


def _owing(s: Session, camp: CampaignRef, month: str, cut: str) -> list[Any]:
    """(code, name, city) of the participations whose last state before `cut` (per the audit log)
    was tracking and that have no evaluation for `month`, by code. One query: the state at the
    cut is the to_state of the code's last audit entry effective before it."""
    last = (select(_AU.code, _AU.to_state,
                   func.row_number().over(partition_by=_AU.code, order_by=_AU.seq.desc()).label("rn"))
            .where(_AU.campaign_year == camp.year, _AU.to_state.is_not(None), _AU.effective_at < cut,
                   _AU.code.in_(_ever_tracking(camp)))
            .subquery())
    evaluated = (select(_EV.id)  # this month's evaluation of the participation's current cycle
                 .where(_EV.participation_id == _P.id, _EV.cycle == _P.cycle, _EV.month == month).exists())
    return list(s.execute(
        select(_E.code, _E.name, _C.name.label("city")).select_from(last)
        .join(table(Enterprise), _E.code == last.c.code)
        .join(table(Participation), (_P.enterprise_id == _E.id) & (_P.campaign_id == camp.id))
        .join(table(City), _C.id == _E.city_id)
        .where(last.c.rn == 1, last.c.to_state == "tracking", ~evaluated)
        .order_by(_E.code)).all())


def evaluation_alerts(s: Session, camp: CampaignRef, today: date) -> tuple[list[alerts.Alert], set[date]]:
    """Each month that ended with a participation in tracking (per the audit log) and no evaluation
    for that month raises one alert to its city, on the first day of the next month."""
    months = _months(camp)
    wake = {day for _, day in months if day > today}
    found = []
    for month, day in months:
        if day > today:
            continue
        cut, due = utc_iso(datetime.combine(day, time(0, 0), SHANGHAI)), day - timedelta(days=1)
        for code, name, city in _owing(s, camp, month, cut):
            found.append(alerts.Alert(
                "evaluation_missing", f"evaluation_missing:{code}:{month}", city, code, due,
                {"city": city, "code": code, "enterprise_name": name, "period": month, "due": due.isoformat()}))
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
