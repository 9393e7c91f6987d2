"""The one shared `transitions` machine. Models are never bound to it: each
event is fired on a throw-away subject whose state comes from the database."""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from transitions import Machine

from workflow.domain import rules
from workflow.domain.plan import Plan
from workflow.domain.states import EVENTS, STATES, UNENROLLED
from workflow.errors import Refused


class Subject:
    """What the machine moves: a throw-away holder of the stored state."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def _transitions() -> list[dict[str, Any]]:
    return [{"trigger": e.name, "source": list(e.sources), "dest": e.dest} for e in EVENTS.values()]


@cache
def machine() -> Machine:
    return Machine(model=None, states=[UNENROLLED, *STATES], transitions=_transitions(),
                   initial=UNENROLLED, auto_transitions=False)


def fire(plan: Plan, facts: rules.Facts) -> tuple[str, bool]:
    """Fire one event; return (destination state, late flag) or raise Refused. The guards run once,
    before the machine moves: they check the state first (`rules.check`), so the machine is only
    ever asked for a transition it has."""
    event = machine().events.get(facts.event)
    if event is None:
        raise Refused(f"未知事件 '{facts.event}'，可选：{', '.join(EVENTS)} (unknown event)",
                      rule="event")
    late = rules.check(plan, facts)
    return _destination(facts.event, facts.state), late


@cache
def _destination(event: str, state: str) -> str:
    """Where the machine takes `state` on `event`. The machine has no conditions or callbacks and
    never changes, so its answer for a pair is remembered: the first firing asks `transitions`,
    the others reuse it (the guards in `rules.check` still run on every event)."""
    subject = Subject(state)
    machine().events[event].trigger(subject)
    return str(subject.state)


def graph(fmt: str) -> str:
    """The machine as the engine sees it, drawn by transitions' own diagram support."""
    from transitions.extensions import GraphMachine

    engine: Literal["mermaid", "graphviz"] = "mermaid" if fmt == "mermaid" else "graphviz"
    gm = GraphMachine(model=None, states=[UNENROLLED, *STATES], initial=UNENROLLED,
                      transitions=_transitions(),
                      auto_transitions=False, graph_engine=engine, title="创A晋B 参与状态机")

    class _Model:
        pass

    model = _Model()
    gm.add_model(model)
    g = model.get_graph()  # type: ignore[attr-defined]
    return str(g.draw(None)) if engine == "mermaid" else str(g.source)
