"""The lifecycle as data: states, events and their source → destination (pure)."""

from __future__ import annotations

from dataclasses import dataclass

UNENROLLED = "unenrolled"  # pseudo-state before enrollment; never stored

ACTIVE = ("cultivation", "assistance", "tracking", "acceptance", "provincial_recheck", "certification")
TERMINAL = ("certified", "withdrawn", "disqualified", "not_achieved")
STATES = ACTIVE + TERMINAL

STATE_ZH = {
    UNENROLLED: "未纳入",
    "cultivation": "培育",
    "assistance": "帮扶服务",
    "tracking": "跟踪评估",
    "acceptance": "验收",
    "provincial_recheck": "省级复核",
    "certification": "认定",
    "certified": "已认定",
    "withdrawn": "已退出",
    "disqualified": "已取消资格",
    "not_achieved": "未达标结束",
}
# The short forms of the stages, for narrow column headers (report funnel).
STATE_SHORT = {**STATE_ZH, "assistance": "帮扶", "tracking": "跟踪", "provincial_recheck": "复核"}


@dataclass(frozen=True)
class EventSpec:
    name: str
    sources: tuple[str, ...]
    dest: str
    zh: str
    needs_reason: bool = False
    failure: bool = False  # a failure loop: opens the re-submission windows


_NON_TERMINAL = ACTIVE
EVENTS: dict[str, EventSpec] = {
    e.name: e
    for e in (
        # 有进有出: an enterprise that withdrew may enrol again, as a new cycle of its participation
        EventSpec("enroll", (UNENROLLED, "withdrawn"), "cultivation", "纳入培育清单"),
        EventSpec("start_assistance", ("cultivation",), "assistance", "开始帮扶"),
        EventSpec("record_pre_assessment", ("assistance",), "assistance", "记录预评估"),
        EventSpec("submit_plan", ("assistance",), "assistance", "提交一企一策方案"),
        EventSpec("begin_tracking", ("assistance",), "tracking", "开始跟踪评估"),
        EventSpec("record_evaluation", ("tracking",), "tracking", "记录月度评估"),
        EventSpec("submit_for_acceptance", ("tracking",), "acceptance", "申请验收"),
        EventSpec("pass_acceptance", ("acceptance",), "provincial_recheck", "验收通过"),
        EventSpec("fail_acceptance", ("acceptance",), "assistance", "验收未通过", True, True),
        EventSpec("pass_recheck", ("provincial_recheck",), "certification", "复核通过"),
        EventSpec("waive_recheck", ("provincial_recheck",), "certification", "免于抽查"),
        EventSpec("fail_recheck", ("provincial_recheck",), "assistance", "复核未通过", True, True),
        EventSpec("publicize", ("certification",), "certification", "公示"),
        EventSpec("object", ("certification",), "assistance", "公示有异议", True, True),
        EventSpec("certify", ("certification",), "certified", "认定"),
        EventSpec("withdraw", _NON_TERMINAL, "withdrawn", "自愿退出", True),
        EventSpec(
            "disqualify",
            tuple(s for s in STATES if s not in ("withdrawn", "disqualified")),
            "disqualified",
            "取消评级资格",
            True,
        ),
        EventSpec("close", _NON_TERMINAL, "not_achieved", "年终关闭"),
    )
}
