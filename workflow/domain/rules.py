"""Guards of the lifecycle (pure): windows, consent, grades, ULE, publicity.

Each guard raises Refused with the rule and the reason; none returns False.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from workflow.domain import grades
from workflow.domain.plan import Plan
from workflow.domain.states import EVENTS, STATE_ZH
from workflow.errors import Refused

# \A…\Z and ASCII digits: `$` also matches before a trailing newline and `\d` matches full-width
# digits, and either would let "2024-07\n" or "２０２４-07" stand beside "2024-07" as another month.
MONTH_RE = re.compile(r"\A([0-9]{4})-(0[1-9]|1[0-2])\Z")


@dataclass
class Facts:
    """Everything a guard may look at, as plain values."""

    event: str
    today: date
    state: str
    industry: str = ""
    grade: str = grades.UNRATED
    ule: str = ""
    target_grade: str | None = None
    starting_grade: str = grades.UNRATED  # the participation's grade at enrolment (this cycle)
    failures: int = 0
    pre_assessed: bool = False
    plan_submitted: bool = False
    evaluation_months: frozenset[str] = frozenset()
    publicity_start: date | None = None
    publicity_end: date | None = None
    reason: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    override_window: bool = False
    target_changed: bool = False  # --target-grade given on a later event: checked like at enrolment


def check_a_grade(plan: Plan, industry: str, ule: str, grade: str | None) -> None:
    """二、(一): in the ULE industries (钢铁、水泥、焦化) an A grade may be decided only when the
    ultra-low-emission retrofit is completed and publicised. Every place that can decide an A
    (acceptance for A, certify A, a grade correction) calls this."""
    if grade == "A" and industry in plan.ule_industries and ule != "publicized":
        raise Refused(
            f"{industry}企业评A须完成超低排放改造并公示，当前超低排放状态为 {ule or '未填报'}；"
            "请先由市级评审或省级用 enterprise update --ule publicized --ule-ref … --ule-date … 登记公示 "
            "(ULE must be completed and publicized)", rule="超低排放")


def _listed(allowed: tuple[str, ...]) -> str:
    return "、".join(allowed) if allowed else "无"


def certifiable_grades(plan: Plan, industry: str, starting: str) -> tuple[str, ...]:
    """The grades a participation that started at `starting` may reach (target at enrolment,
    certify): on a scale that applies to the industry (the calendar's `scales`), on the starting
    grade's scale and strictly above it, lowest first. B- → B is an improvement and is listed."""
    return tuple(g for g in plan.industries.grades_for(industry)
                 if grades.same_scale(g, starting) and grades.is_higher(g, starting))


def return_grades(plan: Plan, industry: str, starting: str) -> tuple[str, ...]:
    """The grades a disqualified enterprise may be returned to: its starting grade or below, on
    the starting grade's scale, lowest first."""
    below = [g for g in plan.industries.grades_for(industry)
             if grades.same_scale(g, starting) and grades.is_higher(starting, g)]
    return (*below, starting)


def return_grade(plan: Plan, industry: str, starting: str, requested: str | None) -> str:
    """取消评级资格: the grade the enterprise returns to, by default the participation's starting
    grade; a grade the province names must not be above it."""
    if not requested:
        return starting
    grade = grades.normalise(requested)
    allowed = return_grades(plan, industry, starting)
    if grade not in allowed:
        raise Refused(
            f"取消评级资格后的等级 {grade} 不得高于纳入时的等级 {starting}；可选：{_listed(allowed)} "
            "(grade above the starting grade)", rule="取消评级资格")
    return grade


def check_grade_reachable(plan: Plan, industry: str, starting: str, grade: str, *,
                          certify: bool) -> None:
    """`grade` must be on a scale that applies to the industry, on the starting grade's scale and
    above it: the target at enrolment (or a changed target) and the grade certified."""
    allowed = certifiable_grades(plan, industry, starting)
    if grade in allowed:
        return
    if grade not in plan.industries.grades_for(industry):
        why = f"{grade} 不在{industry or '该'}行业适用的评级尺度上"
    elif not grades.same_scale(grade, starting):
        why = f"{grade} 与纳入时的等级 {starting} 不属于同一评级尺度"
    else:
        why = f"{grade} 须高于纳入时的等级 {starting}"
    if certify:
        raise Refused(f"不能认定为 {grade}：{why}；可认定等级：{_listed(allowed)} "
                      "(certify only above the starting grade, on the industry's scale)", rule="认定等级")
    raise Refused(f"目标等级 {grade} 不可选：{why}；可选目标等级：{_listed(allowed)} "
                  "(target must be above the current grade, on the industry's scale)", rule="target")


def check_window(plan: Plan, facts: Facts) -> bool:
    """Raise when outside the event's window; return True when allowed but late."""
    w = plan.window(facts.event)
    closes = w.closes_for(facts.failures > 0)
    if not facts.override_window:
        if w.opens and facts.today < w.opens:
            raise Refused(
                f"{facts.event} 的时间窗口自 {w.opens} 起，今天是 {facts.today} "
                f"(window opens {w.opens})", rule="window")
        if closes and facts.today > closes:
            extra = "" if facts.failures or not w.closes_after_failure else \
                f"；曾未通过的可至 {w.closes_after_failure}"
            raise Refused(
                f"{facts.event} 的时间窗口已于 {closes} 关闭{extra}，今天是 {facts.today} "
                f"(window closed {closes})", rule="window")
    return bool(w.late_after and facts.today > w.late_after)


def _require(payload: dict[str, Any], keys: tuple[str, ...], event: str, hint: str) -> None:
    missing = [k for k in keys if not str(payload.get(k, "")).strip()]
    if missing:
        raise Refused(f"{event} 缺少 {', '.join(missing)}：{hint}", rule="payload")


def _enroll(plan: Plan, f: Facts) -> None:
    if not str(f.payload.get("consent", "")).strip():
        raise Refused("纳入培育清单须有企业自愿申请 (consent reference)：请用 --consent 给出编号",
                      rule="企业自愿")
    target = f.target_grade
    if not target:
        raise Refused("请用 --target-grade 给出目标等级 (target grade)", rule="target")
    check_grade_reachable(plan, f.industry, f.grade, target, certify=False)


def _pre_assessment(plan: Plan, f: Facts) -> None:
    _require(f.payload, ("findings",), "record_pre_assessment", "--data findings=…")


def _plan(plan: Plan, f: Facts) -> None:
    if not f.pre_assessed:
        raise Refused("提交一企一策方案前须先记录预评估 (record_pre_assessment first)", rule="预评估")
    _require(f.payload, ("summary", "measures", "completion_date"), "submit_plan",
             "--data summary=… --data measures=… --data completion_date=YYYY-MM-DD")
    try:
        date.fromisoformat(str(f.payload["completion_date"]))
    except ValueError:
        raise Refused(f"completion_date '{f.payload['completion_date']}' 应为 YYYY-MM-DD",
                      rule="payload") from None


def _begin_tracking(plan: Plan, f: Facts) -> None:
    if not f.plan_submitted:
        raise Refused("开始跟踪评估前须先提交一企一策方案 (submit_plan first)", rule="一企一策")


def _evaluation(plan: Plan, f: Facts) -> None:
    month = str(f.payload.get("month", ""))
    if not MONTH_RE.fullmatch(month):
        raise Refused(f"请用 --month YYYY-MM 指定评估月份，收到 {month!r}", rule="payload")
    if month > f.today.strftime("%Y-%m"):
        raise Refused(f"不能记录未来月份 {month} 的评估（今天 {f.today}）", rule="month")
    if month < plan.start.strftime("%Y-%m"):
        raise Refused(f"评估月份 {month} 早于行动开始 {plan.start}", rule="month")
    if month in f.evaluation_months:
        raise Refused(f"{month} 的月度评估已记录，每月一次 (one evaluation per month)",
                      rule="每月一次")


def _submit_for_acceptance(plan: Plan, f: Facts) -> None:
    if not f.evaluation_months:
        raise Refused("申请验收前须至少有一次月度评估 (needs an evaluation)", rule="跟踪评估")
    check_a_grade(plan, f.industry, f.ule, f.target_grade)


def _pass_acceptance(plan: Plan, f: Facts) -> None:
    check_a_grade(plan, f.industry, f.ule, f.target_grade)


def _publicize(plan: Plan, f: Facts) -> None:
    if f.publicity_start is not None:
        raise Refused(f"已于 {f.publicity_start} 开始公示，至 {f.publicity_end} 结束", rule="公示")


def _object(plan: Plan, f: Facts) -> None:
    if f.publicity_start is None or f.publicity_end is None or f.today > f.publicity_end:
        raise Refused("异议只能在公示期内提出 (objection only during publicity)", rule="公示")


def _certify(plan: Plan, f: Facts) -> None:
    if f.publicity_end is None:
        raise Refused("认定前须先公示 (publicize first)", rule="公示")
    if f.today <= f.publicity_end:
        raise Refused(f"公示期至 {f.publicity_end} 结束，之后方可认定 (publicity not over)",
                      rule="公示")
    grade = certified_grade(f)
    check_grade_reachable(plan, f.industry, f.starting_grade, grade, certify=True)
    check_a_grade(plan, f.industry, f.ule, grade)


def certified_grade(f: Facts) -> str:
    """The grade `certify` decides: --grade, or else the target."""
    return grades.normalise(str(f.payload.get("grade") or f.target_grade or ""))


def _disqualify(plan: Plan, f: Facts) -> None:
    return_grade(plan, f.industry, f.starting_grade, f.payload.get("grade"))


def _close(plan: Plan, f: Facts) -> None:
    if f.today < plan.end and not f.override_window:
        raise Refused(f"年终关闭须在行动结束日 {plan.end} 及以后", rule="window")


_SPECIFIC = {
    "enroll": _enroll,
    "record_pre_assessment": _pre_assessment,
    "submit_plan": _plan,
    "begin_tracking": _begin_tracking,
    "record_evaluation": _evaluation,
    "submit_for_acceptance": _submit_for_acceptance,
    "pass_acceptance": _pass_acceptance,
    "publicize": _publicize,
    "object": _object,
    "certify": _certify,
    "disqualify": _disqualify,
    "close": _close,
}


def check(plan: Plan, facts: Facts) -> bool:
    """Run every guard of the event; return the late flag, raise Refused otherwise."""
    spec = EVENTS[facts.event]
    if facts.event == "enroll" and facts.state == "disqualified":
        raise Refused("该企业已被取消评级资格，本年度行动中不得重新纳入培育清单 "
                      "(disqualified: may not re-enrol in this campaign)", rule="取消评级资格")
    if facts.state not in spec.sources:
        raise Refused(
            f"当前状态为 {facts.state}（{STATE_ZH.get(facts.state, '')}），不能执行 {facts.event}；"
            f"{spec.zh}只能从 {', '.join(spec.sources)} 执行 (invalid from state {facts.state})",
            rule="state")
    if spec.needs_reason and not facts.reason.strip():
        raise Refused(f"{facts.event}（{spec.zh}）须用 --reason 说明理由 (reason required)",
                      rule="reason")
    late = check_window(plan, facts) if facts.event != "close" else False
    if facts.target_changed and facts.event != "enroll" and facts.target_grade:
        check_grade_reachable(plan, facts.industry, facts.starting_grade, facts.target_grade,
                              certify=False)
    guard = _SPECIFIC.get(facts.event)
    if guard:
        guard(plan, facts)
    return late
