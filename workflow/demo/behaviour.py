"""How the demo's enterprises behave: who volunteers, with which target, and what happens to each
participation on a given day (pure: a seeded random generator, no database)."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from workflow.domain import grades, rules
from workflow.domain.decide import Request
from workflow.domain.plan import Plan


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


def choose(rows: Sequence[Mapping[str, Any]], plan: Plan, rng: random.Random) -> list[Sim]:
    """Cities enrol volunteers roughly in proportion to their targets."""
    targets = plan.cities
    by_city: dict[str, list[Mapping[str, Any]]] = {}
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


def step(sim: Sim, today: date, rng: random.Random) -> Request | None:
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


def delay(event: str, rng: random.Random) -> int:
    return {"enroll": rng.randint(1, 20), "start_assistance": rng.randint(2, 8),
            "record_pre_assessment": rng.randint(2, 10), "submit_plan": rng.randint(1, 8),
            "record_evaluation": rng.randint(3, 12), "pass_acceptance": rng.randint(5, 20),
            "fail_acceptance": rng.randint(5, 12), "fail_recheck": rng.randint(5, 12),
            "object": rng.randint(5, 12)}.get(event, rng.randint(1, 6))




# Events whose paperwork the demo attaches as evidence (佐证材料), about one in ten of them: the file's
# name and the line its page says. Chosen by the code and event, not by the year's random generator,
# so the year's figures are the same with or without the files.
EVIDENCE = {"record_pre_assessment": ("预评估报告", "Pre-assessment report"),
            "submit_plan": ("一企一策方案", "One enterprise, one plan"),
            "pass_acceptance": ("验收会议纪要", "Acceptance meeting minutes"),
            "fail_acceptance": ("验收会议纪要", "Acceptance meeting minutes")}


def evidence_for(code: str, event: str, day: date) -> tuple[str, bytes] | None:
    """(file name, a small PDF) when the demo files evidence with this event, else None."""
    import zlib

    kind = EVIDENCE.get(event)
    if kind is None or zlib.crc32(f"{code}/{event}".encode()) % 10:
        return None
    return f"{kind[0]}-{code[-6:]}.pdf", evidence_pdf(f"{kind[1]} - {code} - {day.isoformat()} (simulation)")


def evidence_pdf(line: str) -> bytes:
    """A minimal valid one-page PDF 1.4 showing one line of ASCII text (no dependency)."""
    text = line.encode("ascii", "replace").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    content = b"BT /F1 14 Tf 72 770 Td (" + text + b") Tj ET"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
               b"/Contents 5 0 R >>",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % at for at in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
