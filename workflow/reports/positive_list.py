"""正面清单 (plan §二(六)): the enterprises at A or 绩效引领性, for 无打扰 supervision.

An enterprise is listed when its grade now is A or 引领性 and its participation in the campaign
(if any) was not disqualified: certified in this campaign, or rated before it. The date and the
document that gave the grade:
- certified in this campaign (its latest grade-giving entry is `certify`): the certify day, and the
  enterprise's 评级文件文号 that certification wrote (`--data rating_doc=…`, or
  "河南省生态环境厅认定（审计#SEQ）": the audit entry that recorded the decision, which
  `campaign audit verify` checks); for rows certified before certification wrote it, the same
  reference is rebuilt from the certify entry;
- corrected by the province in this campaign (`grade_correction`): that day, and the enterprise's
  评级文件文号;
- rated before the campaign: no date ("行动前评定") and the enterprise's 评级文件文号.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TypedDict

from sqlmodel import Session

from models.db import UnitOfWork
from workflow.context import Context
from workflow.reports import attachment_data as data
from workflow.reports.sheets import Column, Sheet
from workflow.services.actors import city_id
from workflow.store.campaigns import CampaignRef, campaign

GRADES = ("A", "引领性")
GIVING = ("certify", "grade_correction")  # audited events that set an enterprise's grade
DOC_KEYS = ("rating_doc", "doc", "document", "文号", "评级文件文号")
TITLE = "重污染天气重点行业绩效分级正面清单（A级及绩效引领性企业）"
COLUMNS = (Column("序号", 6, True), Column("城市", 12), Column("区县", 10), Column("企业名称", 30),
           Column("统一社会信用代码", 22), Column("行业", 10), Column("行业细分", 12),
           Column("绩效等级", 10), Column("评定日期", 12), Column("评级文件（文号）", 28),
           Column("评定方式", 12), Column("备注", 14))
SOURCE_ZH = {"certified": "本次行动认定", "corrected": "评级更正", "before": "行动前评定"}


class PositiveRow(TypedDict):
    city: str
    county: str
    name: str
    code: str
    industry: str
    industry_detail: str
    grade: str
    graded_on: str | None  # ISO date; None: rated before the campaign
    rating_doc: str
    source: str  # certified, corrected, before (SOURCE_ZH)
    note: str


@dataclass(frozen=True)
class Listing:
    region: str  # the city, or the province for the whole list
    title: str
    as_of: date
    rows: list[PositiveRow]


def build(ctx: Context, *, city: str | None = None) -> Listing:
    with UnitOfWork(ctx.engine) as uow:
        s = uow.session
        camp = campaign(s, ctx)
        cities = [city_id(s, city)[1]] if city else list(camp.plan.cities)
        rows = records(s, camp, cities)
    region = cities[0] if city else _province(camp)
    return Listing(region, f"{region}{TITLE}", ctx.today, rows)


def _province(camp: CampaignRef) -> str:
    """'河南省生态环境厅' → '河南省'."""
    authority = camp.plan.authority
    return authority[:authority.index("省") + 1] if "省" in authority else authority


def records(s: Session, camp: CampaignRef, cities: list[str]) -> list[PositiveRow]:
    ents = [e for e in data.enterprises(s, camp, cities, grades=GRADES) if e["state"] != "disqualified"]
    given = data.latest_events(s, camp, [e["code"] for e in ents], GIVING)
    return [record(e, given.get(e["code"]), camp.plan.authority) for e in ents]


def record(e: data.EnterpriseRow, entry: data.LatestEvent | None, authority: str) -> PositiveRow:
    """One row: where the grade came from, its date and document (pure)."""
    source, day, doc = "before", None, e["rating_doc"]
    if entry is not None and entry["event"] == "certify" and e["state"] == "certified":
        named = next((str(entry["payload"][k]) for k in DOC_KEYS if entry["payload"].get(k)), "")
        own = e["rating_doc"] if e["rating_doc"] != (e["starting_rating_doc"] or "") else ""
        source, day = "certified", entry["day"]
        doc = own or named or f"{authority}认定（审计#{entry['seq']}）"
    elif entry is not None and entry["event"] == "grade_correction":
        source, day = "corrected", entry["day"]
    return {"city": e["city"], "county": e["county"], "name": e["name"], "code": e["code"],
            "industry": e["industry"], "industry_detail": e["industry_detail"], "grade": e["grade"],
            "graded_on": day.isoformat() if day else None, "rating_doc": doc, "source": source,
            "note": "民生保障类" if e["livelihood"] else ""}


def sheet(listing: Listing) -> Sheet:
    n = len(listing.rows)
    return Sheet(
        name=listing.region, label="正面清单", title=listing.title,
        subtitle=f"范围：{listing.region}　　截至 {_zh(listing.as_of)}　　共 {n} 家",
        columns=COLUMNS,
        rows=[[i, r["city"], r["county"], r["name"], r["code"], r["industry"], r["industry_detail"],
               r["grade"], r["graded_on"] or "", r["rating_doc"], SOURCE_ZH[r["source"]], r["note"]]
              for i, r in enumerate(listing.rows, 1)])


def _zh(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"
