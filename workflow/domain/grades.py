"""Performance grades (绩效等级) and their order (pure)."""

from __future__ import annotations

from workflow.errors import InvalidInput

UNRATED = "未评级"
# Two scales share the bottom: A–D for most industries, 引领性 for the rest.
ABCD = (UNRATED, "D", "C", "B-", "B", "A")
LEADING = (UNRATED, "非引领性", "引领性")
ALL = ABCD + LEADING[1:]
COUNTED = frozenset({"A", "B", "B-", "引领性"})  # docs/rules.md#targets: what counts as new

_ALIASES = {"": UNRATED, "UNRATED": UNRATED, "NONE": UNRATED, "LEADING": "引领性",
            "NON-LEADING": "非引领性", "NONLEADING": "非引领性", "B−": "B-"}


def normalise(text: str) -> str:
    """Return the canonical grade, or raise naming the accepted ones."""
    raw = (text or "").strip()
    grade = _ALIASES.get(raw.upper(), raw.upper() if raw.upper() in ABCD else raw)
    if grade not in ALL:
        raise InvalidInput(f"未知绩效等级 '{text}'，可选：{'、'.join(ALL)} (unknown grade)")
    return grade


def _scale(grade: str) -> tuple[str, ...]:
    return LEADING if grade in LEADING[1:] else ABCD


def is_higher(new: str, old: str) -> bool:
    """True when `new` is above `old` on a common scale (未评级 is below both)."""
    if old == UNRATED:
        return new != UNRATED
    if new == UNRATED or _scale(new) is not _scale(old):
        return False
    scale = _scale(new)
    return scale.index(new) > scale.index(old)


def same_scale(a: str, b: str) -> bool:
    return UNRATED in (a, b) or _scale(a) is _scale(b)


# The plan counts "B 级（含 B-）" as one class: B-→B is an improvement but not a new B.
_CLASS = {UNRATED: 0, "D": 1, "C": 2, "B-": 3, "B": 3, "A": 4, "非引领性": 1, "引领性": 2}


def counts_as_new(achieved: str | None, starting: str) -> bool:
    """docs/rules.md#targets: certified with a counted grade in a higher class than the starting
    grade, on a common scale (B and B- are one class)."""
    if achieved is None or achieved not in COUNTED or not is_higher(achieved, starting):
        return False
    return starting == UNRATED or _CLASS[achieved] > _CLASS[starting]
