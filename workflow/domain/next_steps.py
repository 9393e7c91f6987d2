"""Whose next step a participation waits for, and by when (pure).

Derived, not listed: the machine says which events move a participation on from its state (every
event whose sources hold the state, except the exits `withdraw`, `disqualify`, `close` and the
failure loops, which are decisions, not steps); the permission matrix says who owns each event (the
first role it names: `province_admin` stands in for the city coordinator but its own step is
`certify`; the caller passes the matrix in, this module knows no database); the participation's
progress says which of those steps is still to take (docs/rules.md#lifecycle):

- assistance: the expert's pre-assessment, then their plan; the coordinator's begin_tracking once
  a plan is submitted;
- tracking: the expert's evaluation of the current month, when not recorded; the coordinator's
  submit_for_acceptance once the cycle has an evaluation;
- certification: the coordinator's publicize, when not yet publicised; the province admin's certify
  once the publicity period is over.

The due date is the step's window closing date in the calendar (the after-failure date once the
cycle has failed; the late date for a window that has one), and for the monthly evaluation the
month's last day when that comes first (附件4 is due then).
"""

from __future__ import annotations

import calendar as _cal
from collections.abc import Mapping
from datetime import date
from typing import NamedTuple

from workflow.domain.plan import Plan
from workflow.domain.states import ACTIVE, EVENTS, STATE_ZH

EXITS = frozenset({"withdraw", "disqualify", "close"})  # leave the campaign: never anyone's next step
YELLOW_DAYS = 3  # due within this many days: yellow


class Progress(NamedTuple):
    """What a participation has done in its cycle, as read (a tuple: lists build thousands)."""

    state: str
    failures: int = 0
    pre_assessed: bool = False
    plan_submitted: bool = False
    evaluated: bool = False  # the cycle has at least one evaluation
    evaluated_this_month: bool = False  # the evaluation of today's month is recorded
    publicity_start: date | None = None
    publicity_end: date | None = None


def forward(state: str) -> tuple[str, ...]:
    """The events that move a participation on from `state` (the machine's order)."""
    return tuple(e.name for e in EVENTS.values() if state in e.sources and e.name not in EXITS and not e.failure)


def steps_by_role(owners: Mapping[str, tuple[str, ...]]) -> dict[str, dict[str, tuple[str, ...]]]:
    """role → state → the forward events of that state the role owns. `owners`: each event's roles
    from the permission matrix, the owner first."""
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for state in ACTIVE:
        for event in forward(state):
            roles = owners.get(event, ())
            if roles:
                mine = out.setdefault(roles[0], {})
                mine[state] = (*mine.get(state, ()), event)
    return out


def pending(event: str, p: Progress, today: date) -> bool:
    """Whether `event` is still to take, given the participation's progress (the order rules.py
    enforces: a plan after the pre-assessment, tracking after the plan, acceptance after an
    evaluation, certify after publicity; a pre-assessment or plan already recorded is done)."""
    if event == "record_pre_assessment":
        return not p.pre_assessed
    if event == "submit_plan":
        return p.pre_assessed and not p.plan_submitted
    if event == "begin_tracking":
        return p.plan_submitted
    if event == "record_evaluation":
        return not p.evaluated_this_month
    if event == "submit_for_acceptance":
        return p.evaluated
    if event == "publicize":
        return p.publicity_start is None
    if event == "certify":
        return p.publicity_end is not None and today > p.publicity_end
    return True


def next_step(events: tuple[str, ...], p: Progress, today: date) -> str | None:
    """The first of a role's forward events of the state that is still to take."""
    return next((e for e in events if pending(e, p, today)), None)


def step_label(event: str, owners: Mapping[str, tuple[str, ...]]) -> str:
    """The step's name: the event's, or for a review that may also fail (its owner owns the state's
    failure loop: 验收, 省级复核) the state's."""
    spec = EVENTS[event]
    state = spec.sources[0]
    owner = owners.get(event, ("",))[0]
    decides = spec.dest != state and any(
        e.failure and state in e.sources and owners.get(e.name, ("",))[0] == owner for e in EVENTS.values())
    return STATE_ZH[state] if decides else spec.zh


def _month_end(day: date) -> date:
    return date(day.year, day.month, _cal.monthrange(day.year, day.month)[1])


def due(plan: Plan, event: str, p: Progress, today: date) -> date | None:
    """When the step is due: its window's late date or closing date (after a failure, the
    after-failure one); the monthly evaluation by the month's end."""
    w = plan.window(event)
    closes = w.closes_for(p.failures > 0)
    end = (w.late_after if w.late_after and not p.failures else None) or closes
    if event == "record_evaluation":
        month_end = _month_end(today)
        return month_end if end is None or month_end < end else end
    return end


def urgency(days_left: int | None) -> str:
    """"red" overdue, "yellow" due within 3 days, "green" later, "none" without a due date."""
    if days_left is None:
        return "none"
    if days_left < 0:
        return "red"
    return "yellow" if days_left <= YELLOW_DAYS else "green"
