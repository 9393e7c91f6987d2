"""`make bench`: each workload of issue 8 for the engine and, beside it, the raw-sqlite3 floor.

    .venv/bin/python bench/run.py            # full size (about 10 minutes on 2 cores)
    .venv/bin/python bench/run.py --small    # CI size (well under a minute)

Engine workloads run `campaign` as a child process, exactly what a user runs (interpreter
start-up included); floors run in this process with sqlite3 only. Data goes to --out
(default bench/out/, git-ignored). Sizes are parameters; see --help.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import bulk_setup, data, floor, inproc, province  # noqa: E402
from bench.proc import CAMPAIGN, Run, campaign, python  # noqa: E402


@dataclass
class Sizes:
    enterprises: int = 100_000
    participations: int = 20_000
    singles: int = 200  # issue 8 says 1,000: `--singles 1000` (about 18 minutes of processes here)
    audit: int = 1_000_000
    tick: int = 100_000
    report: int = 100_000
    samples: int = 40  # `import sqlmodel` and `--help` runs, interleaved with the singles
    inproc: int = 1_000  # issue 16: enterprises × 14 events through the service API in-process
    rounds: int = 3  # … interleaved rounds, medians reported
    bulk: int = 10_000  # issue 16: `assign --file` and in-memory import rows
    old: int = 40  # single `campaign assign` processes timed for the old way (extrapolated)


SMALL = Sizes(2_000, 200, 20, 20_000, 2_000, 2_000, 10, 40, 1, 500, 3)


@dataclass
class Line:
    workload: str
    engine: float
    floor: float
    note: str = ""
    unit: str = "s"

    def ratio(self) -> str:
        return f"{self.engine / self.floor:.2f}×"


@dataclass
class Report:
    lines: list[Line] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    def add(self, line: Line) -> None:
        self.lines.append(line)
        eng, flo = f"{line.engine:.3f} {line.unit}", f"{line.floor:.3f} {line.unit}"
        print(f"  {line.workload}: engine {eng}, floor {flo}, ratio {line.ratio()}  {line.note}",
              flush=True)


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def expect(run: Run, text: str) -> Run:
    if text not in run.stdout:
        raise RuntimeError(f"expected {text!r} in output:\n{run.stdout[-1000:]}\n{run.stderr[-1000:]}")
    return run


def w_import(out: Path, n: int, rep: Report) -> Path:
    d = out / "import"
    db = d / "engine.db"
    env = data.init_db(db)
    base = province.copy(db, d / "floor.db")
    path = data.enterprises_csv(d / "enterprises.csv", n)
    run = expect(campaign(["--actor", data.ADMIN, "enterprise", "import", str(path)],
                          {**env, "CAMPAIGN_NOW": "2024-05-10"}), f"已导入 {n} ")
    t_floor = timed(lambda: floor.import_csv(base, path, data.ADMIN))
    rep.add(Line(f"1. import {n:,} enterprises (CSV)", run.seconds, t_floor,
                 f"{n / run.seconds:,.0f} rows/s; peak RSS {run.max_rss_mb:.0f} MB"))
    rep.extra.append(f"peak RSS, `enterprise import` of {n:,} rows: {run.max_rss_mb:.0f} MB")
    return db


def w_batch(out: Path, n: int, singles: int, samples: int, rep: Report) -> None:
    d = out / "batch"
    db = d / "engine.db"
    env = data.init_db(db)
    rows = data.candidates(n + (singles + 1) // 2, seed=11)
    campaign(["--actor", data.ADMIN, "enterprise", "import",
              str(data.write_enterprises(d / "enterprises.csv", rows))], env)
    data.assign_experts(db, [r["code"] for r in rows[:n]])
    base = province.copy(db, d / "floor.db")
    files = data.event_files(d, rows[:n])
    roles = {data.ADMIN: "province_admin", **{a: r for a, r, _ in data.ACTORS}}
    t_engine = t_floor = 0.0
    events = 0
    for path, now, actor, count in files:
        run = expect(campaign(["advance", "--file", str(path)],
                              {**env, "CAMPAIGN_NOW": now, "CAMPAIGN_ACTOR": actor}), f"已执行 {count} ")
        t_engine += run.seconds
        t_floor += timed(partial(floor.advance_file, base, path, actor, roles[actor], data.CITY))
        events += count
    rep.add(Line(f"2a. {n:,} participations × {data.EVENTS_PER_PARTICIPATION} events, "
                 f"advance --file ({len(files)} files)", t_engine, t_floor,
                 f"{events / t_engine:,.0f} events/s"))
    expect(campaign(["audit", "verify"], env), "审计链完整")
    _singles(rows[n:], env, samples, singles, rep)


def _singles(rows: list[dict[str, str]], env: dict[str, str], samples: int, n: int, rep: Report) -> None:
    """`campaign advance CODE EVENT` one process each, interleaved with the two start-up floors."""
    plan = [(r, "enroll", "2024-05-20") for r in rows] + [(r, "start_assistance", "2024-06-20") for r in rows]
    plan = plan[:n]
    every = max(1, len(plan) // samples)
    adv: list[float] = []
    imp: list[float] = []
    hlp: list[float] = []
    for i, (r, event, now) in enumerate(plan):
        extra = ["--consent", f"自愿-{r['code'][-6:]}", "--target-grade", r["target"]] if event == "enroll" else []
        run = campaign(["advance", r["code"], event, *extra],
                       {**env, "CAMPAIGN_NOW": now, "CAMPAIGN_ACTOR": data.COORD})
        adv.append(run.seconds)
        if i % every == 0:
            imp.append(python("import sqlmodel").seconds)
            hlp.append(campaign(["--help"], {}).seconds)

    def p95(xs: list[float]) -> float:
        return sorted(xs)[max(0, int(len(xs) * 0.95 + 0.5) - 1)]

    mean_imp = statistics.mean(imp)
    rep.add(Line(f"2b. {len(adv):,} single `campaign advance` processes (mean)", statistics.mean(adv),
                 mean_imp, f"p95 {p95(adv):.3f} s; floor = `python -c 'import sqlmodel'` "
                 f"(mean of {len(imp)}, p95 {p95(imp):.3f} s)"))
    rep.add(Line("2c. `campaign --help` (goal < 0.3 s)", statistics.mean(hlp), mean_imp,
                 f"p95 {p95(hlp):.3f} s, {len(hlp)} runs; ratio against `import sqlmodel`"))
    rep.extra.append(f"single advance: mean {statistics.mean(adv):.3f} s, p95 {p95(adv):.3f} s; "
                     f"import sqlmodel: mean {mean_imp:.3f} s; --help: mean {statistics.mean(hlp):.3f} s")


def w_inproc(out: Path, n: int, rounds: int, rep: Report) -> None:
    """Issue 16, goals 1–2: the service API in-process beside the floor and the plain contender."""
    s = inproc.measure(out / "inproc", n, rounds)
    sec, what = s.seconds, f"{n:,} × 14 events, median of {rounds} interleaved round(s)"
    rep.add(Line(f"6a. advance in-process, one commit per event ({what}; goal ≤ 8×)", sec["engine interactive"],
                 sec["floor interactive"], f"{s.events / sec['engine interactive']:,.0f} events/s; "
                 f"ratio of medians; median of per-round ratios {s.vs_floor_interactive:.2f}×"))
    rep.add(Line("6b. the same beside plain transitions + SQLModel (goal: engine ≥ 3× as fast)",
                 sec["engine interactive"], sec["contender interactive"],
                 f"here the floor column is the contender ({s.events / sec['contender interactive']:,.0f} events/s): "
                 f"the engine is {s.vs_contender:.2f}× as fast (median of per-round ratios)"))
    rep.add(Line(f"6c. advance_batch in-process, one transaction per file ({what}; goal ≤ 5×)",
                 sec["engine batch"], sec["floor batch"], f"{s.events / sec['engine batch']:,.0f} events/s; "
                 f"median of per-round ratios {s.vs_floor_batch:.2f}×; plain contender "
                 f"{s.events / sec['contender batch']:,.0f} events/s"))


def w_bulk(out: Path, n: int, old: int, rep: Report) -> None:
    """Issue 16, goal 3: bulk set-up (`campaign assign --file`, `api.assign_many`, `api.import_rows`)."""
    for k, (label, engine, floor_s, note) in enumerate(bulk_setup.measure(out, n, old)):
        rep.add(Line(f"7{'abcdefgh'[k]}. {label}", engine, floor_s, note))


def w_verify(out: Path, n: int, rep: Report) -> None:
    d = out / "verify"
    db = d / "engine.db"
    d.mkdir(parents=True, exist_ok=True)
    for p in d.glob("*.db*"):
        p.unlink()
    env = {"CAMPAIGN_DB": str(db), "CAMPAIGN_NOW": "2024-06-20"}
    campaign(["init", "--simulation"], env)
    total = data.fill_audit(db, n)
    fdb = d / "floor.db"
    for p in d.glob("floor.db*"):
        p.unlink()
    floor.build_chain(db, fdb)
    run = expect(campaign(["audit", "verify"], env), f"{total} 条")
    t_floor = timed(lambda: floor.verify(fdb))
    rep.add(Line(f"3. audit verify over {total:,} entries", run.seconds, t_floor,
                 f"{total / run.seconds:,.0f} entries/s (goal ≥ 200,000); floor {total / t_floor:,.0f}/s"))


def w_report(prov: Path, n: int, rep: Report) -> None:
    label = f"5. report targets over {n:,} participations"
    env = {"CAMPAIGN_DB": str(prov), "CAMPAIGN_NOW": "2024-08-01"}
    run = campaign(["report", "targets", "--json"], env)
    t_floor = timed(lambda: floor.targets(prov, 2024))
    rep.add(Line(label, run.seconds, t_floor, "engine is one process (start-up included); floor in-process"))


def w_tick(prov: Path, n: int, rep: Report) -> None:
    label = f"4. scheduler tick over {n:,} participations (one month due)"
    db = province.copy(prov, prov.parent / "tick.db")
    fdb = province.copy(prov, prov.parent / "tick-floor.db")
    env = {"CAMPAIGN_DB": str(db), "CAMPAIGN_NOW": "2024-08-01"}
    run = campaign(["scheduler", "tick"], env)
    t_floor = timed(lambda: floor.tick(fdb, prov.parent / "floor-outbox", province.MONTH,
                                       "2024-07-31T16:00:00.000000Z", "2024-07-31"))
    notices = len(list((prov.parent / "floor-outbox").iterdir()))
    rep.add(Line(label, run.seconds, t_floor,
                 f"{notices:,} evaluation notices rendered, stored and delivered to the outbox; "
                 f"peak RSS {run.max_rss_mb:.0f} MB; engine output: {run.stdout.strip().splitlines()[-1][:80]}"))
    rep.extra.append(f"peak RSS, scheduler tick over {n:,} participations: {run.max_rss_mb:.0f} MB")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import sqlite3

    return (f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}, {platform.system()} {platform.release()}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--small", action="store_true", help="CI sizes (well under a minute)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="where data goes")
    p.add_argument("--keep", action="store_true", help="keep the generated databases")
    for name, default in vars(Sizes()).items():
        p.add_argument(f"--{name}", type=int, default=None, help=f"size (full: {default:,})")
    args = p.parse_args(argv)
    sizes = SMALL if args.small else Sizes()
    for name in vars(sizes):
        if getattr(args, name) is not None:
            setattr(sizes, name, getattr(args, name))
    out = args.out / ("small" if args.small else "full")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    os.chdir(out)  # the engine writes its outbox under the working directory
    if not Path(CAMPAIGN).exists():
        raise SystemExit(f"{CAMPAIGN} not found: run `make bench` (installs the project first)")
    started = dt.datetime.now(dt.UTC)
    print(f"campaign benchmarks — {started:%Y-%m-%d %H:%M} UTC — {machine()}", flush=True)
    print(f"sizes: {vars(sizes)}", flush=True)
    rep = Report()
    imported = w_import(out, max(sizes.enterprises, sizes.tick, sizes.report), rep)
    w_batch(out, sizes.participations, sizes.singles, sizes.samples, rep)
    w_inproc(out, sizes.inproc, sizes.rounds, rep)
    w_bulk(out, sizes.bulk, sizes.old, rep)
    w_verify(out, sizes.audit, rep)
    prov = province.copy(imported, out / "province" / "report.db")
    province.add_participations(prov, max(sizes.tick, sizes.report))
    w_tick(prov, sizes.tick, rep)
    w_report(prov, sizes.report, rep)
    took = (dt.datetime.now(dt.UTC) - started).total_seconds()
    print()
    print(f"## Results ({started:%Y-%m-%d %H:%M} UTC, {took:.0f} s in all)")
    print(f"machine: {machine()}")
    print()
    print("| workload | engine | floor | ratio engine/floor | notes |")
    print("|---|---:|---:|---:|---|")
    for line in sorted(rep.lines, key=lambda x: x.workload):
        eng, flo = f"{line.engine:.3f} {line.unit}", f"{line.floor:.3f} {line.unit}"
        print(f"| {line.workload} | {eng} | {flo} | {line.ratio()} | {line.note} |")
    print()
    for x in rep.extra:
        print(f"- {x}")
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
