"""Per-enterprise obligations: the monthly evaluation of each participation in tracking, and
the publicity period that ended without objection (ready to certify)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
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


def _tracking(s: Session, camp: CampaignRef) -> dict[str, list[tuple[str, str]]]:
    """For each participation that ever entered tracking: its (effective_at, to_state) in audit order."""
    ever = select(_A.code).where(_A.campaign_year == camp.year, _A.to_state == "tracking")
    out: dict[str, list[tuple[str, str]]] = {}
    for code, to_state, at in s.execute(
            select(_A.code, _A.to_state, _A.effective_at)
            .where(_A.campaign_year == camp.year, _A.to_state.is_not(None), _A.code.in_(ever)).order_by(_A.seq)):
        out.setdefault(code, []).append((at, to_state))
    return out


def _state_at(events: list[tuple[str, str]], cut: str) -> str | None:
    """The state after the last event effective before `cut` (UTC ISO)."""
    before = [state for at, state in events if at < cut]
    return before[-1] if before else None


def evaluation_alerts(s: Session, camp: CampaignRef, today: date) -> tuple[list[alerts.Alert], set[date]]:
    """Each month that ended with a participation in tracking (per the audit log) and no evaluation
    for that month raises one alert to its city, on the first day of the next month."""
    months = _months(camp)
    wake = {day for _, day in months if day > today}
    history = _tracking(s, camp) if any(day <= today for _, day in months) else {}
    if not history:
        return [], wake
    rows = s.execute(
        select(_E.code, _E.name, _C.name.label("city"), _EV.month).select_from(table(Participation))
        .join(table(Enterprise), _E.id == _P.enterprise_id).join(table(City), _C.id == _E.city_id)
        .outerjoin(table(Evaluation), _EV.participation_id == _P.id)
        .where(_P.campaign_id == camp.id, _E.code.in_(list(history)))).all()
    info = {r.code: (r.name, r.city) for r in rows}
    done = {(r.code, r.month) for r in rows if r.month}
    found = []
    for month, day in months:
        if day > today:
            continue
        cut, due = utc_iso(datetime.combine(day, time(0, 0), SHANGHAI)), day - timedelta(days=1)
        for code in sorted(info):
            if (code, month) in done or _state_at(history[code], cut) != "tracking":
                continue
            name, city = info[code]
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
