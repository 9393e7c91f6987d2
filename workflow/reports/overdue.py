"""The overdue matrix: city × deliverable (pending, late, overdue, done) from the deadlines
service's slots (the cities' submissions), a column for the enterprises' requests (需求, answered
within N working days), and the enterprises with missing monthly evaluations or overdue requests."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from typing import TypedDict

from sqlmodel import Session

from models.db import UnitOfWork
from workflow.context import Context
from workflow.scheduling import obligations
from workflow.services import deadlines, needs
from workflow.services.actors import city_id
from workflow.store.campaigns import CampaignRef, campaign

REQUESTS = "requests"
ISSUE_ZH = {"missing_evaluation": "缺月度评估", "overdue_request": "诉求逾期未答复"}
STATUS = {"submitted": "done", "late": "late", "overdue": "overdue", "pending": "pending",
          "not_owed": "not_owed"}  # not_owed: 附件4 of a month nobody of the city was in tracking
REQUEST_STATUS = {"answered": "done", "late": "late", "overdue": "overdue", "open": "pending"}
SHORT = {"emission_list": "减排清单", "resubmission": "再次认定", REQUESTS: "企业诉求"}


class Issue(TypedDict):
    """An enterprise with a missing monthly evaluation or an overdue request."""

    code: str
    name: str
    city: str
    issue: str  # a key of ISSUE_ZH
    issue_zh: str
    detail: str


class MatrixColumn(TypedDict):
    kind: str  # a deliverable, or REQUESTS
    label: str
    title: str
    dues: list[str]  # ISO dates


class MatrixLine(TypedDict):
    city: str
    cells: dict[str, dict[str, int]]  # kind -> status (pending, late, overdue, done, not_owed) -> count


class OverdueMatrix(TypedDict):
    year: int
    as_of: str
    deliverables: list[MatrixColumn]
    matrix: list[MatrixLine]
    totals: dict[str, int]
    enterprises: list[Issue]


def _missing(s: Session, camp: CampaignRef, cities: list[str], today: date) -> list[Issue]:
    """Participations in tracking when a month ended with no evaluation for it (the same rule the
    scheduler's evaluation_missing notices use), one line per enterprise."""
    months: dict[str, list[str]] = defaultdict(list)
    names: dict[str, tuple[str, str]] = {}
    for a in obligations.evaluation_alerts(s, camp, today)[0]:
        if a.city in cities and a.code:
            months[a.code].append(a.context["period"])
            names[a.code] = (a.context["enterprise_name"], a.city or "")
    return [{"code": code, "name": names[code][0], "city": names[code][1], "issue": "missing_evaluation",
             "issue_zh": ISSUE_ZH["missing_evaluation"], "detail": "、".join(sorted(ms))}
            for code, ms in months.items()]


def matrix(ctx: Context, city: str | None = None) -> OverdueMatrix:
    today = ctx.today
    with UnitOfWork(ctx.engine) as uow:
        s = uow.session
        camp = campaign(s, ctx)
        cities = [city_id(s, city)[1]] if city else list(camp.plan.cities)
        slots = [x for x in deadlines.slots(s, camp) if x.city in cities]
        enterprises = _missing(s, camp, cities, today)
    asked = [r for r in needs.listing(ctx) if r["city"] in cities]
    cells: dict[str, dict[str, Counter[str]]] = {c: defaultdict(Counter) for c in cities}
    for slot in slots:  # the deadlines service's own statuses, so both commands agree
        cells[slot.city][slot.deliverable.kind][STATUS[slot.status(today)]] += 1
    for r in asked:  # the requests service's statuses: open, overdue, answered, late
        cells[r["city"]][REQUESTS][REQUEST_STATUS[r["status"]]] += 1
        if r["status"] == "overdue":
            enterprises.append({"code": r["code"], "name": r["enterprise"], "city": r["city"],
                                "issue": "overdue_request", "issue_zh": ISSUE_ZH["overdue_request"],
                                "detail": f"#{r['id']} {r['subject']}（{r['received']} 收到，{r['due']} 到期）"})
    cols: list[MatrixColumn] = [
        {"kind": d.kind, "label": d.attachment or SHORT.get(d.kind, d.title[:6]), "title": d.title,
         "dues": [x.due.isoformat() for x in d.dues]} for d in camp.plan.deliverables.values()]
    cols.append({"kind": REQUESTS, "label": SHORT[REQUESTS],
                 "title": f"企业需求{camp.plan.request_reply_workdays}个工作日内限时答复", "dues": []})
    order = {c: i for i, c in enumerate(cities)}
    enterprises.sort(key=lambda e: (order.get(e["city"], 99), e["issue"], e["code"]))
    totals: Counter[str] = Counter()
    for per_city in cells.values():
        for counter in per_city.values():
            totals.update(counter)
    return {"year": camp.year, "as_of": today.isoformat(), "deliverables": cols,
            "matrix": [{"city": c, "cells": {k: dict(v) for k, v in cells[c].items()}} for c in cities],
            "totals": {k: totals[k] for k in ("pending", "late", "overdue", "done")},
            "enterprises": enterprises}
