"""修订完善的应急减排清单 (due 09-10): every enterprise of a city with its grade at enrolment, its
grade now, where the new grade stands, and the differentiated-control category (差异化管控) that
follows from the grade — the calendar's `[control_categories]`, not code.

An enterprise that passed acceptance but is not yet certified (省级复核 or 公示 pending) keeps
the category of the grade it holds now; its 认定情况 shows the accepted grade as 验收通过待认定
and 备注 says the category follows the current grade until certification.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypedDict

from sqlmodel import Session

from models.db import UnitOfWork
from workflow.context import Context
from workflow.domain.states import STATE_ZH
from workflow.errors import InvalidInput
from workflow.reports import attachment_data as data
from workflow.reports.sheets import SIGNATURE, Column, Sheet
from workflow.services.actors import city_id
from workflow.store.campaigns import CampaignRef, campaign

KIND = "emission_list"
TITLE = "重污染天气重点行业应急减排清单（{year}年修订完善）"
ORDER = ("A", "引领性", "B", "B-", "C", "D", "非引领性", "未评级")  # how the list is grouped
PENDING = ("provincial_recheck", "certification")  # accepted, certification pending
COLUMNS = (Column("序号", 6, True), Column("企业名称", 30), Column("统一社会信用代码", 22),
           Column("区县", 10), Column("行业", 10), Column("行业细分", 12), Column("纳入时等级", 8),
           Column("现绩效等级", 8), Column("认定情况", 20), Column("民生保障类", 8),
           Column("差异化管控类别", 30), Column("备注", 28))


class EmissionRow(TypedDict):
    """One enterprise's line of the list."""

    code: str
    name: str
    county: str
    industry: str
    industry_detail: str
    starting_grade: str  # at enrolment (the grade now, if not enrolled)
    grade: str
    status: str  # not_enrolled, certified, accepted, disqualified, withdrawn, not_achieved, in_progress
    status_zh: str
    accepted_grade: str | None  # accepted only
    livelihood: bool
    category: str  # 差异化管控类别
    note: str


class CityEmissionRow(EmissionRow):
    """A line with its city (`--json` of the province's lists)."""

    city: str


@dataclass(frozen=True)
class Listing:
    city: str
    title: str
    label: str
    due: date | None
    as_of: date
    rows: list[EmissionRow]


def build(ctx: Context, *, city: str | None) -> Listing:
    with UnitOfWork(ctx.engine) as uow:
        return listing(uow.session, campaign(uow.session, ctx), city, ctx.today)


def listing(s: Session, camp: CampaignRef, city: str | None, today: date) -> Listing:
    if not city:
        raise InvalidInput("应急减排清单按城市报送，请用 --city 指定城市 (--city required)")
    name = city_id(s, city)[1]
    ents = data.enterprises(s, camp, [name])
    certified = data.latest_events(s, camp, [e["code"] for e in ents if e["state"] == "certified"],
                                   ("certify",))
    rows = [record(e, camp.plan.control_categories, certified.get(e["code"])) for e in ents]
    rows.sort(key=lambda r: (ORDER.index(r["grade"]) if r["grade"] in ORDER else len(ORDER), r["county"],
                             r["code"]))
    d = camp.plan.deliverables.get(KIND)
    return Listing(name, f"{name}{TITLE.format(year=camp.year)}", d.title if d else "修订完善的应急减排清单",
                   d.dues[-1].due if d and d.dues else None, today, rows)


def record(e: data.EnterpriseRow, categories: dict[str, str], certify: data.LatestEvent | None) -> EmissionRow:
    """One enterprise's row (pure): status of its new grade, category, remark."""
    grade, state = e["grade"], e["state"]
    notes = []
    if state is None:
        status, status_zh = "not_enrolled", "未纳入培育"
    elif state == "certified":
        status = "certified"
        status_zh = f"已认定 {certify['day'].isoformat()}" if certify else "已认定"
    elif state in PENDING:
        status, status_zh = "accepted", f"{e['target_grade']} 验收通过待认定"
        notes.append(f"认定前按现等级 {grade} 管控")
    elif state == "disqualified":
        status, status_zh = "disqualified", "已取消评级资格"
    elif state == "withdrawn":
        status, status_zh = "withdrawn", "已退出培育"
    elif state == "not_achieved":
        status, status_zh = "not_achieved", "未达到目标等级"
    else:
        status, status_zh = "in_progress", f"培育中（{STATE_ZH[state]}）"
    if e["livelihood"]:
        notes.append("民生保障类企业")
    return {"code": e["code"], "name": e["name"], "county": e["county"], "industry": e["industry"],
            "industry_detail": e["industry_detail"], "starting_grade": e["starting_grade"] or grade,
            "grade": grade, "status": status, "status_zh": status_zh,
            "accepted_grade": e["target_grade"] if status == "accepted" else None,
            "livelihood": e["livelihood"], "category": categories.get(grade, ""), "note": "；".join(notes)}


def sheet(lst: Listing) -> Sheet:
    due = f"　　报送截止：{_zh(lst.due)}" if lst.due else ""
    return Sheet(
        name=lst.city, label=lst.label, title=lst.title,
        subtitle=f"填报单位：{lst.city}　　截至 {_zh(lst.as_of)}{due}　　共 {len(lst.rows)} 家",
        columns=COLUMNS,
        rows=[[i, r["name"], r["code"], r["county"], r["industry"], r["industry_detail"], r["starting_grade"],
               r["grade"], r["status_zh"], "是" if r["livelihood"] else "", r["category"], r["note"]]
              for i, r in enumerate(lst.rows, 1)],
        footer=SIGNATURE)


def generate(s: Session, camp: CampaignRef, city: str, today: date, folder: Path, *,
             simulation: bool = False) -> Path:
    """Write the city's list as XLSX into `folder` (for a deliverable submission); return the file."""
    from workflow.reports.writers import write

    lst = listing(s, camp, city, today)
    return write([sheet(lst)], folder / f"{lst.city}应急减排清单.xlsx", simulation=simulation)


def _zh(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"
