"""A province on PostgreSQL (issue 16, goal 4): the engine beside a raw psycopg floor, in one run.

    .venv/bin/python bench/pg_province.py              # 500,000 participations (15–30 minutes on 2 cores)
    .venv/bin/python bench/pg_province.py --small      # CI size (well under a minute)
    .venv/bin/python bench/pg_province.py --n 100000 --pg postgresql+psycopg://…/postgres

Set-up (not timed, bench/pg_data.py): a database of our own on the server --pg, `campaign init
--simulation` and the actors; `campaign enterprise import` of n enterprises over the 19 reporting units
(weighted by size); then every enterprise takes part, written with COPY in the states of a campaign's
autumn with the audit entries of the events that brought each there (so `audit verify` passes and the
scheduler reads a real history); an expert is assigned enterprises through the API.

Timed, engine beside floor (bench/pg_floor.py: psycopg, COPY for loads, server-side cursors for reads):

1. import of n enterprises: `campaign enterprise import` (child process) vs COPY of the same rows and
   their chained audit rows, each into a fresh copy of the initialised database;
2. `scheduler tick` on the busiest day (2024-10-01: September's missing evaluations, the participations
   ready to certify, the cities' reminders), child process, peak RSS (goal ≤ 300 MB) vs the floor's
   notices, outbox files, delivery rows and audit entry;
3. `report targets` (child process; goal ≤ 1 s) and in-process, vs the floor's GROUP BY;
4. `audit digest` (the hash chain alone, child process) rate vs the floor's (goal ≥ 0.85×); `audit verify`
   (chain and the replay of every audited table) measured beside;
5. the task list (`workflow.services.tasks.my_tasks`, in-process, --calls calls) of a city coordinator
   (许昌市), an expert, and the coordinator of the largest city (郑州市), p95 (goal ≤ 100 ms), vs the same
   candidate rows read with psycopg.

Prints a markdown table (workload, engine, floor, ratio, goal, met/missed) with the machine and date.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import shutil
import signal
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import data, pg_data, pg_floor, proc, web_data  # noqa: E402
from bench.proc import Run  # noqa: E402
from bench.run import machine  # noqa: E402

GOAL_IMPORT, GOAL_TICK, GOAL_TICK_MB, GOAL_REPORT_S, GOAL_VERIFY, GOAL_TASKS_MS = 3.0, 3.0, 300.0, 1.0, 0.85, 100.0
TICK_MONTH, TICK_CUT, TICK_DUE = "2024-09", "2024-09-30T16:00:00.000000Z", "2024-09-30"  # 10-01 00:00 Shanghai
BIG_COORD = data.COORD  # 郑州联络员: the largest city


@dataclass
class Sizes:
    n: int = 500_000  # enterprises, all taking part
    calls: int = 200  # my_tasks calls per person
    assigned: int = 90  # enterprises assigned to the expert


SMALL = Sizes(n=3_000, calls=20, assigned=20)


@dataclass
class Line:
    workload: str
    engine: str
    floor: str
    ratio: str
    goal: str
    verdict: str
    note: str = ""


@dataclass
class Report:
    lines: list[Line] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    def add(self, line: Line) -> None:
        self.lines.append(line)
        print(f"  {line.workload}: engine {line.engine}, floor {line.floor}, ratio {line.ratio}, goal {line.goal}: "
              f"{line.verdict}  {line.note}", flush=True)


def secs(x: float) -> str:
    return f"{x:.3f} s"


def ms(x: float) -> str:
    return f"{x * 1000:.1f} ms"


def met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[max(0, min(len(s) - 1, int(len(s) * q + 0.5) - 1))]


def expect(run: Run, text: str) -> Run:
    if text not in run.stdout:
        raise RuntimeError(f"expected {text!r} in output:\n{run.stdout[-1500:]}\n{run.stderr[-1500:]}")
    return run


def campaign(args: list[str], environ: dict[str, str]) -> Run:
    """`campaign ARGS` as a child process: wall time, output and its own peak RSS (bench/proc.py)."""
    return proc.campaign(args, environ)


def in_child(fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    """`fn(*args, **kw)` in a forked child process, its result sent back. Set-up and floors that hold much
    memory run there, so this process stays small: a child `campaign` process's peak RSS (ru_maxrss) counts
    the pages it shares with this process between fork and exec."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as ex:
        return ex.submit(fn, *args, **kw).result()


def timed_in_child(fn: Callable[..., Any], *args: Any, **kw: Any) -> tuple[float, Any]:
    return cast(tuple[float, Any], in_child(_timed_call, fn, *args, **kw))


def _timed_call(fn: Callable[..., Any], *args: Any, **kw: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn(*args, **kw)
    return time.perf_counter() - t, out


def env(url: str, now: str) -> dict[str, str]:
    return {"CAMPAIGN_DB": url, "CAMPAIGN_NOW": now}


# --- the workloads ---------------------------------------------------------------------------------

def w_import(st: pg_data.Store, csv: Path, n: int, rep: Report) -> str:
    """Returns the engine's database (the province is built on it)."""
    eng, flo = st.copy("base", "import_engine"), st.copy("base", "import_floor")
    run = expect(campaign(["--actor", pg_data.ADMIN, "enterprise", "import", str(csv)], env(eng, pg_data.IMPORT_NOW)),
                 f"已导入 {n} ")
    t_floor, got = timed_in_child(pg_floor.import_csv, flo, csv, pg_data.ADMIN)
    if got != n:
        raise RuntimeError(f"floor imported {got} of {n}")
    st.drop("import_floor")
    ratio = run.seconds / t_floor
    rep.add(Line(f"1. import {n:,} enterprises", secs(run.seconds), secs(t_floor), f"{ratio:.2f}×",
                 f"≤ {GOAL_IMPORT:g}×", met(ratio <= GOAL_IMPORT),
                 f"{n / run.seconds:,.0f} rows/s (floor {n / t_floor:,.0f}/s); peak RSS {run.max_rss_mb:.0f} MB"))
    return eng


def w_tick(st: pg_data.Store, out: Path, rep: Report) -> None:
    eng, flo = st.copy("province", "tick_engine"), st.copy("province", "tick_floor")
    here = os.getcwd()
    (out / "tick").mkdir(parents=True, exist_ok=True)
    os.chdir(out / "tick")  # the engine's outbox goes under its working directory
    try:
        run = campaign(["scheduler", "tick"], env(eng, pg_data.TICK_DAY))
    finally:
        os.chdir(here)
    t_floor, notices = timed_in_child(pg_floor.tick, flo, out / "tick-floor-outbox", month=TICK_MONTH, cut=TICK_CUT,
                                      due=TICK_DUE, today=pg_data.TICK_DAY)
    made = pg_data.count(eng, "SELECT count(*) FROM notice")
    delivered = pg_data.count(eng, "SELECT count(*) FROM notice WHERE status = 'delivered'")
    st.drop("tick_engine")
    st.drop("tick_floor")
    ratio = run.seconds / t_floor
    last = run.stdout.strip().splitlines()[0][:90] if run.stdout.strip() else ""
    rep.add(Line(f"2. scheduler tick on {pg_data.TICK_DAY} (busiest day)", secs(run.seconds), secs(t_floor),
                 f"{ratio:.2f}×", f"≤ {GOAL_TICK:g}×", met(ratio <= GOAL_TICK),
                 f"engine {made:,} notices ({delivered:,} delivered), floor {notices:,} (the floor leaves out the "
                 f"cities' deliverable reminders); {last}"))
    rep.add(Line("2m. scheduler tick, peak RSS", f"{run.max_rss_mb:.0f} MB", "", "", f"≤ {GOAL_TICK_MB:g} MB",
                 met(run.max_rss_mb <= GOAL_TICK_MB), "the child's VmHWM (/proc/<pid>/status), polled every 10 ms"))


def w_report(prov: str, rep: Report, n: int) -> None:
    """The median of three `report targets` processes (the first after the tick's copies is often the one
    that reads the tables from disk: reported apart)."""
    runs = [campaign(["report", "targets", "--json"], env(prov, pg_data.TICK_DAY)) for _ in range(3)]
    run = sorted(runs, key=lambda r: r.seconds)[1]
    from workflow import api

    ctx = web_data.context(prov, pg_data.TICK_DAY)
    try:
        api.targets(ctx)  # warm: the plan is parsed once per process
        inproc = statistics.median(timed(lambda: api.targets(ctx))[0] for _ in range(5))
    finally:
        ctx.engine.dispose()
    t_floor = statistics.median(timed(lambda: pg_floor.targets(prov, 2024))[0] for _ in range(5))
    rep.add(Line(f"3. report targets over {n:,} participations", secs(run.seconds), secs(t_floor),
                 f"{run.seconds / t_floor:.2f}×", f"≤ {GOAL_REPORT_S:g} s", met(run.seconds <= GOAL_REPORT_S),
                 f"one process, start-up included, median of 3 (first {secs(runs[0].seconds)}); in-process "
                 f"{secs(inproc)} ({inproc / t_floor:.2f}× the floor)"))


def w_verify(prov: str, rep: Report) -> None:
    entries = pg_data.count(prov, "SELECT max(seq) FROM audit_entry")
    digest = expect(campaign(["audit", "digest"], env(prov, pg_data.TICK_DAY)), f"{entries}")
    t_floor, got = timed_in_child(pg_floor.verify, prov)
    if got != entries:
        raise RuntimeError(f"floor verified {got} of {entries}")
    full = expect(campaign(["audit", "verify"], env(prov, pg_data.TICK_DAY)), f"{entries} 条")
    rate, floor_rate = entries / digest.seconds, entries / t_floor
    rep.add(Line(f"4. audit digest: the hash chain, {entries:,} entries", f"{rate:,.0f}/s", f"{floor_rate:,.0f}/s",
                 f"{rate / floor_rate:.2f}×", f"≥ {GOAL_VERIFY:g}× the floor's rate",
                 met(rate >= GOAL_VERIFY * floor_rate),
                 f"engine {secs(digest.seconds)} (one process, start-up included; peak RSS "
                 f"{digest.max_rss_mb:.0f} MB), floor {secs(t_floor)}"))
    rep.add(Line("4r. audit verify: chain + replay of every audited table", f"{entries / full.seconds:,.0f}/s",
                 f"{floor_rate:,.0f}/s", f"{entries / full.seconds / floor_rate:.2f}×", "reported beside", "—",
                 f"{secs(full.seconds)}; the replay and table comparison add {secs(full.seconds - digest.seconds)}; "
                 f"peak RSS {full.max_rss_mb:.0f} MB"))


def _floor_tasks(prov: str, city: str, states: tuple[str, ...]) -> Callable[[], int]:
    """The coordinator's candidate rows (participations of the city in the states they own a step of, with
    the progress columns), read with psycopg on one connection."""
    import psycopg

    con = psycopg.connect(pg_data.conninfo(prov))
    sql = ("SELECT e.code, e.name, c.name, e.industry, p.state, p.failures, p.pre_assessed, p.plan_submitted, "
           "p.state = 'tracking' AND EXISTS (SELECT 1 FROM evaluation v WHERE v.participation_id = p.id "
           "AND v.cycle = p.cycle), p.state = 'tracking' AND EXISTS (SELECT 1 FROM evaluation v "
           "WHERE v.participation_id = p.id AND v.cycle = p.cycle AND v.month = %s), p.publicity_start, "
           "p.publicity_end FROM participation p JOIN enterprise e ON e.id = p.enterprise_id "
           "JOIN city c ON c.id = e.city_id WHERE c.name = %s AND p.state = ANY(%s)")

    def call() -> int:
        return len(con.execute(sql, (pg_data.TICK_DAY[:7], city, list(states))).fetchall())

    call.close = con.close  # type: ignore[attr-defined]
    return call


def w_tasks(prov: str, calls: int, rep: Report) -> None:
    from workflow.domain import next_steps
    from workflow.services import tasks

    by_role = next_steps.steps_by_role(tasks.owners())
    coord_states = tuple(by_role["city_coordinator"])
    for who, city, label in ((pg_data.TASK_COORD, pg_data.TASK_CITY, "city coordinator"),
                             (pg_data.EXPERT, None, "expert"),
                             (BIG_COORD, data.CITY, "city coordinator, largest city")):
        ctx = web_data.context(prov, pg_data.TICK_DAY, who)
        try:
            page = tasks.my_tasks(ctx)  # warm
            times = [timed(lambda: tasks.my_tasks(ctx))[0] for _ in range(calls)]  # noqa: B023
        finally:
            ctx.engine.dispose()
        floor_note, floor_p95, ratio = "", "", ""
        if city is not None:
            call = _floor_tasks(prov, city, coord_states)
            try:
                rows = call()
                ftimes = [timed(call)[0] for _ in range(calls)]
            finally:
                call.close()  # type: ignore[attr-defined]
            floor_p95, ratio = ms(pct(ftimes, 0.95)), f"{pct(times, 0.95) / pct(ftimes, 0.95):.2f}×"
            floor_note = f"; floor: the {rows:,} candidate rows by psycopg, p50 {ms(statistics.median(ftimes))}"
        p95 = pct(times, 0.95)
        where = f"{city}, " if city else ""
        rep.add(Line(f"5. task list (my_tasks), {label}", f"p95 {ms(p95)}", floor_p95, ratio,
                     f"p95 ≤ {GOAL_TASKS_MS:g} ms", met(p95 * 1000 <= GOAL_TASKS_MS),
                     f"{who} ({where}{page.total:,} tasks): p50 {ms(statistics.median(times))}, {calls} calls, "
                     f"in-process{floor_note}"))


# --- the run ---------------------------------------------------------------------------------------

def build(st: pg_data.Store, out: Path, sizes: Sizes, rep: Report) -> str:
    """The initialised base, the import workload, then the province on the engine's import."""
    base = st.create("base")
    t, _ = timed(lambda: pg_data.init_db(base))
    csv = pg_data.enterprises_csv(out / "enterprises.csv", sizes.n)
    print(f"set-up: init {t:.1f} s; {sizes.n:,} enterprises written to CSV", flush=True)
    imported = w_import(st, csv, sizes.n, rep)
    st.drop("base")
    prov = st.copy("import_engine", "province")
    st.drop("import_engine")
    t, built = timed_in_child(pg_data.add_participations, prov)
    t2, codes = timed_in_child(pg_data.assign_expert, prov, sizes.assigned)
    print(f"set-up: {built.participations:,} participations, {built.entries:,} audit entries, "
          f"{built.evaluations:,} evaluations by COPY in {t:.1f} s (VACUUM ANALYZE included); "
          f"{len(codes)} assigned to {pg_data.EXPERT} in {t2:.1f} s; states {built.by_state}", flush=True)
    rep.extra.append(f"province: {built.participations:,} participations ({built.by_state}), "
                     f"{built.entries:,} lifecycle audit entries, {built.evaluations:,} evaluations")
    del imported
    return prov


def server_facts(url: str) -> str:
    names = ("server_version", "shared_buffers", "work_mem", "effective_cache_size", "synchronous_commit",
             "max_wal_size", "random_page_cost", "jit")
    with pg_data.connect(url) as c:
        vals = [f"{n}={c.execute(f'SHOW {n}').fetchone()[0]}" for n in names]
    return "PostgreSQL " + ", ".join(vals)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--small", action="store_true", help="CI sizes (well under a minute)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="where files go")
    p.add_argument("--pg", default=pg_data.PG_URL, help="the PostgreSQL server (a database of our own is made)")
    p.add_argument("--keep", action="store_true", help="keep the province database (its name is printed)")
    for name, default in vars(Sizes()).items():
        p.add_argument(f"--{name}", type=int, default=None, help=f"size (full: {default:,})")
    args = p.parse_args(argv)
    sizes = Sizes(**vars(SMALL)) if args.small else Sizes()
    for name in vars(sizes):
        if getattr(args, name) is not None:
            setattr(sizes, name, getattr(args, name))
    made = pg_data.work_dir(args.out, ("pg-small" if args.small else "pg-full"), args.pg)
    if isinstance(made, int):
        return made
    out = made
    started = dt.datetime.now(dt.UTC)
    print(f"campaign PostgreSQL province benchmark — {started:%Y-%m-%d %H:%M} UTC — {machine()}", flush=True)
    print(f"{server_facts(args.pg)}", flush=True)
    print(f"sizes: {vars(sizes)}", flush=True)
    st = pg_data.store(out, args.pg)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stopped run still drops its databases
    rep = Report()
    try:
        prov = build(st, out, sizes, rep)
        w_tick(st, out, rep)
        w_report(prov, rep, sizes.n)
        w_verify(prov, rep)
        w_tasks(prov, sizes.calls, rep)
        if args.keep:
            st.made.remove("province")
            print(f"kept: {prov}")
    finally:
        st.drop_all()
    took = (dt.datetime.now(dt.UTC) - started).total_seconds()
    print()
    print(f"## PostgreSQL province ({started:%Y-%m-%d %H:%M} UTC, {took:.0f} s in all)")
    print(f"machine: {machine()}; the PostgreSQL server runs on the same machine")
    print(f"server: {server_facts(args.pg)}")
    print()
    print("| workload | engine | floor | ratio | goal | result | notes |")
    print("|---|---:|---:|---:|---|---|---|")
    for x in rep.lines:
        print(f"| {x.workload} | {x.engine} | {x.floor} | {x.ratio} | {x.goal} | {x.verdict} | {x.note} |")
    print()
    for line in rep.extra:
        print(f"- {line}")
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
