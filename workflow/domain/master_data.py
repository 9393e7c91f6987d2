"""The rules of enterprise master data (pure): one row → clean values, or InvalidInput naming
what is wrong.

The industry comes from the calendar's vocabulary (the enterprise's own wording is kept in 行业细分);
the grade must be on a scale that applies to the industry, and a grade other than 未评级 carries its
评级文件文号; ULE 已公示 carries the 公示 document (number or URL) and date.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from workflow.domain import creditcode, grades
from workflow.domain.plan import Plan
from workflow.errors import InvalidInput

PUBLICIZED = "publicized"
ULE = {"": "", "not_started": "not_started", "in_progress": "in_progress",
       "completed": "completed", "publicized": PUBLICIZED, "未开始": "not_started",
       "改造中": "in_progress", "进行中": "in_progress", "已完成": "completed",
       "完成": "completed", "已公示": PUBLICIZED, "完成并公示": PUBLICIZED}
_TRUE = {"1", "true", "yes", "是", "y"}
_FALSE = {"", "0", "false", "no", "否", "n"}


def normalise_ule(value: str) -> str:
    key = (value or "").strip()
    if key.lower() in ULE:
        return ULE[key.lower()]
    if key in ULE:
        return ULE[key]
    raise InvalidInput(f"未知超低排放状态 '{value}'，可选：not_started、in_progress、completed、"
                       "publicized（或 未开始、改造中、已完成、已公示）")


def livelihood(value: str) -> bool:
    v = (value or "").strip().lower()
    if v in _TRUE or v in _FALSE:
        return v in _TRUE
    raise InvalidInput(f"民生保障应为 是/否，收到 '{value}'")


def resolve_city(name: str, cities: dict[str, int]) -> tuple[str, int]:
    for candidate in (name.strip(), name.strip() + "市"):
        if candidate in cities:
            return candidate, cities[candidate]
    raise InvalidInput(f"未知城市 '{name}'，可选：{'、'.join(cities)} (unknown city)")


def check_scale(plan: Plan, industry: str, grade: str) -> None:
    """The grade must lie on a scale that applies to the industry (玻璃 has no 引领性)."""
    allowed = plan.industries.grades_for(industry)
    if grade not in allowed:
        raise InvalidInput(f"绩效等级 {grade} 不适用于{industry}行业，可选：{'、'.join(allowed)} "
                           "(grade not on the industry's scale)")


def check_rating_doc(grade: str, doc: str) -> None:
    if grade != grades.UNRATED and not doc:
        raise InvalidInput(f"现绩效等级 {grade} 须填写评级文件文号（--rating-doc 或 评级文件文号 列）"
                           "(rating document number required)")


def ule_date(text: str, today: date) -> date:
    raw = (text or "").strip()
    try:  # an XLSX date cell arrives as "2024-05-01 00:00:00"
        if raw[10:] not in ("", " 00:00:00"):
            raise ValueError(raw)
        day = date.fromisoformat(raw[:10])
    except ValueError:
        raise InvalidInput(f"超低排放公示日期 '{text}' 应为 YYYY-MM-DD (ule date)") from None
    if day > today:
        raise InvalidInput(f"超低排放公示日期 {day} 晚于今天 {today} (ule date in the future)")
    return day


def ule_evidence(ule: str, ref: str, day: str, today: date) -> tuple[str, date | None]:
    """(ule_ref, ule_date) for a ULE status: 已公示 needs both, any other status neither."""
    ref, day = (ref or "").strip(), (day or "").strip()
    if ule != PUBLICIZED:
        if ref or day:
            raise InvalidInput(f"超低排放公示文号和日期只在状态为 publicized（已公示）时填写，当前为 {ule or '未填报'} "
                               "(ule ref/date only with publicized)")
        return "", None
    if not ref or not day:
        raise InvalidInput("超低排放状态设为 publicized（已公示）须同时给出公示文号或网址和公示日期："
                           "--ule-ref … --ule-date YYYY-MM-DD（导入：超低排放公示文号、超低排放公示日期 列）"
                           "(ule ref and date required)")
    return ref, ule_date(day, today)


def validate_row(row: dict[str, str], cities: dict[str, int], plan: Plan, today: date) -> dict[str, Any]:
    """One new enterprise (add or an import row) → clean values."""
    code = creditcode.validate(row.get("code", ""))
    name = row.get("name", "").strip()
    if not name:
        raise InvalidInput("企业名称不能为空")
    if not row.get("industry", "").strip():
        raise InvalidInput("行业不能为空")
    industry = plan.industries.normalise(row["industry"])
    city, city_id = resolve_city(row.get("city", ""), cities)
    grade = grades.normalise(row.get("grade", ""))
    check_scale(plan, industry, grade)
    doc = row.get("rating_doc", "").strip()
    check_rating_doc(grade, doc)
    ule = normalise_ule(row.get("ule", ""))
    ref, day = ule_evidence(ule, row.get("ule_ref", ""), row.get("ule_date", ""), today)
    return {"code": code, "name": name, "city": city, "city_id": city_id,
            "county": row.get("county", "").strip(), "industry": industry,
            "industry_detail": row.get("industry_detail", "").strip(), "grade": grade,
            "rating_doc": doc, "ule": ule, "ule_ref": ref, "ule_date": day,
            "livelihood": livelihood(row.get("livelihood", ""))}


ULE_KEYS = ("ule", "ule_ref", "ule_date")


def validate_changes(current: dict[str, Any], changes: dict[str, str], plan: Plan,
                     today: date) -> dict[str, Any]:
    """The fields an update really changes, validated. The grade is not among them: it moves only
    through the process or a province correction (`grade_correction`)."""
    new: dict[str, Any] = {}
    if "name" in changes:
        new["name"] = changes["name"].strip()
        if not new["name"]:
            raise InvalidInput("企业名称不能为空")
    for key in ("county", "industry_detail"):
        if key in changes:
            new[key] = changes[key].strip()
    if "livelihood" in changes:
        new["livelihood"] = livelihood(changes["livelihood"])
    if "industry" in changes:
        new["industry"] = plan.industries.normalise(changes["industry"])
        check_scale(plan, new["industry"], current["grade"])
    if any(k in changes for k in ULE_KEYS):
        ule = normalise_ule(changes["ule"]) if "ule" in changes else current["ule"]
        keep = current["ule"] == PUBLICIZED and ule == PUBLICIZED  # correcting the evidence only
        was = current["ule_date"].isoformat() if keep and current["ule_date"] else ""
        new["ule"] = ule
        new["ule_ref"], new["ule_date"] = ule_evidence(
            ule, changes.get("ule_ref", current["ule_ref"] if keep else ""), changes.get("ule_date", was), today)
    return {k: v for k, v in new.items() if v != current[k]}


def touches_publicity(current: dict[str, Any], diff: dict[str, Any]) -> bool:
    """Setting, correcting or withdrawing ULE 已公示: a city reviewer's or the province's act."""
    return any(k in diff for k in ULE_KEYS) and PUBLICIZED in (current["ule"], diff.get("ule", current["ule"]))
