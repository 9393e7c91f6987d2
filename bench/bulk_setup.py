"""Issue 16, goal 3: bulk set-up beside the raw sqlite3 floor.

    .venv/bin/python bench/bulk_setup.py --n 10000

(a) `campaign assign --file` of n rows, one child process (interpreter start-up included), against a
    floor that writes the same assignment rows and chained audit rows with sqlite3 (bench/floor.py's
    Chain); the old way, one `campaign assign CODE --expert NAME` process per row, timed for `--old`
    rows (200) and extrapolated to n, since n processes would take far longer than the rest; and, in
    this process, `api.assign_many` beside `api.assign` called once per row (one transaction each).
(b) `api.import_rows` of n enterprises in memory, in this process, against the floor's raw insert of
    the same rows (enterprise rows and chained audit rows, as `floor.import_csv` writes them).

Every database is a copy of one prepared database; after each engine run the rows are counted and
`campaign audit verify` must pass (not timed), and the floor's rows are counted, so no side skips work.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import data, floor, province  # noqa: E402
from bench.proc import campaign  # noqa: E402

NOW = "2024-05-10"
Result = tuple[str, float, float, str]


def _count(db: Path, sql: str) -> int:
    con = sqlite3.connect(db)
    try:
        return int(con.execute(sql).fetchone()[0])
    finally:
        con.close()


def _fresh(work: Path) -> Path:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    return work


def _prepared(work: Path, n: int) -> tuple[Path, list[dict[str, str]], dict[str, str]]:
    """A database with n enterprises of 郑州市 imported (not timed), their rows and the environment."""
    base = _fresh(work) / "base.db"
    env = data.init_db(base)
    rows = data.candidates(n, seed=16)
    campaign(["--actor", data.ADMIN, "enterprise", "import",
              str(data.write_enterprises(work / "enterprises.csv", rows))], env)
    return base, rows, env


def floor_assign(db: Path, path: Path, expert: str, by: str, role: str = "city_coordinator") -> int:
    """What `assign --file` writes, with sqlite3 only: per row an assignment and a chained audit row."""
    con = floor.connect(db)
    con.execute("BEGIN IMMEDIATE")
    chain = floor.Chain(con)
    (aid,) = con.execute("SELECT id FROM actor WHERE name = ?", (expert,)).fetchone()
    ents = {code: (eid, city) for code, eid, city in con.execute(
        "SELECT e.code, e.id, c.name FROM enterprise e JOIN city c ON c.id = e.city_id")}
    payload = json.dumps({"expert": expert}, ensure_ascii=False, separators=(",", ":"))
    audits, rows = [], []
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        for code, _ in reader:
            eid, city = ents[code]
            audit = chain.row(code, None, city, "assign_expert", None, None, by, role, "", payload,
                              floor.NOW, floor.NOW)
            audits.append(audit)
            rows.append((eid, aid, by, floor.NOW, audit[0]))
    con.executemany(floor.AUDIT_SQL, audits)
    con.executemany("INSERT INTO expert_assignment (enterprise_id, actor_id, assigned_by, assigned_at, audit_seq) "
                    "VALUES (?, ?, ?, ?, ?)", rows)
    con.execute("COMMIT")
    con.close()
    return len(rows)


def floor_import_rows(db: Path, rows: list[dict[str, str]], actor: str) -> int:
    """`floor.import_csv` over rows in memory: enterprise rows and one chained audit row each."""
    con = floor.connect(db)
    cities = dict(con.execute("SELECT name, id FROM city"))
    con.execute("BEGIN IMMEDIATE")
    chain, n = floor.Chain(con), 0
    ents: list[tuple[object, ...]] = []
    audits: list[tuple[object, ...]] = []
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for r in rows:
        ule_date, livelihood = r["ule_date"] or None, r["livelihood"] == "1"
        ents.append((r["code"], r["name"], cities[r["city"]], r["county"], r["industry"], r["industry_detail"],
                     r["grade"], r["rating_doc"], r["ule"], r["ule_ref"], ule_date, livelihood))
        payload = dumps({"code": r["code"], "name": r["name"], "city": r["city"], "county": r["county"],
                         "industry": r["industry"], "industry_detail": r["industry_detail"], "grade": r["grade"],
                         "rating_doc": r["rating_doc"], "ule": r["ule"], "ule_ref": r["ule_ref"],
                         "ule_date": ule_date, "livelihood": livelihood})
        audits.append(chain.row(r["code"], None, r["city"], "enterprise_add", None, None, actor,
                                "province_admin", "", payload, floor.NOW, floor.NOW))
        if len(ents) >= 5000:
            n += floor._flush_import(con, ents, audits)
    n += floor._flush_import(con, ents, audits)
    con.execute("COMMIT")
    con.close()
    return n


def _assignments(db: Path) -> int:
    return _count(db, "SELECT count(*) FROM expert_assignment WHERE removed_at IS NULL")


def measure_assign(work: Path, n: int, old: int = 200) -> list[Result]:
    base, rows, env = _prepared(work, n)
    path = work / "assignments.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["code", "expert"])
        w.writerows([r["code"], data.EXPERT] for r in rows)
    engine_db, floor_db = province.copy(base, work / "engine.db"), province.copy(base, work / "floor.db")
    old_db = province.copy(base, work / "old.db")
    coord = {"CAMPAIGN_ACTOR": data.COORD, "CAMPAIGN_NOW": NOW}
    run = campaign(["assign", "--file", str(path)], {**env, "CAMPAIGN_DB": str(engine_db), **coord})
    if f"已执行 {n} 项指派" not in run.stdout or _assignments(engine_db) != n:
        raise RuntimeError(f"assign --file did not assign {n} rows:\n{run.stdout[-500:]}\n{run.stderr[-500:]}")
    campaign(["audit", "verify"], {**env, "CAMPAIGN_DB": str(engine_db)})
    t = time.perf_counter()
    floor_assign(floor_db, path, data.EXPERT, data.COORD)
    t_floor = time.perf_counter() - t
    if _assignments(floor_db) != n:
        raise RuntimeError("the floor did not assign every row")
    t_many, t_loop = _in_process(base, work, rows)
    k = min(old, n)
    t_old = sum(campaign(["assign", r["code"], "--expert", data.EXPERT],
                         {**env, "CAMPAIGN_DB": str(old_db), **coord}).seconds for r in rows[:k])
    if _assignments(old_db) != k:
        raise RuntimeError("the old way did not assign every row")
    per_row = t_old / k
    return [
        (f"assign --file, {n:,} rows (one process, one transaction)", run.seconds, t_floor,
         f"{n / run.seconds:,.0f} rows/s; peak RSS {run.max_rss_mb:.0f} MB"),
        (f"assign, one process per row, {n:,} rows (old way; extrapolated)", per_row * n, t_floor,
         f"measured {k} processes: {t_old:.1f} s, {per_row:.3f} s each, × {n:,} / {k}; "
         f"assign --file is {per_row * n / run.seconds:,.0f}× faster"),
        (f"api.assign_many, {n:,} rows (in-process, one transaction)", t_many, t_floor, f"{n / t_many:,.0f} rows/s"),
        (f"api.assign per row, {n:,} rows (in-process, one transaction each)", t_loop, t_floor,
         f"{n / t_loop:,.0f} rows/s; assign_many is {t_loop / t_many:,.1f}× faster"),
    ]


def _in_process(base: Path, work: Path, rows: list[dict[str, str]]) -> tuple[float, float]:
    """Seconds of `api.assign_many` over the rows, and of `api.assign` once per row, each on a fresh copy."""
    from bench.web_data import context
    from workflow import api

    times = []
    for name in ("many", "loop"):
        db = province.copy(base, work / f"inproc-{name}.db")
        ctx = context(str(db), NOW, data.COORD)
        try:
            t = time.perf_counter()
            if name == "many":
                ok, _ = api.assign_many(ctx, [(i, api.AssignRow(r["code"], data.EXPERT)) for i, r in enumerate(rows)])
                assert ok
            else:
                for r in rows:
                    api.assign(ctx, r["code"], data.EXPERT)
            times.append(time.perf_counter() - t)
        finally:
            ctx.engine.dispose()
        if _assignments(db) != len(rows):
            raise RuntimeError(f"api ({name}) did not assign every row")
    return times[0], times[1]


def measure_import(work: Path, n: int) -> list[Result]:
    from bench.web_data import context
    from workflow import api

    base = _fresh(work) / "base.db"
    env = data.init_db(base)
    rows = data.candidates(n, seed=17)
    engine_db, floor_db = province.copy(base, work / "engine.db"), province.copy(base, work / "floor.db")
    ctx = context(str(engine_db), NOW, data.ADMIN)
    try:
        t = time.perf_counter()
        ok, outcomes = api.import_rows(ctx, rows)
        t_engine = time.perf_counter() - t
    finally:
        ctx.engine.dispose()
    if not ok or len(outcomes) != n or _count(engine_db, "SELECT count(*) FROM enterprise") != n:
        raise RuntimeError(f"import_rows did not import {n} rows: {[o for o in outcomes if not o.ok][:3]}")
    campaign(["audit", "verify"], {**env, "CAMPAIGN_DB": str(engine_db)})
    t = time.perf_counter()
    floor_import_rows(floor_db, rows, data.ADMIN)
    t_floor = time.perf_counter() - t
    if _count(floor_db, "SELECT count(*) FROM enterprise") != n:
        raise RuntimeError("the floor did not import every row")
    return [(f"api.import_rows, {n:,} enterprises in memory (in-process)", t_engine, t_floor,
             f"{n / t_engine:,.0f} rows/s")]


def measure(out: Path, n: int, old: int = 200) -> list[Result]:
    """(label, engine seconds, floor seconds, note) of each bulk set-up workload at size n."""
    return [*measure_assign(out / "bulk-assign", n, old), *measure_import(out / "bulk-import", n)]


def main(argv: list[str] | None = None) -> list[Result]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--n", type=int, default=10_000, help="rows per workload (default 10,000)")
    p.add_argument("--old", type=int, default=200, help="single `campaign assign` processes timed (default 200)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="work directory (default bench/out)")
    args = p.parse_args(argv)
    results = measure(args.out, args.n, args.old)
    for label, engine, base, note in results:
        print(f"  {label}: engine {engine:.3f} s, floor {base:.3f} s, ratio {engine / base:.2f}×  {note}",
              flush=True)
    return results


if __name__ == "__main__":
    main()
