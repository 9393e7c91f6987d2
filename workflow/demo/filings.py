"""The cities' side of the demo year: deliverables filed (a few late) and enterprises' needs (需求)
opened and answered, each by the city's coordinator through the real services."""

from __future__ import annotations

import random
from datetime import date, timedelta

from models.db import UnitOfWork
from workflow.context import Context
from workflow.demo.people import coordinator, short
from workflow.services import enterprises
from workflow.services.deadlines import CONDITIONAL, submit
from workflow.services.needs import answer, open_need
from workflow.store.campaigns import campaign


def submission_days(ctx: Context, seed: int) -> dict[date, list[tuple[str, str, str]]]:
    """When each city files each deliverable: most a few days early, about one in seven late."""
    rng = random.Random(seed + 1)
    with UnitOfWork(ctx.engine) as uow:
        plan = campaign(uow.session, ctx).plan
    days: dict[date, list[tuple[str, str, str]]] = {}
    for city in plan.cities:
        for d in plan.deliverables.values():
            if d.kind in CONDITIONAL:
                continue
            for due in d.dues:
                opens = date.fromisoformat(due.period + "-01") if len(d.dues) > 1 else plan.start
                day = (due.due + timedelta(days=rng.randint(1, 12)) if rng.random() < 0.15
                       else due.due - timedelta(days=rng.randint(0, 10)))
                days.setdefault(max(day, opens), []).append((city, d.kind, due.period))
    return days


NEEDS = ("申请帮扶除尘设施提标改造技术指导", "咨询无组织排放管控措施验收要求", "申请协调清洁运输车辆备案",
         "咨询在线监测数据联网要求", "申请专家现场指导一企一策方案编制")


class Needs:
    """Enterprise needs (需求): some enterprises in the pipeline ask; coordinators answer, a few late."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed + 2)
        self.opening: dict[date, list[tuple[str, str]]] = {}
        self.answering: dict[date, list[tuple[int, str]]] = {}
        self.planned = False

    def plan(self, ctx: Context, day: date, until: date) -> None:
        from workflow.domain.states import ACTIVE

        codes = [(r["code"], r["city"]) for r in enterprises.listing(ctx) if r["state"] in ACTIVE]
        for code, city in self.rng.sample(codes, k=len(codes) // 12):
            when = day + timedelta(days=self.rng.randint(0, (until - day).days))
            self.opening.setdefault(when, []).append((code, city))
        self.planned = True

    def work(self, ctx: Context, day: date) -> None:
        saved = ctx.actor
        try:
            for code, city in self.opening.pop(day, []):
                ctx.actor = coordinator(city)
                r = open_need(ctx, code, self.rng.choice(NEEDS))
                wait = self.rng.randint(1, 6) if self.rng.random() < 0.85 else self.rng.randint(8, 16)
                self.answering.setdefault(day + timedelta(days=wait), []).append((r["id"], city))
            for rid, city in self.answering.pop(day, []):
                ctx.actor = coordinator(city)
                answer(ctx, rid, "已安排专家对接，按方案推进。")
        finally:
            ctx.actor = saved


def submit_due(ctx: Context, todo: list[tuple[str, str, str]]) -> None:
    """File the day's deliverables, each by its city's coordinator (as `deliverable submit` does)."""
    saved = ctx.actor
    try:
        for city, kind, period in todo:
            ctx.actor = coordinator(city)
            submit(ctx, city=city, kind=kind, period=period, file=None, note=f"{short(city)}报送",
                   generate=kind == "emission_list")  # the revised list, built from the data that day
    finally:
        ctx.actor = saved


