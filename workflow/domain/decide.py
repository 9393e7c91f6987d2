"""What one event decides (pure): when it takes effect, the state it moves to, whether it is late,
the participation's column changes, the enterprise's new grade and the audit entry's payload.
Given plain values: the request, the enterprise and its participation as read, the clock's now
(docs/rules.md, "The lifecycle")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from workflow.clock import local_date, parse_day, parse_stored
from workflow.domain import effective, grades, machine, rules
from workflow.domain.plan import Plan
from workflow.domain.states import UNENROLLED
from workflow.errors import ConcurrentChange, InvalidInput, Refused


@dataclass(frozen=True)
class Evidence:
    """A file that supports an event (佐证材料), as its audit entry names it; checked and stored
    content-addressed by workflow.services.evidence in the event's transaction."""

    sha256: str
    name: str  # the cleaned file name it was uploaded under
    size: int
    media_type: str  # detected from the content


def evidence_of(payload: Any) -> tuple[Evidence, ...]:
    """The files an audit entry's payload names as its evidence (none for an entry without)."""
    items = payload.get("evidence") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        return ()
    return tuple(Evidence(sha256=str(i.get("sha256", "")), name=str(i.get("name", "")), size=int(i.get("size", 0)),
                          media_type=str(i.get("media_type", ""))) for i in items if isinstance(i, dict))


@dataclass(frozen=True, kw_only=True)
class Request:
    """One event asked for: `campaign advance`, a row of `advance --file`, the year-end close."""

    code: str
    event: str
    reason: str = ""
    data: dict[str, str] = field(default_factory=dict)  # --data KEY=VALUE: the audit payload
    target_grade: str | None = None
    consent: str | None = None
    month: str | None = None
    grade: str | None = None
    override_window: bool = False
    effective: str | None = None  # YYYY-MM-DD: a decision taken on paper that day (province_admin)
    expected_version: int | None = None  # the participation's version the asker saw (web form); None: unchecked
    evidence: tuple[Evidence, ...] = ()  # files stored for this event; named in its audit payload


class Enterprise(Protocol):
    """The enterprise as read."""

    grade: str
    rating_doc: str
    industry: str
    ule: str


class Participation(Protocol):
    """The enterprise's participation in the campaign as read (None when it never enrolled)."""

    state: str
    cycle: int
    version: int
    target_grade: str | None
    starting_grade: str
    starting_rating_doc: str
    failures: int
    pre_assessed: bool
    plan_submitted: bool
    publicity_start: date | None
    publicity_end: date | None
    updated_at: str


@dataclass(frozen=True, kw_only=True)
class Decision:
    """What the event changes, for the caller to write in one transaction."""

    source: str  # the state the event leaves
    dest: str  # the state it enters
    late: bool
    at: datetime  # when it takes effect
    changes: dict[str, Any]  # the participation's columns it sets, besides state, version, updated_at
    version: int  # the participation's version after it
    cycle: int
    payload: dict[str, Any]  # the audit entry's payload: what was asked and what the engine recorded
    grade: tuple[str, str | None] | None  # the enterprise's new grade and 评级文件文号 (None: see decision_doc)
    month: str | None  # the evaluation month it records


# What a new cycle starts without; not repeated in its audit entry.
_RESTART: dict[str, Any] = {"failures": 0, "pre_assessed": False, "plan_submitted": False,
                            "publicity_start": None, "publicity_end": None, "achieved_grade": None}
_NOT_AUDITED = frozenset({*_RESTART, "cycle", "consent_ref", "enrolled_late"})  # of an enrolment
# What the engine itself writes into an event's audit payload: `--data` may not set these (the
# replay of `audit verify` reads them as the event's effects).
RESERVED = frozenset({"id", "enterprise_id", "campaign_id", "cycle", "state", "starting_grade",
                      "starting_rating_doc", "target_grade", "achieved_grade", "consent_ref", "enrolled_late",
                      "failures", "pre_assessed", "plan_submitted", "publicity_start", "publicity_end",
                      "version", "updated_at", "consent", "month", "grade", "grade_from", "grade_to", "late",
                      "override_window", "effective", "effective_reason", "accountable", "evidence"})
_MONTHS_READ = frozenset({"record_evaluation", "submit_for_acceptance"})


def reads_months(event: str, part: Participation | None) -> bool:
    """Whether the event's guards look at the evaluation months of the participation's cycle."""
    return part is not None and event in _MONTHS_READ


def decide(plan: Plan, req: Request, code: str, ent: Enterprise, part: Participation | None, *,
           now: datetime, months: frozenset[str] = frozenset(), accountable: list[str] | None = None) -> Decision:
    """Judge the event by every rule and say what it changes, or raise Refused / InvalidInput.
    `months`: the evaluation months of the participation's cycle (`reads_months`); `accountable`:
    who acted on the enterprise in the campaign (a disqualification records them)."""
    if req.expected_version is not None and (part is None or part.version != req.expected_version):
        raise ConcurrentChange(f"企业 {code} 在您打开页面后已被他人更改，请刷新页面查看当前状态后重试 "
                               "(changed by someone else since the page was opened)", code=code)
    at = _effective_at(req, code, part, now)
    today = local_date(at)
    target = grades.normalise(req.target_grade) if req.target_grade else (
        part.target_grade if part is not None and req.event != "enroll" else None)
    payload = _payload(req)
    facts = _facts(req, today, ent, part, target, payload, months)
    if req.override_window and not req.reason.strip():
        raise Refused("--override-window 须用 --reason 说明理由", rule="reason")
    dest, late = machine.fire(plan, facts)
    if part is None:  # a first enrolment: the row's own columns
        changes = {"cycle": 1, "starting_grade": ent.grade, "starting_rating_doc": ent.rating_doc,
                   "target_grade": target, "consent_ref": payload["consent"], "enrolled_late": late, **_RESTART}
        version, new_grade = 1, None
    else:
        changes = _effects(plan, req.event, today, ent, part, facts, late)
        if req.target_grade and target != part.target_grade:
            changes["target_grade"] = target
        version, new_grade = part.version + 1, _grade_change(plan, req, ent, part, changes)
    cycle = changes.get("cycle", 1 if part is None else part.cycle)
    details = _details(req, changes, cycle, late, today, ent.grade, new_grade)
    if accountable is not None:
        payload["accountable"] = accountable
    return Decision(source=UNENROLLED if part is None else part.state, dest=dest, late=late, at=at,
                    changes=changes, version=version, cycle=cycle, payload={**payload, **details},
                    grade=new_grade, month=payload["month"] if req.event == "record_evaluation" else None)


def decision_doc(plan: Plan, event: str, seq: int) -> str:
    """The reference of a grade decided in the campaign without a document of its own."""
    what = "认定" if event == "certify" else "取消评级资格决定"
    return f"{plan.authority}{what}（审计#{seq}）"


def _effective_at(req: Request, code: str, part: Participation | None, now: datetime) -> datetime:
    """When the event takes effect: now, or the day a province admin gives (`--effective`, with a
    reason); never before the participation's previous event."""
    previous = parse_stored(part.updated_at) if part is not None and part.updated_at else None
    if req.effective is None:
        return effective.after_previous(now, previous, code)
    if not req.reason.strip():
        raise Refused("--effective 须用 --reason 说明理由（纸面决定的文号或说明） (reason required)", rule="reason")
    return effective.on_paper(parse_day(req.effective, "生效日期"), now, previous, code)


def _payload(req: Request) -> dict[str, Any]:
    taken = sorted(k for k in req.data if k in RESERVED)
    if taken:
        raise InvalidInput(f"--data 不能设置由系统记录的字段：{'、'.join(taken)} (reserved payload keys)")
    payload: dict[str, Any] = dict(req.data)
    for key, value in (("consent", req.consent), ("month", req.month), ("grade", req.grade)):
        if value:
            payload[key] = value
    return payload


def _facts(req: Request, today: date, ent: Enterprise, part: Participation | None, target: str | None,
           payload: dict[str, Any], months: frozenset[str]) -> rules.Facts:
    facts = rules.Facts(
        event=req.event, today=today, state=UNENROLLED if part is None else part.state, industry=ent.industry,
        grade=ent.grade, ule=ent.ule, target_grade=target, starting_grade=ent.grade, reason=req.reason,
        payload=payload, override_window=req.override_window)
    if part is not None and req.event != "enroll":  # a re-enrolment is judged as a first one
        facts.starting_grade, facts.failures = part.starting_grade, part.failures
        facts.pre_assessed, facts.plan_submitted = part.pre_assessed, part.plan_submitted
        facts.publicity_start, facts.publicity_end = part.publicity_start, part.publicity_end
        facts.target_changed = target != part.target_grade
        facts.evaluation_months = months
    return facts


def _effects(plan: Plan, event: str, today: date, ent: Enterprise, part: Participation,
             facts: rules.Facts, late: bool) -> dict[str, Any]:
    """Column changes the event makes on an existing participation, on the day it takes effect."""
    if event == "enroll":  # 有进有出: a new cycle on the same row, from cultivation, as if enrolled afresh
        return {"cycle": part.cycle + 1, "starting_grade": ent.grade, "starting_rating_doc": ent.rating_doc,
                "target_grade": facts.target_grade, "consent_ref": facts.payload["consent"],
                "enrolled_late": late, **_RESTART}
    if event == "record_pre_assessment":
        return {"pre_assessed": True}
    if event == "submit_plan":
        return {"plan_submitted": True}
    if event in ("fail_acceptance", "fail_recheck", "object"):
        return {"failures": part.failures + 1, "publicity_start": None, "publicity_end": None}
    if event == "publicize":
        return {"publicity_start": today,
                "publicity_end": plan.workcal.nth_workday_after(today, plan.publicity_workdays)}
    if event == "certify":
        return {"achieved_grade": rules.certified_grade(facts)}
    return {}


def _grade_change(plan: Plan, req: Request, ent: Enterprise, part: Participation,
                  changes: dict[str, Any]) -> tuple[str, str | None] | None:
    """The enterprise's new grade and its 评级文件文号 (None: the decision's own audit entry), when
    the event decides one: `certify` gives the certified grade (document: `--data rating_doc=…` if
    given); `disqualify` returns it to the grade it had at enrolment with that grade's document, or
    to the lower grade the province names (取消评级资格)."""
    if req.event == "certify":
        return changes["achieved_grade"], str(req.data.get("rating_doc", "")).strip() or None
    if req.event == "disqualify":
        grade = rules.return_grade(plan, ent.industry, part.starting_grade, req.grade)
        if grade == part.starting_grade:
            return grade, part.starting_rating_doc
        return grade, "" if grade == grades.UNRATED else None
    return None


def _details(req: Request, changes: dict[str, Any], cycle: int, late: bool, today: date, grade: str,
             new_grade: tuple[str, str | None] | None) -> dict[str, Any]:
    """What the engine records of the event in its audit payload, besides what was asked."""
    details: dict[str, Any] = {k: (str(v) if v is not None and not isinstance(v, (bool, int)) else v)
               for k, v in changes.items() if not (req.event == "enroll" and k in _NOT_AUDITED)}
    if new_grade is not None:
        details.update(grade_from=grade, grade_to=new_grade[0])
    if cycle > 1:
        details["cycle"] = cycle
    if late:
        details["late"] = True
    if req.override_window:
        details["override_window"] = True
    if req.effective is not None:  # entered afterwards: the paper decision's day, and why
        details.update(effective=today.isoformat(), effective_reason=req.reason)
    if req.evidence:  # the chain proves which files were the evidence
        details["evidence"] = [{"sha256": e.sha256, "name": e.name, "size": e.size, "media_type": e.media_type}
                               for e in req.evidence]
    return details
