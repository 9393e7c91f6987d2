"""The industry vocabulary and the grade scales per industry, read from the calendar (pure).

The plan's 12 key industries plus 其他; the spellings found in bureau files (`焦化行业`, `水泥制造`)
are normalised to them, anything else is refused with the list of choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workflow.domain import grades
from workflow.domain.identifiers import clean_identifier
from workflow.errors import InvalidInput

ABCD, LEADING = "ABCD", "引领性"
SCALE_GRADES = {ABCD: grades.ABCD, LEADING: grades.LEADING}


@dataclass(frozen=True)
class Industry:
    name: str
    aliases: tuple[str, ...]
    scales: tuple[str, ...]  # ABCD and/or 引领性
    ule: bool = False  # 超低排放: an A grade needs the retrofit completed and publicised


@dataclass(frozen=True)
class Vocabulary:
    industries: dict[str, Industry]

    def choices(self) -> str:
        return "、".join(self.industries)

    def normalise(self, text: str) -> str:
        """The canonical industry for `text` (NFKC; an invisible or control character is refused, so
        that '钢铁' with a zero-width space cannot pass for another industry), or InvalidInput naming
        the choices."""
        raw = "".join(clean_identifier(text or "", "行业").split())
        if raw in self.industries:
            return raw
        for ind in self.industries.values():
            if raw in ind.aliases:
                return ind.name
        raise InvalidInput(f"未知行业 '{text}'，可选：{self.choices()}；其他行业请填 其他，"
                           "并在 行业细分 中写明 (unknown industry)")

    def known(self, name: str) -> bool:
        return name in self.industries

    def ule(self) -> frozenset[str]:
        return frozenset(i.name for i in self.industries.values() if i.ule)

    def grades_for(self, industry: str) -> tuple[str, ...]:
        """Every grade on the scales that apply to `industry`, lowest first (未评级 once)."""
        ind = self.industries.get(industry)
        scales = ind.scales if ind else (ABCD,)
        out: list[str] = []
        for scale in scales:
            out.extend(g for g in SCALE_GRADES[scale] if g not in out)
        return tuple(out)


def parse(raw: dict[str, Any]) -> Vocabulary:
    """`[industries.NAME]` tables: aliases, scales, ule."""
    if not raw:
        raise InvalidInput("[industries] 不能为空：请列出行业及其评级尺度")
    found: dict[str, Industry] = {}
    seen: dict[str, str] = {}
    for name, item in raw.items():
        scales = tuple(str(s) for s in item.get("scales", [ABCD]))
        bad = [s for s in scales if s not in SCALE_GRADES]
        if bad or not scales:
            raise InvalidInput(f"[industries.{name}] scales 应为 {ABCD} 和/或 {LEADING}，收到 {list(scales)}")
        aliases = tuple(str(a) for a in item.get("aliases", []))
        for spelling in (name, *aliases):
            if spelling in seen:
                raise InvalidInput(f"[industries] '{spelling}' 同时属于 {seen[spelling]} 和 {name}")
            seen[spelling] = name
        found[name] = Industry(name, aliases, scales, bool(item.get("ule", False)))
    return Vocabulary(found)
