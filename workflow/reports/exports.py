"""The plan's five attachments as printable sheets, straight from the database.

`attachment(ctx, kind, city=…)` returns one `Sheet` per city (one, or all 19 with
`all_cities=True`); the writers in `workflow.reports.writers` turn them into XLSX or CSV.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from models.db import UnitOfWork
from workflow.context import Context
from workflow.domain.plan import Deliverable
from workflow.domain.states import STATE_ZH
from workflow.errors import InvalidInput
from workflow.reports import attachment_data as data
from workflow.reports.sheets import SIGNATURE, Column, Sheet, city_title
from workflow.services.actors import city_id
from workflow.store.campaigns import CampaignRef, campaign

if TYPE_CHECKING:
    from workflow.reports.emission_list import CityEmissionRow
    from workflow.reports.positive_list import PositiveRow

KINDS = ("attachment1", "attachment2", "attachment3", "attachment4", "attachment5")
LISTS = ("positive-list", "emission-list")  # the certification phase's lists (认定应用)
_LIST_ALIASES = {"positive_list": "positive-list", "正面清单": "positive-list",
                 "emission_list": "emission-list", "应急减排清单": "emission-list"}
TITLES = {  # used when the campaign's calendar lacks the deliverable
    "attachment1": ("附件1", "XX市（区）绩效提升企业培育清单"),
    "attachment2": ("附件2", "重点行业绩效提升企业“一企一策”提升方案汇总表"),
    "attachment3": ("附件3", "开展设备更新企业名单"),
    "attachment4": ("附件4", "XX企业绩效提升跟踪评估情况"),
    "attachment5": ("附件5", "XX市绩效提升培育验收通过企业名单"),
}
_MONTH = re.compile(r"\A[0-9]{4}-(0[1-9]|1[0-2])\Z")  # not `$`: it matches before a newline
_BASE = (Column("序号", 6, True), Column("企业名称", 30), Column("统一社会信用代码", 22),
         Column("区县", 10), Column("行业", 10))
COLUMNS = {
    "attachment1": (*_BASE, Column("现绩效等级", 8), Column("目标等级", 8), Column("超低排放", 10),
                    Column("纳入时间", 12), Column("当前阶段", 10), Column("备注", 14)),
    "attachment2": (*_BASE, Column("现绩效等级", 8), Column("目标等级", 8), Column("提升方案概要", 28),
                    Column("主要提升措施", 36), Column("计划完成时间", 12), Column("方案提交日期", 12),
                    Column("备注", 16)),
    "attachment3": (*_BASE, Column("现绩效等级", 8), Column("目标等级", 8), Column("设备更新项目", 28),
                    Column("更新设备（设施）", 28), Column("投资额（万元）", 10, True),
                    Column("完成时间", 12), Column("资金来源", 14)),
    "attachment4": (*_BASE, Column("现绩效等级", 8), Column("目标等级", 8), Column("评估月份", 9),
                    Column("评估日期", 12), Column("评估情况", 36), Column("评估人", 10),
                    Column("当前阶段", 10)),
    "attachment5": (*_BASE, Column("原绩效等级", 8), Column("验收等级", 8), Column("验收通过日期", 12),
                    Column("当前阶段", 10), Column("备注", 16)),
}
ULE_ZH = {"": "", "not_started": "未开始", "in_progress": "改造中", "completed": "已完成",
          "publicized": "完成并公示"}


@dataclass(frozen=True)
class Scope:
    """Which rows an export covers: the period and its date bounds (inclusive end)."""

    period: str | None
    after: date | None = None
    until: date | None = None
    note: str = ""


def normalise_kind(kind: str) -> str:
    raw = kind.strip().lower().replace("附件", "attachment")
    raw = f"attachment{raw}" if raw.isdigit() else _LIST_ALIASES.get(raw, raw)
    if raw not in KINDS + LISTS:
        raise InvalidInput(f"未知导出类型 '{kind}'，可选：{'、'.join(KINDS + LISTS)} (unknown export)")
    return raw


def certification_list(ctx: Context, kind: str, *, city: str | None = None,
                       all_cities: bool = False) -> tuple[list[Sheet], list[PositiveRow] | list[CityEmissionRow]]:
    """正面清单 (province, or one city) or 应急减排清单 (one city, or a sheet per city): the sheets
    to write and the plain rows (each with its city) for --json."""
    from workflow.reports import emission_list, positive_list

    if kind == "positive-list":
        pl = positive_list.build(ctx, city=city)
        return [positive_list.sheet(pl)], pl.rows
    if not all_cities:
        el = emission_list.build(ctx, city=city)
        one: list[CityEmissionRow] = [{"city": el.city, **r} for r in el.rows]
        return [emission_list.sheet(el)], one
    with UnitOfWork(ctx.engine) as uow:
        camp = campaign(uow.session, ctx)
        lists = [emission_list.listing(uow.session, camp, c, ctx.today) for c in camp.plan.cities]
    every: list[CityEmissionRow] = [{"city": x.city, **r} for x in lists for r in x.rows]
    return [emission_list.sheet(x) for x in lists], every


def _deliverable(camp: CampaignRef, kind: str) -> Deliverable | None:
    return camp.plan.deliverables.get(kind)


def scope(camp: CampaignRef, kind: str, period: str | None, today: date) -> Scope:
    """Validate --period against the plan; attachment4 defaults to this month."""
    if period is not None and not _MONTH.fullmatch(period):
        raise InvalidInput(f"--period 应为 YYYY-MM，收到 {period!r}")
    d = _deliverable(camp, kind)
    if kind == "attachment4":
        month = period or today.strftime("%Y-%m")
        first, last = camp.plan.start.strftime("%Y-%m"), camp.plan.end.strftime("%Y-%m")
        if not first <= month <= last:
            raise InvalidInput(f"附件4 的评估月份 {month} 不在 {camp.year} 年行动期内（{first} 至 {last}），"
                               "请用 --period 指定")
        due = next((x.due for x in d.dues if x.period == month), None) if d else None
        return Scope(month, until=due, note=f"评估月份：{month}" + (f"　报送截止：{_zh(due)}" if due else ""))
    if period is None or d is None:
        return Scope(period, until=None, note=f"截至 {_zh(today)}")
    chosen = d.due_for(period)
    earlier = [x.due for x in d.dues if x.due < chosen.due]
    return Scope(period, after=max(earlier) if earlier else None, until=chosen.due,
                 note=f"报送期次：{period}　报送截止：{_zh(chosen.due)}")


def _zh(day: date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def attachment(ctx: Context, kind: str, *, city: str | None = None, all_cities: bool = False,
               period: str | None = None) -> list[Sheet]:
    kind = normalise_kind(kind)
    with UnitOfWork(ctx.engine) as uow:
        s = uow.session
        camp = campaign(s, ctx)
        cities = list(camp.plan.cities) if all_cities else [_city(s, city)]
        sc = scope(camp, kind, period, ctx.today)
        rows = _ROWS[kind](s, camp, cities, sc)
    d = _deliverable(camp, kind)
    label, template = (d.attachment, d.title) if d and d.attachment else TITLES[kind]
    return [Sheet(name=c, label=label, title=city_title(template, c),
                  subtitle=f"填报单位：{c}　　{sc.note}", columns=COLUMNS[kind],
                  rows=[[i, *r] for i, r in enumerate(rows.get(c, []), 1)],
                  footer=SIGNATURE if kind == "attachment5" else ())
            for c in cities]


def _city(s: Session, city: str | None) -> str:
    if not city:
        raise InvalidInput("请用 --city 指定城市，或用 --all-cities 导出全省")
    return city_id(s, city)[1]


def _common(p: data.PartRow) -> list[Any]:
    return [p["name"], p["code"], p["county"], p["industry"]]


def _rows1(s: Session, camp: CampaignRef, cities: list[str], sc: Scope) -> dict[str, list[list[Any]]]:
    enrolled = {e["code"]: e for e in data.audit_events(s, camp, cities, ("enroll",))}
    out: dict[str, list[list[Any]]] = {}
    for p in data.participations(s, camp, cities):
        if p["state"] in ("withdrawn", "disqualified"):
            continue  # 有进有出: they have left the list
        when = enrolled[p["code"]]["day"] if p["code"] in enrolled else None
        if sc.until and when and when > sc.until:
            continue
        out.setdefault(p["city"], []).append(
            [*_common(p), p["starting_grade"], p["target_grade"], ULE_ZH.get(p["ule"], p["ule"]),
             when.isoformat() if when else "", STATE_ZH[p["state"]], "逾期纳入" if p["enrolled_late"] else ""])
    return out


def _rows2(s: Session, camp: CampaignRef, cities: list[str], sc: Scope) -> dict[str, list[list[Any]]]:
    plans = {e["code"]: e for e in data.audit_events(s, camp, cities, ("submit_plan",))}
    out: dict[str, list[list[Any]]] = {}
    for p in data.participations(s, camp, cities):
        e = plans.get(p["code"])
        if e is None or p["state"] in ("withdrawn", "disqualified"):
            continue
        pay = e["payload"]
        extra = data.describe(pay, skip=("summary", "measures", "completion_date"))
        out.setdefault(p["city"], []).append(
            [*_common(p), p["starting_grade"], p["target_grade"], pay.get("summary", ""),
             pay.get("measures", ""), pay.get("completion_date", ""), e["day"].isoformat(), extra])
    return out


def _rows3(s: Session, camp: CampaignRef, cities: list[str], sc: Scope) -> dict[str, list[list[Any]]]:
    out: dict[str, list[list[Any]]] = {}
    for u in data.equipment(s, camp, cities):
        out.setdefault(u["city"], []).append(
            [*_common(u), u["starting_grade"], u["target_grade"], u["project"], u["equipment"],
             u["investment"], u["completed"].isoformat() if u["completed"] else "", u["funding"]])
    return out


def _rows4(s: Session, camp: CampaignRef, cities: list[str], sc: Scope) -> dict[str, list[list[Any]]]:
    out: dict[str, list[list[Any]]] = {}
    for v in data.evaluations(s, camp, cities, sc.period or ""):
        out.setdefault(v["city"], []).append(
            [*_common(v), v["starting_grade"], v["target_grade"], v["month"], v["day"].isoformat(),
             data.describe(v["payload"], skip=("month",)) or "已完成现场评估", v["actor"],
             STATE_ZH[v["state"]]])
    return out


def _rows5(s: Session, camp: CampaignRef, cities: list[str], sc: Scope) -> dict[str, list[list[Any]]]:
    passed = {e["code"]: e for e in data.audit_events(s, camp, cities, ("pass_acceptance",))
              if not ((sc.after and e["day"] <= sc.after) or (sc.until and e["day"] > sc.until))}
    parts = {p["code"]: p for p in data.participations(s, camp, cities)}
    out: dict[str, list[list[Any]]] = {}
    for e in sorted(passed.values(), key=lambda e: (e["day"], e["code"])):
        p = parts[e["code"]]
        note = f"此前未通过 {p['failures']} 次" if p["failures"] else ""
        out.setdefault(p["city"], []).append(
            [*_common(p), p["starting_grade"], p["target_grade"], e["day"].isoformat(),
             STATE_ZH[p["state"]], note])
    return out


_ROWS = {"attachment1": _rows1, "attachment2": _rows2, "attachment3": _rows3,
         "attachment4": _rows4, "attachment5": _rows5}
