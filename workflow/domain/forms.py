"""The fields each event asks for in the web workspace, and reading them back into a Request (pure).

A field's name is the `campaign advance` option it stands for: `reason`, `month`, `grade`, `consent`,
`target_grade`, or `data:KEY` for `--data KEY=…`. What is required follows rules.py: a reason for
every event that needs one (`EventSpec.needs_reason`), the consent and target of an enrolment, the
findings of a pre-assessment, the three parts of a plan, the month of an evaluation
(docs/rules.md#lifecycle). Choices of a grade field depend on the enterprise (`with_choices`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date

from workflow.domain import rules
from workflow.domain.decide import Request
from workflow.domain.plan import Plan
from workflow.domain.states import EVENTS
from workflow.errors import InvalidInput

KINDS = ("text", "textarea", "month", "date", "select")


@dataclass(frozen=True)
class FieldSpec:
    name: str  # the form field's name = the advance option: "reason", "month", "data:summary", …
    label: str  # Chinese label
    kind: str  # "text" | "textarea" | "month" | "date" | "select"
    required: bool
    choices: tuple[str, ...] = ()
    hint: str = ""


@dataclass(frozen=True)
class Action:
    event: str
    label: str
    fields: tuple[FieldSpec, ...]


_REASON = FieldSpec("reason", "理由", "textarea", True, hint="必填：写明理由，记入审计日志")
_OWN: dict[str, tuple[FieldSpec, ...]] = {
    "enroll": (FieldSpec("consent", "企业自愿申请编号", "text", True, hint="企业自愿申请的编号或文号"),
               FieldSpec("target_grade", "目标等级", "select", True, hint="须高于现绩效等级")),
    "record_pre_assessment": (FieldSpec("data:findings", "预评估发现的问题", "textarea", True),),
    "submit_plan": (FieldSpec("data:summary", "方案概要", "textarea", True),
                    FieldSpec("data:measures", "提升措施", "textarea", True),
                    FieldSpec("data:completion_date", "计划完成日期", "date", True, hint="YYYY-MM-DD")),
    "record_evaluation": (FieldSpec("month", "评估月份", "month", True, hint="YYYY-MM，每月一次，不晚于本月"),),
    "certify": (FieldSpec("grade", "认定等级", "select", False, hint="留空则按目标等级认定"),
                FieldSpec("data:rating_doc", "认定文件文号", "text", False, hint="留空则记为本次认定的审计编号")),
    "disqualify": (FieldSpec("grade", "恢复至等级", "select", False, hint="留空则恢复至纳入时的等级"),),
}


def fields(event: str) -> tuple[FieldSpec, ...]:
    """The fields `event` asks for (a reason first where the event needs one); unknown events none."""
    spec = EVENTS.get(event)
    if spec is None:
        return ()
    return ((_REASON,) if spec.needs_reason else ()) + _OWN.get(event, ())


def with_choices(plan: Plan, event: str, *, industry: str, grade: str, starting_grade: str | None
                 ) -> tuple[FieldSpec, ...]:
    """The event's fields with the grades this enterprise may choose: a target above its current
    grade (enrol), a certified grade above its starting grade, a grade to return to at or below it."""
    out = []
    for f in fields(event):
        if f.name == "target_grade":
            f = replace(f, choices=rules.certifiable_grades(plan, industry, grade))
        elif f.name == "grade" and event == "certify":
            f = replace(f, choices=rules.certifiable_grades(plan, industry, starting_grade or grade))
        elif f.name == "grade" and event == "disqualify":
            f = replace(f, choices=rules.return_grades(plan, industry, starting_grade or grade))
        out.append(f)
    return tuple(out)


def action(plan: Plan, event: str, *, industry: str, grade: str, starting_grade: str | None) -> Action:
    return Action(event, EVENTS[event].zh, with_choices(plan, event, industry=industry, grade=grade,
                                                        starting_grade=starting_grade))


def _value(f: FieldSpec, raw: str) -> str:
    value = raw.strip()
    if not value:
        if f.required:
            raise InvalidInput(f"请填写{f.label} (required)")
        return ""
    if f.kind == "month" and not rules.MONTH_RE.fullmatch(value):
        raise InvalidInput(f"{f.label}应为 YYYY-MM，收到 '{value}' (not a month)")
    if f.kind == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"{f.label}应为 YYYY-MM-DD，收到 '{value}' (not a date)") from None
    return value


def version(raw: str | None) -> int | None:
    """The participation's version the form was rendered from ("" : none yet, an enrolment)."""
    text = (raw or "").strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit():
        raise InvalidInput(f"页面版本 '{text}' 无效，请刷新页面后重试 (bad version)")
    return int(text)


def request(event: str, form: Mapping[str, str], code: str) -> Request:
    """The advance Request of a submitted form: only the fields the event asks for are read; a
    missing required field or a malformed month or date is InvalidInput naming the field."""
    if event not in EVENTS:
        raise InvalidInput(f"未知事件 '{event}'，可选：{', '.join(EVENTS)} (unknown event)")
    values = {f.name: _value(f, str(form.get(f.name, "") or "")) for f in fields(event)}
    data = {k.removeprefix("data:"): v for k, v in values.items() if k.startswith("data:") and v}
    return Request(code=code.strip().upper(), event=event, reason=values.get("reason", ""), data=data,
                   target_grade=values.get("target_grade") or None, consent=values.get("consent") or None,
                   month=values.get("month") or None, grade=values.get("grade") or None,
                   expected_version=version(form.get("version")))
