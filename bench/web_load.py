"""The web workspace under load (issue 14): HTTP against a real `campaign serve`, beside the service call.

    .venv/bin/python bench/web_load.py            # full size (several minutes on 2 cores)
    .venv/bin/python bench/web_load.py --small    # CI size (well under a minute)

For each backend (SQLite; PostgreSQL when the server at --pg is reachable) a database is built once
(bench/web_data.py: experts with their own passwords, each assigned enterprises of 郑州市, half owing
a pre-assessment and a plan, half owing four monthly evaluations) and copied for every run. A run starts
`campaign serve` as a child process on its copy with CAMPAIGN_NOW held at 2024-08-20, logs in N sessions
(one expert each), then each session, closed loop and without think time, opens its task list (GET /),
opens the enterprise the first time, posts the enterprise's next event with the CSRF token and the
page's version, and follows the redirect back to the enterprise page (bench/web_client.py), for
--duration seconds. The load generator is httpx on one asyncio loop in this process, on the same
machine as the server. Beside it, the same service calls in-process (`workflow.api.advance`,
`workflow.services.tasks.my_tasks`) on a copy of the same database: the HTTP overhead as a ratio.
Then the task list of a city of 500 participations in a province of --participations (SQLite).
Figures are medians over --runs runs; the server's RSS (VmRSS) is read before and during each run.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import datetime as dt
import io
import os
import pstats
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import web_client, web_data  # noqa: E402
from bench.run import machine  # noqa: E402

GOAL_POST_MS, GOAL_TASKS_MS = 50.0, 100.0


@dataclass
class Sizes:
    sessions: tuple[int, ...] = (1, 10, 50)
    runs: int = 3
    duration: float = 6.0  # seconds of load per run
    per_session: int = 90  # enterprises assigned to each expert (3 events each on average)
    participations: int = 100_000  # the province of the task-list case
    city: int = 500  # of which in 许昌市
    samples: int = 200  # GET / of the task-list case; in-process calls of each kind


SMALL = Sizes(sessions=(1, 10), runs=1, duration=1.5, per_session=15, participations=1_000, city=500, samples=20)


def pct(xs: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of xs."""
    s = sorted(xs)
    return s[max(0, min(len(s) - 1, int(len(s) * q + 0.5) - 1))] if s else float("nan")


def ms(x: float) -> str:
    return f"{x * 1000:.1f} ms"


@dataclass
class RunFigures:
    requests: int
    rps: float
    post50: float
    post95: float
    tasks50: float
    tasks95: float
    page50: float
    rss_start: int
    rss_end: int
    rss_peak: int
    rss_mid: int
    errors: int
    exhausted: int
    events: int


@dataclass
class InProcess:
    advance: list[float] = field(default_factory=list)
    tasks: list[float] = field(default_factory=list)
    page: list[float] = field(default_factory=list)


@dataclass
class Report:
    rows: dict[tuple[str, int], list[RunFigures]] = field(default_factory=dict)
    inproc: dict[str, InProcess] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    big: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)  # of the in-process advance: printed if its goal is missed


def one_run(store: web_data.Store, plan: web_data.LoadPlan, backend: str, n: int, run: int, sizes: Sizes,
            work: Path, rep: Report) -> None:
    name = f"run{run}_{n}"
    db = store.copy("tmpl", name)
    try:
        with web_client.Server(db, web_data.SERVE_NOW, work / "logs" / f"{backend}-{name}.log") as srv:
            res = web_client.load(srv, [(e, plan.steps[e]) for e in plan.experts[:n]], sizes.duration)
    finally:
        store.drop(name)
    t = res.tally
    f = RunFigures(t.requests(), t.requests() / res.seconds, pct(t.times["post"], .5), pct(t.times["post"], .95),
                   pct(t.times["tasks"], .5), pct(t.times["tasks"], .95), pct(t.times["page"], .5),
                   res.rss_start_kb, res.rss_end_kb, res.rss_peak_kb, res.rss_mid_kb, len(t.errors), t.exhausted,
                   len(t.times["post"]))
    rep.rows.setdefault((backend, n), []).append(f)
    rep.error_samples.extend(t.errors[:3])
    print(f"  {backend} × {n} sessions, run {run + 1}: {f.requests} requests in {res.seconds:.1f} s "
          f"({f.rps:.0f}/s), {f.events} events; POST p50 {ms(f.post50)} p95 {ms(f.post95)}; GET / p50 "
          f"{ms(f.tasks50)} p95 {ms(f.tasks95)}; RSS {f.rss_start / 1024:.0f}→{f.rss_mid / 1024:.0f}→"
          f"{f.rss_end / 1024:.0f} MB "
          f"(peak {f.rss_peak / 1024:.0f}); errors {f.errors}; out of steps {f.exhausted}", flush=True)


def in_process(store: web_data.Store, plan: web_data.LoadPlan, n: int) -> InProcess:
    """What one session does, as direct service calls on a copy of the same database: my_tasks, the
    dossier the enterprise page draws, and workflow.api.advance with the Request the form makes."""
    from workflow import api
    from workflow.domain import forms
    from workflow.services import dossier, tasks

    db = store.copy("tmpl", "inproc")
    who = plan.experts[0]
    ctx = web_data.context(db, web_data.SERVE_NOW, who)
    out = InProcess()
    try:
        tasks.my_tasks(ctx)  # warm-up (statement caches, plan), as the server's warm-up GET
        for step in plan.steps[who][:n]:
            t = time.perf_counter()
            tasks.my_tasks(ctx)
            out.tasks.append(time.perf_counter() - t)
            t = time.perf_counter()
            d = dossier.dossier(ctx, step.code)
            out.page.append(time.perf_counter() - t)
            form = {**step.form, "version": "" if d.version is None else str(d.version)}
            req = forms.request(step.event, form, step.code)
            t = time.perf_counter()
            api.advance(ctx, req)
            out.advance.append(time.perf_counter() - t)
    finally:
        ctx.engine.dispose()
        store.drop("inproc")
    return out


def backend_runs(backend: str, sizes: Sizes, work: Path, rep: Report) -> None:
    store = web_data.Store(backend, work / backend)
    try:
        t = time.perf_counter()
        _, plan = web_data.build_load(store, "tmpl", max(sizes.sessions), sizes.per_session, work)
        print(f"{backend}: built {max(sizes.sessions)} experts × {sizes.per_session} enterprises in "
              f"{time.perf_counter() - t:.0f} s (not timed)", flush=True)
        ip = in_process(store, plan, min(sizes.samples, len(plan.steps[plan.experts[0]])))
        rep.inproc[backend] = ip
        if backend == "sqlite":
            rep.profiles.append(profile_advance(store, plan, min(sizes.samples, len(plan.steps[plan.experts[0]]))))
        print(f"  {backend} in-process: advance p50 {ms(pct(ip.advance, .5))} p95 {ms(pct(ip.advance, .95))}; "
              f"my_tasks p50 {ms(pct(ip.tasks, .5))}; dossier p50 {ms(pct(ip.page, .5))}", flush=True)
        for run in range(sizes.runs):
            for n in sizes.sessions:
                one_run(store, plan, backend, n, run, sizes, work, rep)
    finally:
        store.drop_all()


def big_task_list(sizes: Sizes, work: Path, rep: Report) -> None:
    """许昌联络员's task list: 500 participations of 许昌市 in a province of `sizes.participations`."""
    from workflow.services import tasks

    t = time.perf_counter()
    db = web_data.build_big(work / "big" / "province.db", sizes.participations, sizes.city, work)
    print(f"task-list database: {sizes.participations:,} participations ({sizes.city} in "
          f"{web_data.BIG_CITY}) built in {time.perf_counter() - t:.0f} s (not timed)", flush=True)
    ctx = web_data.context(db, web_data.BIG_NOW, web_data.BIG_COORD)
    try:
        first = tasks.my_tasks(ctx)
        inproc = []
        for _ in range(sizes.samples):
            t = time.perf_counter()
            tasks.my_tasks(ctx)
            inproc.append(time.perf_counter() - t)
    finally:
        ctx.engine.dispose()
    with web_client.Server(db, web_data.BIG_NOW, work / "logs" / "big.log") as srv:
        rss0 = srv.rss_kb()
        http = web_client.gets(srv, web_data.BIG_COORD, "/", sizes.samples)
        rss1 = srv.rss_kb()
    rep.big = {"http": http, "inproc": inproc, "tasks": first.total, "rss": (rss0, rss1), "db": db,
               "participations": sizes.participations, "city": sizes.city}
    print(f"  GET / as {web_data.BIG_COORD} ({first.total} tasks): p50 {ms(pct(http, .5))} p95 {ms(pct(http, .95))};"
          f" in-process my_tasks p50 {ms(pct(inproc, .5))} p95 {ms(pct(inproc, .95))}", flush=True)


def profile(label: str, fn: Callable[[], object], top: int = 18) -> str:
    """cProfile of `fn` (in-process): the functions with the most cumulative time."""
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).strip_dirs().sort_stats("cumulative").print_stats(top)
    body = "\n".join(line for line in buf.getvalue().splitlines() if line.strip())
    return f"### cProfile: {label}\n\n```\n{body}\n```"


def profile_task_list(rep: Report) -> str:
    from workflow.services import tasks

    ctx = web_data.context(rep.big["db"], web_data.BIG_NOW, web_data.BIG_COORD)
    try:
        return profile(f"20 × my_tasks as {web_data.BIG_COORD}",
                       lambda: [tasks.my_tasks(ctx) for _ in range(20)])
    finally:
        ctx.engine.dispose()


def med(xs: list[RunFigures], attr: str) -> float:
    return float(statistics.median(getattr(x, attr) for x in xs))


def render(rep: Report, sizes: Sizes, started: dt.datetime, took: float, small: bool) -> list[str]:
    out = [f"## Results ({started:%Y-%m-%d %H:%M} UTC, {took:.0f} s in all)", f"machine: {machine()}",
           f"load average before/after: {rep.notes[0]}",
           "load generator: httpx.AsyncClient sessions on one asyncio loop in the benchmark process, "
           "on the same machine as the server (it shares the CPUs); closed loop, no think time",
           f"server: `campaign serve` (1 uvicorn worker) as a child process, CAMPAIGN_NOW={web_data.SERVE_NOW}; "
           f"{sizes.duration:g} s of load per run; medians of {sizes.runs} run(s)", "",
           "| backend | sessions | requests | req/s | event POST p50 | event POST p95 | GET / p50 | GET / p95 "
           "| enterprise page p50 | in-process advance p50 | POST/in-process | in-process my_tasks p50 "
           "| GET //in-process | server RSS start→half-way→end (MB, each run) | errors |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    for (backend, n), runs in rep.rows.items():
        ip = rep.inproc[backend]
        a50, t50 = pct(ip.advance, .5), pct(ip.tasks, .5)
        post50, tasks50 = med(runs, "post50"), med(runs, "tasks50")
        rss = ", ".join(f"{r.rss_start / 1024:.0f}→{r.rss_mid / 1024:.0f}→{r.rss_end / 1024:.0f}" for r in runs)
        errors = sum(r.errors for r in runs)
        out.append(f"| {backend} | {n} | {med(runs, 'requests'):.0f} | {med(runs, 'rps'):.1f} | {ms(post50)} | "
                   f"{ms(med(runs, 'post95'))} | {ms(tasks50)} | {ms(med(runs, 'tasks95'))} | "
                   f"{ms(med(runs, 'page50'))} | {ms(a50)} | {post50 / a50:.2f}× | {ms(t50)} | "
                   f"{tasks50 / t50:.2f}× | {rss} | {errors} |")
    out.append("")
    out.append("requests = task lists + enterprise pages + event POSTs (one event per POST); in-process = the "
               "same calls on a copy of the same database in this process, one after another "
               f"({len(next(iter(rep.inproc.values())).advance) if rep.inproc else 0} of each).")
    for (backend, n), runs in rep.rows.items():
        if n > 1:
            rps = med(runs, "rps")
            out.append(f"- {backend}, {n} sessions: closed loop, so each request waits on average ≈ sessions / "
                       f"throughput = {n} / {rps:.0f} per s = {n / rps * 1000:.0f} ms (Little's law).")
    exhausted = sum(r.exhausted for runs in rep.rows.values() for r in runs)
    if exhausted:
        out.append(f"note: {exhausted} session(s) ran out of steps before the end of their run (raise --per_session).")
    b = rep.big
    full = b["participations"] >= 100_000
    if b:
        h50, h95 = pct(b["http"], .5), pct(b["http"], .95)
        i50, i95 = pct(b["inproc"], .5), pct(b["inproc"], .95)
        out += ["", "| task list (SQLite) | GET / p50 | GET / p95 | in-process my_tasks p50 | p95 | GET //in-process "
                    "| tasks listed | server RSS start→end (MB) |",
                "|---|---:|---:|---:|---:|---:|---:|---|",
                f"| {web_data.BIG_CITY} coordinator: {b['city']} of {b['participations']:,} participations, "
                f"{len(b['http'])} requests, 1 session | {ms(h50)} | {ms(h95)} | {ms(i50)} | {ms(i95)} | "
                f"{h50 / i50:.2f}× | {b['tasks']} | {b['rss'][0] / 1024:.0f}→{b['rss'][1] / 1024:.0f} |"]
    out += ["", "| goal | result | |", "|---|---|---|"]
    if ("sqlite", 10) in rep.rows:
        p95 = med(rep.rows[("sqlite", 10)], "post95")
        out.append(f"| event POST p95 ≤ {GOAL_POST_MS:.0f} ms at 10 sessions, SQLite | {ms(p95)} | "
                   f"{'met' if p95 * 1000 <= GOAL_POST_MS else '**missed**'} |")
    if b:
        h95 = pct(b["http"], .95)
        verdict = ("met" if h95 * 1000 <= GOAL_TASKS_MS else "**missed**") if full else \
            f"not judged: {b['participations']:,} participations, below the goal's 100,000"
        out.append(f"| task list p95 ≤ {GOAL_TASKS_MS:.0f} ms, 500-participation city in 100,000 | {ms(h95)} | "
                   f"{verdict} |")
    every = [r for runs in rep.rows.values() for r in runs]
    if every:
        worst = max((r.rss_end - r.rss_start) / 1024 for r in every)
        late = max((r.rss_end - r.rss_mid) / 1024 for r in every)
        out.append(f"| server memory flat over a run | RSS grew by at most {worst:.0f} MB over a run (from "
                   f"{min(r.rss_start for r in every) / 1024:.0f} MB), at most {late:.1f} MB in its second half | "
                   f"{'met' if late <= 5 else '**missed**'} (≤ 5 MB in the second half: warm-up done, no leak) |")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--small", action="store_true", help="CI sizes (well under a minute)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="where data goes")
    p.add_argument("--keep", action="store_true", help="keep the generated SQLite databases and server logs")
    p.add_argument("--pg", default=web_data.PG_URL, help="PostgreSQL server (a database of our own is "
                   "created and dropped on it); skipped when unreachable")
    p.add_argument("--no-pg", action="store_true", help="SQLite only")
    p.add_argument("--profile", action="store_true", help="cProfile the in-process task list even if its goal is met")
    for name, default in vars(Sizes()).items():
        kind = float if name == "duration" else int
        if name == "sessions":
            p.add_argument("--sessions", type=lambda s: tuple(int(x) for x in s.split(",")), default=None,
                           help="concurrent sessions, comma-separated (full: 1,10,50)")
        else:
            p.add_argument(f"--{name}", type=kind, default=None, help=f"size (full: {default:,})")
    args = p.parse_args(argv)
    sizes = dataclasses.replace(SMALL if args.small else Sizes())
    for name in vars(sizes):
        if getattr(args, name) is not None:
            setattr(sizes, name, getattr(args, name))
    work = (args.out / ("web-small" if args.small else "web-full")).resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    os.chdir(work)
    if not Path(web_data.CAMPAIGN).exists():
        raise SystemExit(f"{web_data.CAMPAIGN} not found: run `make bench` (installs the project first)")
    web_data.PG_URL = args.pg
    started = dt.datetime.now(dt.UTC)
    print(f"campaign web load benchmark — {started:%Y-%m-%d %H:%M} UTC — {machine()}", flush=True)
    print(f"sizes: {vars(sizes)}", flush=True)
    rep = Report()
    load0 = os.getloadavg()
    backends = ["sqlite"]
    if not args.no_pg:
        if web_data.pg_reachable(args.pg):
            backends.append("postgresql")
        else:
            print(f"PostgreSQL at {args.pg} not reachable: SQLite only", flush=True)
    for backend in backends:
        backend_runs(backend, sizes, work, rep)
    big_task_list(sizes, work, rep)
    load1 = os.getloadavg()
    rep.notes.insert(0, f"{load0[0]:.2f} / {load1[0]:.2f} (1-minute)")
    took = (dt.datetime.now(dt.UTC) - started).total_seconds()
    lines = render(rep, sizes, started, took, args.small)
    print()
    print("\n".join(lines))
    missed_tasks = bool(rep.big) and pct(rep.big["http"], .95) * 1000 > GOAL_TASKS_MS
    missed_post = ("sqlite", 10) in rep.rows and med(rep.rows[("sqlite", 10)], "post95") * 1000 > GOAL_POST_MS
    if rep.error_samples:
        print("\nunexpected answers (first few):")
        for e in rep.error_samples[:10]:
            print(f"- {e}")
    if missed_tasks or args.profile:
        print()
        print(profile_task_list(rep))
    if missed_post or args.profile:
        for text in rep.profiles:
            print()
            print(text)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def profile_advance(store: web_data.Store, plan: web_data.LoadPlan, n: int) -> str:
    """cProfile of one expert's events through workflow.api.advance on a fresh copy of the load database."""
    from workflow import api
    from workflow.domain import forms

    db = store.copy("tmpl", "profile")
    who = plan.experts[0]
    ctx = web_data.context(db, web_data.SERVE_NOW, who)
    steps = plan.steps[who][:n]

    def go() -> None:
        for s in steps:
            api.advance(ctx, forms.request(s.event, s.form, s.code))

    try:
        return profile(f"{len(steps)} × workflow.api.advance ({store.backend}, one after another)", go)
    finally:
        ctx.engine.dispose()
        store.drop("profile")


if __name__ == "__main__":
    sys.exit(main())
