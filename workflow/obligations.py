"""Per-enterprise obligations: the monthly evaluation of each participation in tracking, and
the publicity period that ended without objection (ready to certify)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlmodel import Session

from models.tables import AuditEntry, City, Enterprise, Evaluation, Participation, table

from . import alerts
from .campaigns import CampaignRef
from .clock import SHANGHAI, utc_iso

_A, _P, _E, _C, _EV = (table(m).c for m in (AuditEntry, Participation, Enterprise, City, Evaluation))


def _months(camp: CampaignRef) -> list[tuple[str, date]]:
    """(month, alert day) for every month an evaluation can be owed; alerts stop at the campaign's end."""
    opens = camp.plan.window("record_evaluation").opens or camp.plan.start
    months = alerts.month_days(opens.strftime("%Y-%m"), camp.plan.end.strftime("%Y-%m"))
    return [(m, day) for m, day in months if day <= camp.plan.end]


def _ever_tracking(camp: CampaignRef) -> Select[tuple[str | None]]:
    """The codes of the participations that ever entered tracking (per the audit log), as a subquery."""
    return select(_A.code).where(_A.campaign_year == camp.year, _A.to_state == "tracking")


def _owing(s: Session, camp: CampaignRef, month: str, cut: str) -> list[Any]:
    """(code, name, city) of the participations whose last state before `cut` (per the audit log)
    was tracking and that have no evaluation for `month`, by code. One query: the state at the
    cut is the to_state of the code's last audit entry effective before it."""
    last = (select(_A.code, _A.to_state,
                   func.row_number().over(partition_by=_A.code, order_by=_A.seq.desc()).label("rn"))
            .where(_A.campaign_year == camp.year, _A.to_state.is_not(None), _A.effective_at < cut,
                   _A.code.in_(_ever_tracking(camp)))
            .subquery())
    evaluated = select(_EV.participation_id).where(_EV.month == month)
    return list(s.execute(
        select(_E.code, _E.name, _C.name.label("city")).select_from(last)
        .join(table(Enterprise), _E.code == last.c.code)
        .join(table(Participation), (_P.enterprise_id == _E.id) & (_P.campaign_id == camp.id))
        .join(table(City), _C.id == _E.city_id)
        .where(last.c.rn == 1, last.c.to_state == "tracking", _P.id.not_in(evaluated))
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
