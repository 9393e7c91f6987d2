"""The one audit lock (issue 16, goal 5): concurrent writers on PostgreSQL, and where the chain's lock
is the limit.

    .venv/bin/python bench/pg_lock.py             # 1, 8 and 32 writers, 20 s each (about 5 minutes)
    .venv/bin/python bench/pg_lock.py --small     # CI size (well under a minute)

Every audited write appends to the one hash chain under one PostgreSQL advisory lock
(`pg_advisory_xact_lock`, workflow/store/ledger.py), held from the first append of the transaction to its
commit. Here N writer processes (multiprocessing, forked; each its own engine through `workflow.api`) act
as a city coordinator on enterprises of their own: `enroll`, then `start_assistance`, one commit per event
(interactive, as people and the web workspace write), for --duration seconds. Each level runs on a fresh
copy of one prepared database (`CREATE DATABASE … TEMPLATE`).

Measured per level: committed events/s; each event's latency (p50, p95); the CPU the writers use (their own
`os.times()` over the timed window) and the CPU of their PostgreSQL backends (`/proc/<pid>/stat`, pids from
`pg_stat_activity`), as a share of the machine's cores; the whole server's CPU (every `postgres` process,
other databases included); and `pg_stat_activity` sampled every --sample ms: how many of the writers'
backends wait on the advisory lock (wait_event_type 'Lock', wait_event 'advisory'). Beside each level the
floor: the same events written by raw psycopg writers (row change, then chain head under the same lock,
audit row, commit). One more run at the middle level with `synchronous_commit = off` on that database shows
how much of the lock's hold is the commit's WAL flush (an experiment: not a setting for the audit log).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import multiprocessing
import os
import shutil
import signal
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import data, pg_data, pg_floor, web_data  # noqa: E402
from bench.run import machine  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1
ENROL_NOW, ASSIST_NOW = "2024-05-20", "2024-06-20"


@dataclass
class Sizes:
    levels: tuple[int, ...] = (1, 8, 32)
    duration: float = 20.0  # seconds of writing per level
    enterprises: int = 12_000  # prepared, split between the writers of a level
    sample: int = 20  # ms between pg_stat_activity samples


SMALL = Sizes(levels=(1, 8, 32), duration=1.5, enterprises=640, sample=20)


@dataclass
class Result:
    kind: str  # engine | floor
    writers: int
    events: int
    seconds: float
    p50: float
    p95: float
    writer_cpu: float  # CPU seconds of the writer processes in the window
    backend_cpu: float  # CPU seconds of their PostgreSQL backends
    server_cpu: float  # CPU seconds of every postgres process (other databases included)
    waiting: float  # mean number of the writers' backends waiting on the advisory lock
    waiting_max: int
    active: float  # mean number of the writers' backends not idle
    errors: int = 0
    note: str = ""

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def share(self, cpu: float) -> float:
        return cpu / (self.seconds * CORES) if self.seconds else 0.0


# --- CPU from /proc --------------------------------------------------------------------------------

def _cpu(pid: int) -> float:
    """utime + stime of a process, in seconds (0 when it is gone)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = raw[raw.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _server_pids() -> list[int]:
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if (p / "comm").read_text().strip() == "postgres":
                    out.append(int(p.name))
            except OSError:
                pass
    return out


def _server_cpu() -> dict[int, float]:
    return {pid: _cpu(pid) for pid in _server_pids()}


def _delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(max(0.0, v - before.get(pid, 0.0)) for pid, v in after.items())


# --- the writers -----------------------------------------------------------------------------------

def _engine_writer(url: str, work: list[tuple[str, str]], ready: Any, go: Any, done: Any, leave: Any,
                   duration: float) -> None:
    """One writer process: its own engine; enroll then start_assistance per enterprise, one commit each."""
    from sqlalchemy import text

    from workflow import api
    from workflow.errors import CampaignError

    enrol = web_data.context(url, ENROL_NOW, data.COORD)
    assist = web_data.context(url, ASSIST_NOW, data.COORD)
    assist.engine.dispose()
    assist = dataclasses.replace(assist, engine=enrol.engine)  # one pool, two campaign clocks
    with enrol.engine.connect() as c:  # connected before the clock starts
        pid = c.execute(text("SELECT pg_backend_pid()")).scalar_one()
    ready.put(pid)
    go.wait()
    lat: list[float] = []
    errors = 0
    t0, c0 = time.perf_counter(), sum(os.times()[:2])
    deadline = t0 + duration
    for code, target in work:
        if time.perf_counter() >= deadline:
            break
        for ctx, req in ((enrol, api.Request(code=code, event="enroll", consent=f"自愿-{code[-6:]}",
                                             target_grade=target)),
                         (assist, api.Request(code=code, event="start_assistance"))):
            if time.perf_counter() >= deadline:
                break
            t = time.perf_counter()
            try:
                api.advance(ctx, req)
                lat.append(time.perf_counter() - t)
            except CampaignError:
                errors += 1
    end, cpu = time.perf_counter(), sum(os.times()[:2]) - c0
    done.put((os.getpid(), t0, end, cpu, lat, errors))
    leave.wait()  # the parent reads the backends' CPU while they are still there
    enrol.engine.dispose()


def _floor_writer(url: str, work: list[tuple[str, str]], ready: Any, go: Any, done: Any, leave: Any,
                  duration: float) -> None:
    import psycopg

    with psycopg.connect(pg_data.conninfo(url)) as con:
        ready.put(con.info.backend_pid)
        con.commit()
        go.wait()
        t0, c0 = time.perf_counter(), sum(os.times()[:2])
        lat = pg_floor.write_events(con, work, data.CITY, data.COORD, t0 + duration, time.perf_counter)
        end, cpu = time.perf_counter(), sum(os.times()[:2]) - c0
        done.put((os.getpid(), t0, end, cpu, lat, 0))
        leave.wait()


class Sampler(threading.Thread):
    """pg_stat_activity of one database, every `every` seconds: advisory-lock waiters, active backends,
    and every backend pid seen (their CPU is read at the end)."""

    def __init__(self, url: str, every: float) -> None:
        super().__init__(daemon=True)
        self.url, self.every = url, every
        self.stop = threading.Event()
        self.waiting: list[int] = []
        self.active: list[int] = []
        self.pids: set[int] = set()

    def run(self) -> None:
        import psycopg

        name = self.url.rsplit("/", 1)[1].split("?")[0]
        with psycopg.connect(pg_data.conninfo(self.url), autocommit=True) as c:
            me = c.info.backend_pid
            q = ("SELECT pid, state, wait_event_type, wait_event FROM pg_stat_activity "
                 "WHERE datname = %s AND pid <> %s AND backend_type = 'client backend'")
            while not self.stop.is_set():
                rows = c.execute(q, (name, me)).fetchall()
                self.pids |= {r[0] for r in rows}
                self.waiting.append(sum(1 for r in rows if r[2] == "Lock" and r[3] == "advisory"))
                self.active.append(sum(1 for r in rows if r[1] not in ("idle", None)))
                self.stop.wait(self.every)


def _collect(done: Any, procs: list[Any], timeout: float) -> list[Any]:
    """Every writer's result; a writer that died without one stops the level with an error."""
    import queue

    results: list[Any] = []
    until = time.monotonic() + timeout
    while len(results) < len(procs):
        try:
            results.append(done.get(timeout=1))
        except queue.Empty:
            dead = [p for p in procs if p.exitcode not in (None, 0)]
            if dead or time.monotonic() > until:
                raise RuntimeError(f"{len(dead)} writer(s) failed (exit {dead[0].exitcode if dead else '?'}); "
                                   f"{len(results)} of {len(procs)} reported") from None
    return results


def level(url: str, kind: str, writers: int, codes: list[tuple[str, str]], sizes: Sizes, note: str = "") -> Result:
    mp = multiprocessing.get_context("fork")
    ready, done = mp.Queue(), mp.Queue()
    go, leave = mp.Event(), mp.Event()
    target = _engine_writer if kind == "engine" else _floor_writer
    procs = [mp.Process(target=target, args=(url, codes[i::writers], ready, go, done, leave, sizes.duration),
                        daemon=True) for i in range(writers)]
    for p in procs:
        p.start()
    try:
        for _ in procs:
            ready.get(timeout=120)
        sampler = Sampler(url, sizes.sample / 1000)
        sampler.start()
        time.sleep(0.2)
        server0 = _server_cpu()
        backends0 = {pid: _cpu(pid) for pid in sampler.pids}
        go.set()
        results = _collect(done, procs, sizes.duration + 300)
        sampler.stop.set()
        sampler.join()
        backends = _delta(backends0, {pid: _cpu(pid) for pid in sampler.pids})
        server = _delta(server0, _server_cpu())
    finally:
        leave.set()
        for p in procs:
            p.join(timeout=60)
            if p.is_alive():
                p.kill()
    start = min(r[1] for r in results)
    seconds = max(r[2] for r in results) - start
    lat = [x for r in results for x in r[4]]
    return Result(kind, writers, len(lat), seconds, statistics.median(lat) if lat else 0.0,
                  sorted(lat)[max(0, int(len(lat) * 0.95 + 0.5) - 1)] if lat else 0.0,
                  sum(r[3] for r in results), backends, server,
                  statistics.mean(sampler.waiting) if sampler.waiting else 0.0, max(sampler.waiting, default=0),
                  statistics.mean(sampler.active) if sampler.active else 0.0, sum(r[5] for r in results), note)


# --- set-up and the run ----------------------------------------------------------------------------

def prepare(st: pg_data.Store, out: Path, n: int) -> tuple[str, list[tuple[str, str]]]:
    """The initialised database with `n` enterprises of data.CITY that can go the whole way."""
    base = st.create("lock_base")
    pg_data.init_db(base)
    rows = data.candidates(n, seed=16)
    csv = data.write_enterprises(out / "lock-enterprises.csv", rows)
    pg_data.import_enterprises(base, csv)
    pg_data.analyze(base)
    return base, [(r["code"], r["target"]) for r in rows]


def run_level(st: pg_data.Store, kind: str, writers: int, codes: list[tuple[str, str]], sizes: Sizes,
              sync_off: bool = False) -> Result:
    name = f"lock_{kind}_{writers}{'_async' if sync_off else ''}"
    url = st.copy("lock_base", name)
    try:
        if sync_off:
            with pg_data.connect(url, autocommit=True) as c:
                c.execute(f'ALTER DATABASE "{url.rsplit("/", 1)[1]}" SET synchronous_commit = off')
        r = level(url, kind, writers, codes, sizes, "synchronous_commit=off" if sync_off else "")
        if kind == "engine":
            verified = web_data.campaign(["audit", "verify"], {"CAMPAIGN_DB": url, "CAMPAIGN_NOW": ASSIST_NOW},
                                         check=False)
            if verified.stdout.find("审计链完整") < 0:
                raise RuntimeError(f"audit verify after {writers} writers: {verified.stdout}{verified.stderr}")
        return r
    finally:
        st.drop(name)


def row(r: Result, base: Result | None) -> str:
    scale = f"{r.rate / base.rate:.2f}×" if base and base.rate else ""
    both = r.share(r.writer_cpu + r.backend_cpu)
    return (f"| {r.kind}{' (' + r.note + ')' if r.note else ''} | {r.writers} | {r.events:,} | {r.rate:,.0f} | {scale} "
            f"| {r.p50 * 1000:.1f} ms | {r.p95 * 1000:.1f} ms "
            f"| {r.share(r.writer_cpu):.0%} | {r.share(r.backend_cpu):.0%} | {both:.0%} "
            f"| {r.share(r.server_cpu):.0%} | {r.waiting:.1f} (max {r.waiting_max}) | {r.active:.1f} | {r.errors} |")


def verdict(results: list[Result]) -> list[str]:
    """Where the lock, not the CPU, is the limit: a level whose writers mostly wait on the advisory lock
    while the machine still has CPU to spare."""
    out = []
    for r in results:
        if r.kind != "engine" or r.note:
            continue
        used = r.share(r.writer_cpu + r.backend_cpu)
        busy = r.waiting / r.writers if r.writers else 0.0
        hold = 1000 / r.rate if r.rate else float("nan")
        if r.writers == 1:
            out.append(f"1 writer: {r.rate:,.0f} events/s, no one to wait for; writer and backend use {used:.0%} of "
                       f"{CORES} cores: one writer is bound by its own round trips and CPU, not by the lock")
        elif busy >= 0.5 and used < 0.9:
            out.append(f"{r.writers} writers: **the lock is the limit**: on average {r.waiting:.1f} of {r.writers} "
                       f"backends wait on the advisory lock while writers and backends use {used:.0%} of {CORES} "
                       f"cores; the chain admits one append every {hold:.2f} ms ({r.rate:,.0f} events/s)")
        elif busy >= 0.5:
            out.append(f"{r.writers} writers: lock and CPU both saturated: {r.waiting:.1f} of {r.writers} backends "
                       f"wait on the advisory lock and writers and backends use {used:.0%} of {CORES} cores "
                       f"({r.rate:,.0f} events/s, one append every {hold:.2f} ms)")
        else:
            out.append(f"{r.writers} writers: CPU-bound, not lock-bound: {r.waiting:.1f} of {r.writers} backends "
                       f"wait on the lock on average; writers and backends use {used:.0%} of {CORES} cores "
                       f"({r.rate:,.0f} events/s)")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--small", action="store_true", help="CI sizes (well under a minute)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="where files go")
    p.add_argument("--pg", default=pg_data.PG_URL, help="the PostgreSQL server (databases of our own are made)")
    p.add_argument("--levels", default=None, help="writer counts, comma-separated (full: 1,8,32)")
    p.add_argument("--duration", type=float, default=None, help="seconds per level (full: 20)")
    p.add_argument("--enterprises", type=int, default=None, help="prepared enterprises (full: 12,000)")
    p.add_argument("--no-floor", action="store_true", help="skip the psycopg writers")
    args = p.parse_args(argv)
    sizes = dataclasses.replace(SMALL if args.small else Sizes())
    if args.levels:
        try:
            sizes.levels = tuple(int(x) for x in args.levels.split(",") if x.strip())
        except ValueError:
            print(f"--levels 应为逗号分隔的正整数：{args.levels!r} (bad levels)", file=sys.stderr)
            return 2
    if args.duration is not None:
        sizes.duration = args.duration
    if args.enterprises is not None:
        sizes.enterprises = args.enterprises
    if not sizes.levels or min(sizes.levels) < 1 or sizes.duration <= 0 or sizes.enterprises < 2 * max(sizes.levels):
        print("每级写入进程数须为正，时长须为正，企业数须至少为最大进程数的 2 倍 (bad sizes)", file=sys.stderr)
        return 2
    made = pg_data.work_dir(args.out, ("pg-lock-small" if args.small else "pg-lock"), args.pg)
    if isinstance(made, int):
        return made
    out = made
    started = dt.datetime.now(dt.UTC)
    print(f"campaign PostgreSQL chain-lock benchmark — {started:%Y-%m-%d %H:%M} UTC — {machine()}", flush=True)
    print(f"sizes: {dataclasses.asdict(sizes)}", flush=True)
    st = pg_data.store(out, args.pg)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stopped run still drops its databases
    results: list[Result] = []
    try:
        _, codes = prepare(st, out, sizes.enterprises)
        mid = sorted(sizes.levels)[len(sizes.levels) // 2]
        for n in sizes.levels:
            for kind in ("engine", *(() if args.no_floor else ("floor",))):
                r = run_level(st, kind, n, codes, sizes)
                results.append(r)
                print(f"  {kind} × {n}: {r.events:,} events in {r.seconds:.2f} s = {r.rate:,.0f}/s; p95 "
                      f"{r.p95 * 1000:.1f} ms; CPU writers {r.share(r.writer_cpu):.0%} backends "
                      f"{r.share(r.backend_cpu):.0%}; waiting on the lock {r.waiting:.1f}", flush=True)
        r = run_level(st, "engine", mid, codes, sizes, sync_off=True)
        results.append(r)
        print(f"  engine × {mid}, synchronous_commit=off: {r.rate:,.0f}/s", flush=True)
    finally:
        st.drop_all()
    took = (dt.datetime.now(dt.UTC) - started).total_seconds()
    print()
    print(f"## The chain lock on PostgreSQL ({started:%Y-%m-%d %H:%M} UTC, {took:.0f} s in all)")
    print(f"machine: {machine()}; the PostgreSQL server, the writers and this process share the {CORES} cores")
    print()
    print("| writers | N | events | events/s | vs 1 writer | p50 | p95 | CPU writers | CPU backends | writers + "
          "backends | whole server | waiting on the chain lock (mean) | backends active (mean) | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    ones = {r.kind: r for r in results if r.writers == min(sizes.levels) and not r.note}
    for r in results:
        print(row(r, ones.get(r.kind)))
    print()
    print("CPU is a share of all cores over the level's window. Floor: raw psycopg writers, the same events and lock.")
    engine = {r.writers: r for r in results if r.kind == "engine" and not r.note}
    floor = {r.writers: r for r in results if r.kind == "floor"}
    for n in sizes.levels:
        if n in engine and n in floor and floor[n].rate:
            print(f"- {n} writer(s): engine {engine[n].rate:,.0f} events/s, floor {floor[n].rate:,.0f}/s, "
                  f"ratio engine/floor {engine[n].rate / floor[n].rate:.2f}×")
    for line in verdict(results):
        print(f"- {line}")
    shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
