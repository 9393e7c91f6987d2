"""The notice kinds: title, the context keys each template uses, who receives it, sample data (pure).

Context values are plain JSON values. Dates are ISO strings ("2024-05-31"); templates print them
with the `cn_date` / `cn_date_week` filters (2024年5月31日（星期五）). Every number a notice states
(working days, counts) is in its context, from the data and the calendar, never in a template.
`publicity` and `certification_result` list the enterprises of one command and city
(`enterprises`: name, code, industry, grade_from, and grade_to / grade). Every notice also gets the
common keys `authority`, `campaign` and `issued` (filled in by `enqueue` when the caller omits them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from workflow.errors import InvalidInput

AUTHORITY = "河南省生态环境厅"
CAMPAIGN = "河南省2024年重污染天气重点行业绩效分级创A晋B行动"
COMMON_KEYS = ("authority", "campaign", "issued")


@dataclass(frozen=True)
class Kind:
    name: str
    title: str
    keys: tuple[str, ...]  # context keys the packaged template uses (besides COMMON_KEYS)
    sample: Mapping[str, Any] = field(default_factory=dict)
    province: bool = False  # also goes to the province's contacts

    @property
    def template(self) -> str:
        return f"{self.name}.j2"


_COMMON_SAMPLE = {"authority": AUTHORITY, "campaign": CAMPAIGN, "issued": "2024-05-24"}
_ENTERPRISE = {"city": "许昌市", "code": "91410100MA45C2R1XL", "enterprise_name": "许昌恒达耐材有限公司"}


def _kind(name: str, title: str, keys: tuple[str, ...], sample: dict[str, Any],
          province: bool = False) -> Kind:
    missing = set(keys) - set(sample)
    if missing:  # a programming error in this module, caught at import by every test run
        raise ValueError(f"sample of {name} lacks {sorted(missing)}")
    return Kind(name, title, keys, MappingProxyType({**_COMMON_SAMPLE, **sample}), province)


KINDS: dict[str, Kind] = {k.name: k for k in (
    _kind("reminder", "提醒函",
          ("city", "deliverable", "attachment", "period", "due", "days_left"),
          {"city": "许昌市", "deliverable": "XX市（区）绩效提升企业培育清单", "attachment": "附件1",
           "period": "2024-05", "due": "2024-05-31", "days_left": 7}),
    _kind("overdue", "催办通知",
          ("city", "deliverable", "attachment", "period", "due", "days_overdue"),
          {"city": "许昌市", "deliverable": "重点行业绩效提升企业“一企一策”提升方案汇总表",
           "attachment": "附件2", "period": "2024-06", "due": "2024-06-15", "days_overdue": 3,
           "issued": "2024-06-18"}),
    _kind("evaluation_missing", "月度跟踪评估缺报通知",
          ("city", "code", "enterprise_name", "period", "due"),
          {**_ENTERPRISE, "period": "2024-07", "due": "2024-07-31", "issued": "2024-08-01"}),
    _kind("request_due", "企业需求答复提醒",
          ("city", "code", "enterprise_name", "request", "received", "due", "days_left", "reply_workdays"),
          {**_ENTERPRISE, "request": "申请帮扶除尘设施提标改造技术指导", "received": "2024-06-03",
           "due": "2024-06-11", "days_left": 1, "reply_workdays": 5, "issued": "2024-06-10"}),
    _kind("request_overdue", "企业需求答复超期催办",
          ("city", "code", "enterprise_name", "request", "received", "due", "days_overdue", "reply_workdays"),
          {**_ENTERPRISE, "request": "申请帮扶除尘设施提标改造技术指导", "received": "2024-06-03",
           "due": "2024-06-11", "days_overdue": 2, "reply_workdays": 5, "issued": "2024-06-13"}),
    _kind("ready_to_certify", "公示期满待认定通知",
          ("city", "code", "enterprise_name", "grade", "publicity_start", "publicity_end"),
          {**_ENTERPRISE, "grade": "B", "publicity_start": "2024-09-02", "publicity_end": "2024-09-09",
           "issued": "2024-09-10"}, province=True),
    _kind("publicity", "认定结果公示",
          ("city", "enterprises", "publicity_start", "publicity_end", "publicity_workdays", "objections_to",
           "objections_until"),
          {"city": "许昌市", "enterprises": [
              {"name": "许昌恒达耐材有限公司", "code": "91410100MA45C2R1XL", "industry": "耐材",
               "grade_from": "C", "grade_to": "B"},
              {"name": "许昌瑞丰铸造有限公司", "code": "914110000000000025", "industry": "铸造",
               "grade_from": "B-", "grade_to": "A"}],
           "publicity_start": "2024-09-02", "publicity_end": "2024-09-09", "publicity_workdays": 5,
           "objections_to": "许昌市生态环境局", "objections_until": "2024-09-09", "issued": "2024-09-02"}),
    _kind("certification_result", "绩效等级认定结果通知",
          ("city", "enterprises", "certified_on"),
          {"city": "许昌市", "enterprises": [
              {"name": "许昌恒达耐材有限公司", "code": "91410100MA45C2R1XL", "industry": "耐材",
               "grade_from": "C", "grade": "B", "positive_list": False,
               "control": "差异化管控：降低减排要求（限产代替停产）"},
              {"name": "许昌瑞丰铸造有限公司", "code": "914110000000000025", "industry": "铸造",
               "grade_from": "B-", "grade": "A", "positive_list": True, "control": "自主采取减排措施"}],
           "certified_on": "2024-09-12", "issued": "2024-09-12"}),
    _kind("disqualified", "取消评级资格通知",
          ("city", "code", "enterprise_name", "reason", "decided_on", "grade_to", "certified_grade", "control"),
          {**_ENTERPRISE, "reason": "评级过程中提供虚假材料", "decided_on": "2024-10-08", "grade_to": "C",
           "certified_grade": "B", "control": "严格落实应急减排措施（停限产）", "issued": "2024-10-08"},
          province=True),
)}


def get(name: str) -> Kind:
    """The kind named `name`; an unknown name is invalid input listing the known ones."""
    try:
        return KINDS[name]
    except KeyError:
        raise InvalidInput(f"未知通知类型 '{name}'，可选：{', '.join(KINDS)} (unknown notice kind)") from None
