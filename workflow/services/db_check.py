"""`campaign db check`: enterprise rows that today's rules would refuse, reported and never
rewritten (rows written before the industry vocabulary, the 评级文件文号 and the ULE evidence)."""

from __future__ import annotations

from typing import TypedDict

from sqlalchemy import select

from models.db import UnitOfWork
from models.tables import City, Enterprise, table
from workflow.context import Context
from workflow.domain import grades
from workflow.domain.master_data import PUBLICIZED
from workflow.store.campaigns import campaign

_E, _C = table(Enterprise).c, table(City).c

# kind: (what is wrong, how to put it right)
KINDS: dict[str, tuple[str, str]] = {
    "unknown_industry": ("行业不在行动计划的行业目录中",
                         "campaign enterprise update CODE --industry 目录中的行业 [--industry-detail 原行业]"),
    "grade_off_scale": ("绩效等级不适用于该行业",
                        "campaign enterprise correct-grade CODE --grade … --reason … --rating-doc …"),
    "missing_rating_doc": ("已评级但无评级文件文号",
                           "campaign enterprise correct-grade CODE --grade 现等级 --reason 补登文号 --rating-doc …"),
    "ule_without_evidence": ("超低排放已公示但无公示文号或日期",
                             "campaign enterprise update CODE --ule publicized --ule-ref … --ule-date …"),
}


class ProblemRow(TypedDict):
    code: str
    name: str
    city: str
    industry: str
    grade: str


class Problem(TypedDict):
    kind: str  # a key of KINDS
    zh: str
    fix: str
    rows: list[ProblemRow]


class DbCheck(TypedDict):
    year: int
    enterprises: int
    total: int
    problems: list[Problem]
    vocabulary: str  # the industries, joined with 、


def check(ctx: Context) -> DbCheck:
    """Every problem found, by kind; `total` counts rows listed (a row may appear under two kinds)."""
    with UnitOfWork(ctx.engine) as uow:
        s = uow.session
        camp = campaign(s, ctx)
        rows = s.execute(select(_E.code, _E.name, _C.name.label("city"), _E.industry, _E.grade,
                                _E.rating_doc, _E.ule, _E.ule_ref, _E.ule_date)
                         .join_from(table(Enterprise), table(City), _C.id == _E.city_id)
                         .order_by(_C.id, _E.code)).all()
    vocab = camp.plan.industries
    found: dict[str, list[ProblemRow]] = {k: [] for k in KINDS}
    for r in rows:
        item: ProblemRow = {"code": r.code, "name": r.name, "city": r.city, "industry": r.industry, "grade": r.grade}
        if not vocab.known(r.industry):
            found["unknown_industry"].append(item)
        elif r.grade not in vocab.grades_for(r.industry):
            found["grade_off_scale"].append(item)
        if r.grade != grades.UNRATED and not (r.rating_doc or "").strip():
            found["missing_rating_doc"].append(item)
        if r.ule == PUBLICIZED and (not (r.ule_ref or "").strip() or r.ule_date is None):
            found["ule_without_evidence"].append(item)
    return {"year": camp.year, "enterprises": len(rows), "total": sum(map(len, found.values())),
            "problems": [{"kind": k, "zh": KINDS[k][0], "fix": KINDS[k][1], "rows": v}
                         for k, v in found.items() if v],
            "vocabulary": vocab.choices()}
