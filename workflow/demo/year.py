"""A realistic campaign year on a synthetic province, driven through the real services.

Every event goes through the same `apply()` a coordinator's command uses, so the
demo exercises the windows, guards, audit chain and (when present) the scheduler.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from models.db import UnitOfWork
from workflow.clock import SHANGHAI
from workflow.context import Context
from workflow.demo import synthetic
from workflow.domain import grades, rules
from workflow.domain.decide import Request
from workflow.domain.plan import Plan
from workflow.errors import CampaignError
from workflow.scheduling.tick import tick
from workflow.services import actors, announcements, enterprises
from workflow.services.actors import ActorRecord
from workflow.services.lifecycle import apply
from workflow.services.setup import init
from workflow.store.campaigns import campaign
from workflow.store.ledger import Ledger
from workflow.store.participations import Direct

PROVINCE_ADMIN, PROVINCE_REVIEWER = "省厅管理员", "省厅复核组"


class SteppingClock:
    """The demo's campaign clock: moved forward one day at a time."""

    def __init__(self, day: date) -> None:
        self.at = datetime.combine(day, time(10, 0), SHANGHAI)

    def now(self) -> datetime:
        return self.at


def short(city: str) -> str:
    return city.removesuffix("市") if len(city) <= 5 else "航空港区"


def coordinator(city: str) -> str:
    return f"{short(city)}联络员"


def reviewer(city: str) -> str:
    return f"{short(city)}评审组"


def expert(city: str) -> str:
    return f"{short(city)}专家"


@dataclass
class Sim:
    """What the simulation remembers of one participation (the database is the truth)."""

    code: str
    city: str
    target: str
    state: str = "unenrolled"
    next_day: date = date.min
    pre_assessed: bool = False
    planned: bool = False
    months: set[str] = field(default_factory=set)
    publicity_end: date | None = None
    needed_months: int = 2  # how many monthly evaluations before it is ready for acceptance
    starting: str = grades.UNRATED
    fallback: str | None = None  # a lower grade the province may certify instead of the target
    rejoin: bool = False  # withdraws, then enrols again (a new cycle)


_WEIGHT = {"B-": 2, "B": 5, "A": 2, "引领性": 3}


def _target(plan: Plan, industry: str, grade: str, rng: random.Random) -> str | None:
    """A target that would count as new (docs/rules.md#targets), on the industry's scale."""
    options = [g for g in rules.certifiable_grades(plan, industry, grade) if grades.counts_as_new(g, grade)]
    if not options:
        return None
    return rng.choices(options, weights=[_WEIGHT.get(g, 1) for g in options])[0]


def _actor_for(event: str, city: str) -> str:
    if event in ("record_pre_assessment", "submit_plan", "record_evaluation"):
        return expert(city)
    if event in ("pass_acceptance", "fail_acceptance"):
        return reviewer(city)
    if event in ("pass_recheck", "waive_recheck", "fail_recheck"):
        return PROVINCE_REVIEWER
    if event in ("certify", "disqualify"):
        return PROVINCE_ADMIN
    return coordinator(city)


def setup_province(ctx: Context, home: Path, n: int, seed: int) -> dict[str, Any]:
    init(ctx, simulation_db=True)
    ctx.actor = None
    actors.add(ctx, PROVINCE_ADMIN, ("province_admin",), None)
    ctx.actor = PROVINCE_ADMIN
    actors.add(ctx, PROVINCE_REVIEWER, ("province_reviewer",), None)
    for city in synthetic.CITIES:
        actors.add(ctx, coordinator(city), ("city_coordinator",), city)
        actors.add(ctx, reviewer(city), ("city_reviewer",), city)
        actors.add(ctx, expert(city), ("expert",), None)
    path = home / "enterprises.csv"
    synthetic.write_csv(path, synthetic.generate(n, seed))
    result = enterprises.import_file(ctx, path)
    return {"enterprises": result.imported, "file": str(path)}


def _choose(rows: list[dict[str, Any]], plan: Plan, rng: random.Random) -> list[Sim]:
    """Cities enrol volunteers roughly in proportion to their targets."""
    targets = plan.cities
    by_city: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_city.setdefault(r["city"], []).append(r)
    chosen = []
    for city, target in targets.items():
        pool = by_city.get(city, [])
        rng.shuffle(pool)
        want, taken = int(target * rng.uniform(0.85, 1.6)), 0
        for r in pool:
            t = _target(plan, r["industry"], r["grade"], rng)
            if t is None or taken >= want:
                continue
            if r["industry"] in plan.ule_industries and t == "A" and r["ule"] != "publicized":
                continue  # no A without the ULE retrofit publicised; a B would not count for a B starter
            lower = [g for g in rules.certifiable_grades(plan, r["industry"], r["grade"])
                     if grades.is_higher(t, g)]
            chosen.append(Sim(r["code"], city, t, needed_months=rng.choice((1, 2, 2, 3, 3, 4, 5, 6, 7)),
                              starting=r["grade"], fallback=lower[-1] if lower else None,
                              rejoin=rng.random() < 0.01))
            taken += 1
    return chosen


def _step(sim: Sim, today: date, rng: random.Random) -> Request | None:
    """The next thing that happens to this participation today, if anything."""
    s, code = sim.state, sim.code
    month = today.strftime("%Y-%m")
    if s in ("unenrolled", "withdrawn"):  # withdrawn: enrols again, a new cycle (有进有出)
        return Request(code=code, event="enroll", consent=f"自愿-{code[-6:]}", target_grade=sim.target)
    if rng.random() < 0.0004 or (sim.rejoin and s == "tracking"):
        return Request(code=code, event="withdraw", reason="企业自愿退出：生产计划调整")
    if s == "cultivation":
        return Request(code=code, event="start_assistance")
    if s == "assistance":
        if not sim.pre_assessed:
            return Request(code=code, event="record_pre_assessment",
                           data={"findings": "无组织排放管控、监测监控能力不足"})
        if not sim.planned:
            return Request(code=code, event="submit_plan", data={
                "summary": "对标A级企业提升治理水平", "measures": "更换高效除尘设施；建设门禁视频系统",
                "completion_date": (today + timedelta(days=rng.randint(40, 120))).isoformat()})
        return Request(code=code, event="begin_tracking")
    if s == "tracking":
        if month not in sim.months and today.day >= 10:
            return Request(code=code, event="record_evaluation", month=month)
        if len(sim.months) >= sim.needed_months and rng.random() < 0.08:
            return Request(code=code, event="submit_for_acceptance")
        return None
    if s == "acceptance":
        if rng.random() < 0.15:
            return Request(code=code, event="fail_acceptance", reason="治理设施运行不稳定，未达到差异化指标要求")
        return Request(code=code, event="pass_acceptance")
    if s == "provincial_recheck":
        roll = rng.random()
        if roll < 0.04:
            return Request(code=code, event="fail_recheck", reason="抽查发现无组织排放管控不到位")
        return Request(code=code, event="pass_recheck" if roll < 0.3 else "waive_recheck")
    if s == "certification":
        if sim.publicity_end is None:
            return Request(code=code, event="publicize")
        if today > sim.publicity_end:
            if rng.random() < 0.01:
                return Request(code=code, event="disqualify", reason="评级过程中存在违规行为，取消企业评级资格")
            achieved = sim.target if rng.random() < 0.93 or sim.fallback is None else sim.fallback
            return Request(code=code, event="certify", grade=achieved)
        if rng.random() < 0.01:
            return Request(code=code, event="object", reason="公示期间收到群众异议")
    return None


def _delay(event: str, rng: random.Random) -> int:
    return {"enroll": rng.randint(1, 20), "start_assistance": rng.randint(2, 8),
            "record_pre_assessment": rng.randint(2, 10), "submit_plan": rng.randint(1, 8),
            "record_evaluation": rng.randint(3, 12), "pass_acceptance": rng.randint(5, 20),
            "fail_acceptance": rng.randint(5, 12), "fail_recheck": rng.randint(5, 12),
            "object": rng.randint(5, 12)}.get(event, rng.randint(1, 6))


def _assign_experts(ctx: Context, sims: list[Sim]) -> None:
    """Experts act only on enterprises assigned to them: each city's expert gets its volunteers."""
    from workflow.services.access import assign

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
    sims = _choose(list(rows), plan, rng)
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
        done: list[dict[str, Any]] = []
        for sim in sims:
            if sim.next_day > day or sim.state in ("certified", "disqualified", "not_achieved"):
                continue
            if sim.state == "withdrawn" and not sim.rejoin:
                continue
            req = _step(sim, day, rng)
            if req is None:
                continue
            name = _actor_for(req.event, sim.city)
            if name not in cache:
                cache[name] = actors.lookup(s, name)
            try:
                result = apply(rows, ledger, ctx, camp, cache[name], req)
            except CampaignError:
                counts["refused"] += 1
                sim.next_day = day + timedelta(days=rng.randint(1, 7))
                continue
            counts[req.event] += 1
            done.append(result)
            sim.state = result["to_state"]
            sim.next_day = day + timedelta(days=_delay(req.event, rng))
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


def submission_days(ctx: Context, seed: int) -> dict[date, list[tuple[str, str, str]]]:
    """When each city files each deliverable: most a few days early, about one in seven late."""
    from workflow.services.deadlines import CONDITIONAL

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
        from workflow.services.needs import answer, open_need

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
    from workflow.services.deadlines import submit

    saved = ctx.actor
    try:
        for city, kind, period in todo:
            ctx.actor = coordinator(city)
            submit(ctx, city=city, kind=kind, period=period, file=None, note=f"{short(city)}报送",
                   generate=kind == "emission_list")  # the revised list, built from the data that day
    finally:
        ctx.actor = saved


def run_demo(ctx: Context, home: Path, *, n: int, seed: int,
             echo: Callable[[str], None]) -> dict[str, Any]:
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

    def day_work(day: date) -> None:
        """What a running `campaign scheduler run` does each day: cities file, the tick alerts and closes."""
        nonlocal closed
        submit_due(ctx, filings.get(day, []))
        if not needs.planned and day >= date(day.year, 6, 3):
            needs.plan(ctx, day, date(day.year, 10, 31))
        needs.work(ctx, day)
        done = tick(ctx, send=True)
        alerts.update(done["by_kind"])
        closed += done["closed"]

    counts = run_year(ctx, clock, seed=seed, on_day=day_work, on_month=month_line)
    from notifications import KINDS, outbox

    echo("全年提醒与催办：" + "，".join(f"{KINDS[k].title if k in KINDS else k} {v}" for k, v in sorted(alerts.items()))
         + f"（已投递到 {outbox(home, ctx.settings)}）")
    echo(f"年终关闭未完成的参与：{closed} 家 (not_achieved)")
    lists = write_lists(ctx, home / "清单")
    echo(f"认定应用：公示 {alerts_of(ctx, 'publicity')} 份、认定结果 {alerts_of(ctx, 'certification_result')} 份、"
         f"取消评级资格 {alerts_of(ctx, 'disqualified')} 份通知；正面清单 {lists['positive']} 家，"
         f"{lists['cities']} 个城市的应急减排清单（{home / '清单'}）")
    return {"counts": dict(counts), "alerts": dict(alerts), "closed": closed, "lists": lists}


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
