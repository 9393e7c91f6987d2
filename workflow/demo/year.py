"""A realistic campaign year on a synthetic province, driven through the real services.

Every event goes through the same `apply()` a coordinator's command uses, so the demo exercises the
windows, guards, audit chain and the scheduler's daily tick. Who the people are lives in
`workflow.demo.people`, how enterprises behave in `behaviour`, the cities' filings in `filings`.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from models.db import UnitOfWork
from workflow.clock import SHANGHAI
from workflow.context import Context
from workflow.demo import workspace as workspace_copy
from workflow.demo.behaviour import Sim, choose, delay, evidence_for, step
from workflow.demo.filings import Needs, submission_days, submit_due
from workflow.demo.people import PROVINCE_ADMIN, actor_for, expert, setup_province
from workflow.errors import CampaignError
from workflow.files import evidence as evidence_files
from workflow.scheduling.tick import tick
from workflow.services import actors, announcements, enterprises, evidence
from workflow.services.access import assign
from workflow.services.actors import ActorRecord
from workflow.services.lifecycle import Advanced, apply
from workflow.store.campaigns import campaign
from workflow.store.ledger import Ledger
from workflow.store.participations import Direct


class SteppingClock:
    """The demo's campaign clock: moved forward one day at a time."""

    def __init__(self, day: date) -> None:
        self.at = datetime.combine(day, time(10, 0), SHANGHAI)

    def now(self) -> datetime:
        return self.at


def _assign_experts(ctx: Context, sims: list[Sim]) -> None:
    """Experts act only on enterprises assigned to them: each city's expert gets its volunteers."""
    saved, ctx.actor = ctx.actor, PROVINCE_ADMIN
    try:
        for sim in sims:
            assign(ctx, sim.code, expert(sim.city))
    finally:
        ctx.actor = saved


def run_year(ctx: Context, clock: SteppingClock, *, seed: int,
             on_day: Callable[[date], None] | None = None,
             on_month: Callable[[date, Counter[str]], None] | None = None) -> Counter[str]:
    """Walk the calendar day by day; return counts of applied and refused events."""
    rng = random.Random(seed)
    with UnitOfWork(ctx.engine) as uow:
        plan = campaign(uow.session, ctx).plan
    rows = enterprises.listing(ctx)
    sims = choose(list(rows), plan, rng)
    _assign_experts(ctx, sims)
    start = plan.start + timedelta(days=5)
    for sim in sims:  # most enrol before 05-31; some late, in June
        sim.next_day = start + timedelta(days=rng.randint(0, 24) if rng.random() < 0.9 else rng.randint(27, 45))
    counts: Counter[str] = Counter()
    day = start
    cache: dict[str, ActorRecord] = {}
    while day <= plan.end + timedelta(days=1):
        clock.at = datetime.combine(day, time(10, 0), SHANGHAI)
        _apply_day(ctx, day, sims, rng, counts, cache)
        if on_day:
            on_day(day)
        if on_month and (day + timedelta(days=1)).day == 1:
            on_month(day, counts)
        day += timedelta(days=1)
    return counts


def _apply_day(ctx: Context, day: date, sims: list[Sim], rng: random.Random,
               counts: Counter[str], cache: dict[str, ActorRecord]) -> None:
    with UnitOfWork(ctx.engine) as uow:
        s = uow.session
        camp, ledger = campaign(s, ctx), Ledger(s, ctx)
        rows = Direct(s, camp.id)
        done: list[Advanced] = []
        for sim in sims:
            if sim.next_day > day or sim.state in ("certified", "disqualified", "not_achieved"):
                continue
            if sim.state == "withdrawn" and not sim.rejoin:
                continue
            req = step(sim, day, rng)
            if req is None:
                continue
            name = actor_for(req.event, sim.city)
            if name not in cache:
                cache[name] = actors.lookup(s, name)
            paper = _evidence(ctx, sim.code, req.event, day)
            if paper is not None:
                req = replace(req, evidence=(paper.evidence,))
            try:
                result = apply(rows, ledger, ctx, camp, cache[name], req)
            except CampaignError:
                counts["refused"] += 1
                sim.next_day = day + timedelta(days=rng.randint(1, 7))
                continue
            if paper is not None:  # the file and its row with the event, in the same transaction
                evidence.record(s, ctx, [paper], [])
            counts[req.event] += 1
            done.append(result)
            sim.state = result["to_state"]
            sim.next_day = day + timedelta(days=delay(req.event, rng))
            if req.event == "record_pre_assessment":
                sim.pre_assessed = True
            elif req.event == "submit_plan":
                sim.planned = True
            elif req.event == "record_evaluation" and req.month:
                sim.months.add(req.month)
            elif req.event == "publicize":
                sim.publicity_end = camp.plan.workcal.nth_workday_after(day, camp.plan.publicity_workdays)
            elif req.event in ("fail_acceptance", "fail_recheck", "object"):
                sim.publicity_end = None
            elif req.event == "withdraw":
                sim.next_day = day + timedelta(days=rng.randint(10, 30))
            elif req.event == "enroll" and sim.rejoin and sim.pre_assessed:  # the new cycle starts over
                sim.rejoin, sim.pre_assessed, sim.planned, sim.months = False, False, False, set()
        announcements.emit(s, ctx, camp, done)  # each city's 公示 / 认定结果 of the day, one notice each
        uow.commit()


def _evidence(ctx: Context, code: str, event: str, day: date) -> evidence_files.Checked | None:
    """The paperwork the demo files with this event (about one in ten pre-assessments, plans and
    acceptances), checked as an upload is."""
    paper = evidence_for(code, event, day)
    if paper is None:
        return None
    name, content = paper
    return evidence_files.check(name, content, evidence_files.max_bytes(ctx.settings))


def run_demo(ctx: Context, home: Path, *, n: int, seed: int, echo: Callable[[str], None],
             workspace: date | None = None) -> dict[str, Any]:
    """The year; with `workspace`, also a copy of the database as it stood that morning, with the
    demo's logins (`workflow.demo.workspace`), for `campaign serve`."""
    from models.db import schema_exists

    if schema_exists(ctx.engine):
        with UnitOfWork(ctx.engine) as uow:
            from sqlalchemy import func, select

            from models.tables import Enterprise

            if uow.session.execute(select(func.count()).select_from(Enterprise)).scalar_one():
                from workflow.errors import Refused

                raise Refused("演示需要空数据库：请在新目录运行或删除 campaign.db (demo needs an empty database)")
    clock = SteppingClock(date(2024, 5, 6))
    ctx.clock = clock
    echo(f"构建模拟省份：{n} 家企业 …")
    info = setup_province(ctx, home, n, seed)
    echo(f"已导入 {info['enterprises']} 家企业（{info['file']}）")

    def month_line(day: date, counts: Counter[str]) -> None:
        done = sum(v for k, v in counts.items() if k != "refused")
        echo(f"{day:%Y-%m} 月末：累计事件 {done}，其中认定 {counts['certify']}，"
             f"验收通过 {counts['pass_acceptance']}，被规则拒绝的尝试 {counts['refused']}")

    filings = submission_days(ctx, seed)
    needs = Needs(seed)
    alerts: Counter[str] = Counter()
    closed = 0
    copy: Path | None = None

    def day_work(day: date) -> None:
        """What a running `campaign scheduler run` does each day: cities file, the tick alerts and closes."""
        nonlocal closed, copy
        submit_due(ctx, filings.get(day, []))
        if not needs.planned and day >= date(day.year, 6, 3):
            needs.plan(ctx, day, date(day.year, 10, 31))
        needs.work(ctx, day)
        done = tick(ctx, send=True)
        alerts.update(done["by_kind"])
        closed += done["closed"]
        if workspace and day == workspace - timedelta(days=1):  # the evening before: the morning of `workspace`
            copy = workspace_copy.snapshot(ctx, home)

    counts = run_year(ctx, clock, seed=seed, on_day=day_work, on_month=month_line)
    from notifications import KINDS, outbox

    echo("全年提醒与催办：" + "，".join(f"{KINDS[k].title if k in KINDS else k} {v}" for k, v in sorted(alerts.items()))
         + f"（已投递到 {outbox(home, ctx.settings)}）")
    echo(f"年终关闭未完成的参与：{closed} 家 (not_achieved)")
    lists = write_lists(ctx, home / "清单")
    echo(f"认定应用：公示 {alerts_of(ctx, 'publicity')} 份、认定结果 {alerts_of(ctx, 'certification_result')} 份、"
         f"取消评级资格 {alerts_of(ctx, 'disqualified')} 份通知；正面清单 {lists['positive']} 家，"
         f"{lists['cities']} 个城市的应急减排清单（{home / '清单'}）")
    people = workspace_copy.open_logins(ctx, copy, workspace) if copy and workspace else []
    return {"counts": dict(counts), "alerts": dict(alerts), "closed": closed, "lists": lists,
            "workspace": {"db": str(copy), "now": workspace_copy.held_at(workspace), "logins": people,
                          "password": workspace_copy.PASSWORD} if copy and workspace else None}


def alerts_of(ctx: Context, kind: str) -> int:
    """How many notices of `kind` the year produced (they go out through the outbox like the rest)."""
    from sqlalchemy import func, select

    from models.notices import Notice

    with UnitOfWork(ctx.engine) as uow:
        return int(uow.session.execute(select(func.count()).select_from(Notice)
                                       .where(Notice.kind == kind)).scalar_one())  # type: ignore[arg-type]


def write_lists(ctx: Context, folder: Path) -> dict[str, int]:
    """认定应用's outputs at year end: the province's 正面清单 and every city's 应急减排清单."""
    from workflow.reports.exports import certification_list
    from workflow.reports.writers import write

    folder.mkdir(parents=True, exist_ok=True)
    sheets, rows = certification_list(ctx, "positive-list")
    write(sheets, folder / "正面清单.xlsx", simulation=ctx.simulation)
    city_sheets, _ = certification_list(ctx, "emission-list", all_cities=True)
    write(city_sheets, folder / "应急减排清单.xlsx", simulation=ctx.simulation)
    return {"positive": len(rows), "cities": len(city_sheets)}
