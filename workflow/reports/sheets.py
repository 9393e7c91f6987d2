"""Plain values for a printable sheet: what the attachment exports hand to the writers (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workflow.text import fill_city


@dataclass(frozen=True)
class Column:
    header: str
    width: int  # characters; CJK text counts double
    number: bool = False  # right-aligned numbers


@dataclass(frozen=True)
class Sheet:
    name: str  # the worksheet name: the city
    label: str  # 附件1 … 附件5
    title: str  # the plan's title, XX replaced by the city
    subtitle: str  # 填报单位 / 期次 line
    columns: tuple[Column, ...]
    rows: list[list[Any]] = field(default_factory=list)  # 序号 first
    footer: tuple[str, ...] = ()  # the 盖章签字 block, when the plan asks for one

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]


SIGNATURE = ("填报单位（盖章）：", "负责人签字：", "日期：    年    月    日")


city_title = fill_city  # the plan's "XX市（区）…" titles, filled in (`workflow.text`)
