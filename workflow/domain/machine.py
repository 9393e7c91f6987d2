"""The one shared `transitions` machine. Models are never bound to it: each
event is fired on a throw-away subject whose state comes from the database."""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from transitions import EventData, Machine

from workflow.domain import rules
from workflow.domain.plan import Plan
from workflow.domain.states import EVENTS, STATES, UNENROLLED
from workflow.errors import Refused


class Subject:
    """What the machine drives: the stored state plus the facts for the guards."""

    __slots__ = ("facts", "late", "state")

    def __init__(self, facts: rules.Facts) -> None:
        self.state = facts.state
        self.facts = facts
        self.late = False


def _guard(event: EventData) -> bool:
    subject = event.model
    assert isinstance(subject, Subject)
    subject.late = rules.check(event.kwargs["plan"], subject.facts)
    return True


def _transitions() -> list[dict[str, Any]]:
    return [
        {"trigger": e.name, "source": list(e.sources), "dest": e.dest, "conditions": [_guard]}
        for e in EVENTS.values()
    ]


@cache
def machine() -> Machine:
    return Machine(model=None, states=[UNENROLLED, *STATES], transitions=_transitions(),
                   initial=UNENROLLED, auto_transitions=False, send_event=True)


def fire(plan: Plan, facts: rules.Facts) -> tuple[str, bool]:
    """Fire one event; return (destination state, late flag) or raise Refused."""
    m = machine()
    event = m.events.get(facts.event)
    if event is None:
        raise Refused(f"未知事件 '{facts.event}'，可选：{', '.join(EVENTS)} (unknown event)",
                      rule="event")
    if facts.state not in event.transitions:
        rules.check(plan, facts)  # raises the readable state refusal
    subject = Subject(facts)
    if not event.trigger(subject, plan=plan):
        raise Refused(f"{facts.event} 未能执行 (transition refused)", rule="state")
    return subject.state, subject.late


def graph(fmt: str) -> str:
    """The machine as the engine sees it, drawn by transitions' own diagram support."""
    from transitions.extensions import GraphMachine

    engine: Literal["mermaid", "graphviz"] = "mermaid" if fmt == "mermaid" else "graphviz"
    gm = GraphMachine(model=None, states=[UNENROLLED, *STATES], initial=UNENROLLED,
                      transitions=[{k: v for k, v in t.items() if k != "conditions"}
                                   for t in _transitions()],
                      auto_transitions=False, graph_engine=engine, title="创A晋B 参与状态机")

    class _Model:
        pass

    model = _Model()
    gm.add_model(model)
    g = model.get_graph()  # type: ignore[attr-defined]
    return str(g.draw(None)) if engine == "mermaid" else str(g.source)
