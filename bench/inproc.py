"""Issue 16, goals 1 and 2: the engine's service API in-process, beside the raw sqlite3 floor and a plain
transitions + SQLModel contender (bench/contender.py), on the same enterprises and the same 14 events each.

    .venv/bin/python bench/inproc.py             # 1,000 enterprises × 14 events, 3 interleaved rounds
    .venv/bin/python bench/inproc.py --small     # CI size

Interactive: one commit per event (`api.advance`; the floor reads the chain head in each transaction).
Batch: one transaction per event file (`api.advance_batch`; the floor uses executemany). Every round starts
from fresh copies of one prepared database; each side's ratio is taken within its round, and the report
gives the median of the rounds. After each engine run the chain is verified and every participation must
be certified, and the same is checked for the floor and the contender, so no side can skip work.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import contender, data, floor, province  # noqa: E402
from bench.proc import campaign  # noqa: E402

ROLES = {data.ADMIN: "province_admin", **{a: r for a, r, _ in data.ACTORS}}
GOAL_INTERACTIVE_VS_CONTENDER = 3.0  # the engine at least 3× the plain contender's rate
GOAL_INTERACTIVE_VS_FLOOR = 8.0  # and within 8× of the floor's time
GOAL_BATCH_VS_FLOOR = 5.0


@dataclass(frozen=True)
class Phase:
    now: str
    actor: str
    rows: list[dict[str, str]]  # the event file's columns
    path: Path


def prepare(work: Path, n: int) -> tuple[Path, list[Phase]]:
    """A database with n enterprises of 郑州市 imported and an expert assigned to each, and the 10 phases."""
    base = work / "base.db"
    env = data.init_db(base)
    rows = data.candidates(n, seed=11)
    campaign(["--actor", data.ADMIN, "enterprise", "import",
              str(data.write_enterprises(work / "enterprises.csv", rows))], env)
    data.assign_experts(base, [r["code"] for r in rows])
    phases = []
    for path, now, actor, _ in data.event_files(work, rows):
        with path.open(encoding="utf-8", newline="") as f:
            phases.append(Phase(now, actor, list(csv.DictReader(f)), path))
    return base, phases


def _requests(phase: Phase) -> list[tuple[int, Any]]:
    from workflow.files.batch import read_events

    return read_events(phase.path)


def _engine_context(db: Path) -> Any:
    from bench.web_data import context

    return context(str(db), "2024-05-06")


def _on(ctx: Any, phase: Phase) -> Any:
    from workflow.clock import FixedClock, parse_instant

    return dataclasses.replace(ctx, actor=phase.actor, clock=FixedClock(parse_instant(phase.now)))


def engine_interactive(db: Path, phases: list[Phase]) -> Callable[[], None]:
    from workflow import api

    ctx = _engine_context(db)
    reqs = [(_on(ctx, p), [r for _, r in _requests(p)]) for p in phases]

    def go() -> None:
        for c, rs in reqs:
            for r in rs:
                api.advance(c, r)
    return go


def engine_batch(db: Path, phases: list[Phase]) -> Callable[[], None]:
    from workflow import api

    ctx = _engine_context(db)
    reqs = [(_on(ctx, p), _requests(p)) for p in phases]

    def go() -> None:
        for c, rs in reqs:
            ok, outcomes = api.advance_batch(c, rs)
            if not ok:
                raise RuntimeError(f"batch refused: {[o for o in outcomes if not o.ok][:2]}")
    return go


def plain(db: Path, phases: list[Phase], *, batch: bool) -> Callable[[], None]:
    from sqlalchemy import create_engine, event

    engine = create_engine(f"sqlite:///{db}")

    @event.listens_for(engine, "connect")
    def _pragmas(con: Any, _: Any) -> None:
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            con.execute(f"PRAGMA {pragma}")

    reqs = [(p.actor, [r for _, r in _requests(p)]) for p in phases]

    def go() -> None:
        for actor, rs in reqs:
            contender.run(engine, floor.NOW, actor, rs, batch=batch)
    return go


def raw(db: Path, phases: list[Phase], *, interactive: bool) -> Callable[[], None]:
    def go() -> None:
        for p in phases:
            floor.advance_rows(db, p.rows, p.actor, ROLES[p.actor], data.CITY, interactive=interactive)
    return go


def _certified(db: Path) -> int:
    con = floor.connect(db)
    try:
        return int(con.execute("SELECT count(*) FROM participation WHERE state = 'certified'").fetchone()[0])
    finally:
        con.close()


def _verify(db: Path) -> None:
    from models.db import make_engine
    from workflow import api
    from workflow.context import Context

    engine = make_engine(str(db))
    try:
        api.verify(Context(engine=engine))
    finally:
        engine.dispose()


SIDES: dict[str, tuple[str, Callable[[Path, list[Phase]], Callable[[], None]]]] = {
    "engine interactive": ("interactive", engine_interactive),
    "contender interactive": ("interactive", lambda db, ph: plain(db, ph, batch=False)),
    "floor interactive": ("interactive", lambda db, ph: raw(db, ph, interactive=True)),
    "engine batch": ("batch", engine_batch),
    "contender batch": ("batch", lambda db, ph: plain(db, ph, batch=True)),
    "floor batch": ("batch", lambda db, ph: raw(db, ph, interactive=False)),
}


def run_round(work: Path, base: Path, phases: list[Phase], n: int, k: int) -> dict[str, float]:
    names = list(SIDES)
    names = names[k % len(names):] + names[:k % len(names)]  # interleave: each round starts elsewhere
    out: dict[str, float] = {}
    for name in names:
        db = province.copy(base, work / f"r{k}-{name.replace(' ', '-')}.db")
        go = SIDES[name][1](db, phases)
        t = time.perf_counter()
        go()
        out[name] = time.perf_counter() - t
        if _certified(db) != n:
            raise RuntimeError(f"{name}: {_certified(db)} of {n} certified")
        if name.startswith("engine"):
            _verify(db)
    return out


@dataclass(frozen=True)
class Summary:
    """Medians over the rounds: seconds per side, and each ratio taken within its round."""

    n: int
    events: int
    rounds: int
    seconds: dict[str, float]
    vs_floor_interactive: float  # engine / floor, interactive
    vs_contender: float  # contender / engine, interactive: how many times faster the engine is
    vs_floor_batch: float  # engine / floor, batch
    lines: list[str]


def measure(out: Path, n: int, rounds: int) -> Summary:
    """Prepare once, run every side `rounds` times interleaved, report medians (and print them)."""
    import shutil

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    base, phases = prepare(out, n)
    events = sum(len(ph.rows) for ph in phases)
    results = []
    for k in range(rounds):
        r = run_round(out, base, phases, n, k)
        results.append(r)
        print(f"  in-process round {k + 1}: " + ", ".join(f"{name} {events / t:,.0f} ev/s" for name, t in r.items()),
              flush=True)
    shutil.rmtree(out, ignore_errors=True)

    def ratio(a: str, b: str) -> float:
        return statistics.median(r[a] / r[b] for r in results)

    return Summary(n, events, rounds, {name: statistics.median(r[name] for r in results) for name in SIDES},
                   ratio("engine interactive", "floor interactive"),
                   ratio("contender interactive", "engine interactive"),
                   ratio("engine batch", "floor batch"), report(results, n, events))


def main(argv: list[str] | None = None) -> Summary:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--small", action="store_true", help="CI size: 40 enterprises, 1 round")
    p.add_argument("--n", type=int, default=None, help="enterprises (full: 1,000)")
    p.add_argument("--rounds", type=int, default=None, help="interleaved rounds (full: 3)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "inproc")
    args = p.parse_args(argv)
    return measure(args.out, args.n or (40 if args.small else 1000), args.rounds or (1 if args.small else 3))


def report(results: list[dict[str, float]], n: int, events: int) -> list[str]:
    def med(name: str) -> float:
        return statistics.median(events / r[name] for r in results)

    def ratio(a: str, b: str) -> float:
        return statistics.median(r[a] / r[b] for r in results)

    vs_contender = ratio("contender interactive", "engine interactive")
    vs_floor = ratio("engine interactive", "floor interactive")
    batch_floor = ratio("engine batch", "floor batch")
    lines = [
        f"in-process, {n:,} enterprises × {events // n} events = {events:,} events, "
        f"medians of {len(results)} interleaved round(s)",
        "",
        "| side | interactive (commit per event) | × floor | batch (transaction per file) | × floor |",
        "|---|---:|---:|---:|---:|",
    ]
    for side in ("floor", "contender", "engine"):
        lines.append(f"| {side} | {med(side + ' interactive'):,.0f} ev/s | "
                     f"{ratio(side + ' interactive', 'floor interactive'):.2f}× | "
                     f"{med(side + ' batch'):,.0f} ev/s | {ratio(side + ' batch', 'floor batch'):.2f}× |")
    lines += [
        "",
        f"- goal 1a, interactive engine ≥ {GOAL_INTERACTIVE_VS_CONTENDER:.0f}× the contender: "
        f"{vs_contender:.2f}× — {'met' if vs_contender >= GOAL_INTERACTIVE_VS_CONTENDER else 'missed'}",
        f"- goal 1b, interactive engine within {GOAL_INTERACTIVE_VS_FLOOR:.0f}× of the floor: "
        f"{vs_floor:.2f}× — {'met' if vs_floor <= GOAL_INTERACTIVE_VS_FLOOR else 'missed'}",
        f"- goal 2, batch engine within {GOAL_BATCH_VS_FLOOR:.0f}× of the floor: "
        f"{batch_floor:.2f}× — {'met' if batch_floor <= GOAL_BATCH_VS_FLOOR else 'missed'}",
    ]
    print("\n".join(lines), flush=True)
    return lines


if __name__ == "__main__":
    main()
