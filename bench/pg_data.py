"""PostgreSQL databases for bench/pg_province.py and bench/pg_lock.py. Everything here is set-up, never timed.

Each database is one of our own on the server (bench/web_data.py's `Store`: `CREATE DATABASE`, copies with
`CREATE DATABASE … TEMPLATE …`, dropped at the end). The schema, the calendar and the actors come from the
`campaign` CLI; enterprises from `campaign enterprise import` (the engine's own rows and audit entries).

`add_participations` then writes a province in the middle of its year straight into the database with
psycopg COPY: every enterprise takes part, spread over the states of `MIX`, and each participation carries
the audit entries of the real events that brought it there (enrol, assistance, pre-assessment, plan,
tracking, the monthly evaluations, acceptance, recheck, publicity, certification, or a withdrawal), with the
payloads the engine writes, chained with the engine's hash. So `campaign audit verify` passes over it (the
hash chain and the replay of every audited table), and the scheduler's audit-based queries see the history
a real year leaves. Entries are grouped by enterprise (a real log interleaves them by time; nothing here
reads the order across enterprises).

The busiest tick day is `TICK_DAY` (2024-10-01): September's evaluation is owed by one tracking
participation in `MISSING_EVERY`, and every participation in certification has ended its publicity
(ready to certify); the cities' deliverable reminders come on top.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from bench import data, web_data
from workflow.demo import synthetic
from workflow.domain import plan as plan_file
from workflow.domain.audit import FIELDS, FORMAT, GENESIS, canonical_json, entry_hash

PG_URL = web_data.PG_URL
ADMIN, COORD, REVIEWER, EXPERT, PREVIEWER = data.ADMIN, data.COORD, data.REVIEWER, data.EXPERT, data.PREVIEWER
TASK_CITY, TASK_COORD = "许昌市", "许昌联络员"  # a city coordinator of a mid-sized city, for the task list
T0 = "2024-05-06"
IMPORT_NOW = "2024-05-10"
TICK_DAY = "2024-10-01"

# state, share out of 20 (a campaign in its autumn: most in tracking, some through to certification)
MIX = (("cultivation", 2), ("assistance", 3), ("tracking", 8), ("acceptance", 2),
       ("provincial_recheck", 2), ("certification", 1), ("certified", 1), ("withdrawn", 1))
CYCLE = tuple(s for s, k in MIX for _ in range(k))
MISSING_EVERY = 8  # one tracking participation in 8 has not recorded September's evaluation

_AT = "T02:00:00.000000Z"  # 10:00 in Asia/Shanghai
# event → (day, actor, role); the order of a participation's events is the order of PATHS below
_WHEN: dict[str, tuple[str, str, str]] = {
    "enroll": ("2024-05-20", COORD, "city_coordinator"),
    "start_assistance": ("2024-06-03", COORD, "city_coordinator"),
    "record_pre_assessment": ("2024-06-10", EXPERT, "expert"),
    "submit_plan": ("2024-06-12", EXPERT, "expert"),
    "begin_tracking": ("2024-07-04", COORD, "city_coordinator"),
    "submit_for_acceptance": ("2024-08-26", COORD, "city_coordinator"),
    "pass_acceptance": ("2024-09-02", REVIEWER, "city_reviewer"),
    "waive_recheck": ("2024-09-05", PREVIEWER, "province_reviewer"),
    "publicize": ("2024-09-09", COORD, "city_coordinator"),
    "certify": ("2024-09-23", ADMIN, "province_admin"),
    "withdraw": ("2024-06-15", COORD, "city_coordinator"),
}
_EVALUATED = {"2024-07": "2024-07-20", "2024-08": "2024-08-20", "2024-09": "2024-09-20"}
_TRACK = ("enroll", "start_assistance", "record_pre_assessment", "submit_plan", "begin_tracking")
_ACCEPT = (*_TRACK, "submit_for_acceptance")
PATHS: dict[str, tuple[str, ...]] = {
    "cultivation": ("enroll",),
    "assistance": ("enroll", "start_assistance"),  # every other one also pre-assessed
    "tracking": _TRACK,
    "acceptance": _ACCEPT,
    "provincial_recheck": (*_ACCEPT, "pass_acceptance"),
    "certification": (*_ACCEPT, "pass_acceptance", "waive_recheck", "publicize"),
    "certified": (*_ACCEPT, "pass_acceptance", "waive_recheck", "publicize", "certify"),
    "withdrawn": ("enroll", "withdraw"),
}
_DEST = {"enroll": "cultivation", "start_assistance": "assistance", "record_pre_assessment": "assistance",
         "submit_plan": "assistance", "begin_tracking": "tracking", "record_evaluation": "tracking",
         "submit_for_acceptance": "acceptance", "pass_acceptance": "provincial_recheck",
         "waive_recheck": "certification", "publicize": "certification", "certify": "certified",
         "withdraw": "withdrawn"}
AUDIT_COLUMNS = (*FIELDS, "hash", "format")
PART_COLUMNS = ("id", "enterprise_id", "campaign_id", "cycle", "state", "starting_grade", "starting_rating_doc",
                "target_grade", "achieved_grade", "consent_ref", "enrolled_late", "failures", "pre_assessed",
                "plan_submitted", "publicity_start", "publicity_end", "version", "updated_at")


class Store(web_data.Store):
    """web_data's store, with databases named bench_pg_<tag>_<name>."""

    def _pg_name(self, name: str) -> str:
        return f"bench_pg_{self.tag}_{name}"


def store(root: Path, server: str = PG_URL) -> Store:
    return Store("postgresql", root, server, uuid.uuid4().hex[:8])


def conninfo(url: str) -> str:
    """The libpq form of a SQLAlchemy PostgreSQL URL."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def connect(url: str, **kw: Any) -> Any:
    import psycopg

    return psycopg.connect(conninfo(url), **kw)


def reachable(url: str = PG_URL) -> bool:
    return web_data.pg_reachable(url)


def init_db(url: str) -> None:
    """`campaign init --simulation` and the benchmark's actors (those of bench/data.py, and a coordinator
    of TASK_CITY)."""
    web_data.cli(["init", "--simulation"], url, T0)
    web_data.cli(["actor", "add", ADMIN, "--role", "province_admin"], url, T0)
    for name, role, city in (*data.ACTORS, (TASK_COORD, "city_coordinator", TASK_CITY)):
        web_data.cli(["actor", "add", name, "--role", role, *(["--city", city] if city else [])], url, T0, ADMIN)


def enterprises_csv(path: Path, n: int, seed: int = 2024) -> Path:
    """`n` enterprises over every reporting unit, weighted by the cities' size (workflow.demo.synthetic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    synthetic.write_csv(path, synthetic.generate(n, seed))
    return path


def import_enterprises(url: str, csv: Path) -> None:
    web_data.cli(["enterprise", "import", str(csv)], url, IMPORT_NOW, ADMIN)


def _target(grade: str) -> str:
    if grade in ("非引领性", "引领性"):
        return "引领性"
    return "A" if grade in ("B", "A") else "B"


def _at(day: str) -> str:
    return day + _AT


@dataclass
class Built:
    participations: int = 0
    entries: int = 0
    evaluations: int = 0
    by_state: dict[str, int] = field(default_factory=dict)


class _Chain:
    def __init__(self, seq: int, prev: str) -> None:
        self.seq, self.prev = seq, prev

    def row(self, code: str, year: int, city: str, event: str, src: str | None, dest: str | None, actor: str,
            role: str, reason: str, payload: dict[str, Any], at: str) -> tuple[Any, ...]:
        self.seq += 1
        values = (self.seq, self.prev, code, year, city, event, src, dest, actor, role, reason,
                  canonical_json(payload), at, at)
        self.prev = entry_hash(values)
        return (*values, self.prev, FORMAT)


def _events(i: int, state: str) -> list[tuple[str, dict[str, Any], str | None]]:
    """(event, payload extras, evaluation month) of participation number `i` in `state`, in order."""
    path = list(PATHS[state])
    if state == "assistance" and i % 2:
        path.append("record_pre_assessment")
    out: list[tuple[str, dict[str, Any], str | None]] = []
    for ev in path:
        out.append((ev, {}, None))
        if ev == "begin_tracking":
            months = ["2024-07", "2024-08"]
            if state == "tracking" and (i // len(CYCLE)) % MISSING_EVERY:
                months.append("2024-09")
            out += [("record_evaluation", {"month": m}, m) for m in months]
    return out


def add_participations(url: str, limit: int | None = None) -> Built:
    """Every enterprise (or the first `limit`) takes part, in the states of MIX, with the audit entries of
    the events that brought it there; evaluations, certified grades and the sequences follow."""
    built = Built()
    with connect(url) as ca, connect(url) as cp:
        cur = ca.cursor()
        camp_id, year, calendar = cur.execute(
            "SELECT id, year, calendar FROM campaign ORDER BY year DESC LIMIT 1").fetchone()
        plan = plan_file.parse(calendar)
        head = cur.execute("SELECT seq, hash FROM audit_entry ORDER BY seq DESC LIMIT 1").fetchone()
        chain = _Chain(int(head[0]), str(head[1])) if head else _Chain(0, GENESIS)
        start = date.fromisoformat(_WHEN["publicize"][0])
        pub_end = plan.workcal.nth_workday_after(start, plan.publicity_workdays).isoformat()
        ents = cp.execute("SELECT e.id, e.code, e.grade, e.rating_doc, c.name FROM enterprise e "
                          "JOIN city c ON c.id = e.city_id ORDER BY e.id"
                          + (f" LIMIT {int(limit)}" if limit is not None else "")).fetchall()
        evaluations: list[tuple[Any, ...]] = []
        regraded: list[tuple[Any, ...]] = []
        cols = ", ".join(AUDIT_COLUMNS)
        with ca.cursor().copy(f"COPY audit_entry ({cols}) FROM STDIN") as acopy, \
                cp.cursor().copy(f"COPY participation ({', '.join(PART_COLUMNS)}) FROM STDIN") as pcopy:
            for i, (eid, code, grade, doc, city) in enumerate(ents):
                state = CYCLE[i % len(CYCLE)]
                target = _target(grade)
                pid = i + 1
                flags = {"pre_assessed": False, "plan_submitted": False}
                achieved = pub_start = pub = None
                version, last, now_in = 0, "", "unenrolled"
                for ev, extra, month in _events(i, state):
                    day, actor, role = _WHEN[ev] if month is None else (_EVALUATED[month], EXPERT, "expert")
                    payload: dict[str, Any] = dict(extra)
                    reason = ""
                    if ev == "enroll":
                        payload.update(consent=f"自愿-{i:06d}", starting_grade=grade, starting_rating_doc=doc,
                                       target_grade=target)
                    elif ev == "record_pre_assessment":
                        payload.update(findings="废气收集效率偏低，无组织排放需治理", pre_assessed=True)
                        flags["pre_assessed"] = True
                    elif ev == "submit_plan":
                        payload.update(summary="一企一策提升方案", measures="密闭改造；在线监测",
                                       completion_date="2024-10-31", plan_submitted=True)
                        flags["plan_submitted"] = True
                    elif ev == "publicize":
                        pub_start, pub = day, pub_end
                        payload.update(publicity_start=day, publicity_end=pub_end)
                    elif ev == "certify":
                        achieved = target
                        payload.update(achieved_grade=target, grade_from=grade, grade_to=target)
                    elif ev == "withdraw":
                        reason = "企业自愿退出"
                    last = _at(day)
                    row = chain.row(code, year, city, ev, now_in, _DEST[ev], actor, role, reason, payload, last)
                    now_in = _DEST[ev]
                    acopy.write_row(row)
                    built.entries += 1
                    version += 1
                    if month is not None:
                        evaluations.append((pid, 1, month, last, row[0]))
                    if ev == "certify":
                        regraded.append((eid, target, f"{plan.authority}认定（审计#{row[0]}）"))
                pcopy.write_row((pid, eid, camp_id, 1, state, grade, doc, target, achieved, f"自愿-{i:06d}", False,
                                 0, flags["pre_assessed"], flags["plan_submitted"], pub_start, pub, version, last))
                built.participations += 1
                built.by_state[state] = built.by_state.get(state, 0) + 1
        ca.commit()
        cp.commit()
        with cp.cursor().copy("COPY evaluation (participation_id, cycle, month, recorded_at, audit_seq) "
                              "FROM STDIN") as ecopy:
            for r in evaluations:
                ecopy.write_row(r)
        built.evaluations = len(evaluations)
        cp.execute("CREATE TEMP TABLE regraded (id int, grade text, rating_doc text)")
        with cp.cursor().copy("COPY regraded FROM STDIN") as rcopy:
            for r in regraded:
                rcopy.write_row(r)
        cp.execute("UPDATE enterprise e SET grade = r.grade, rating_doc = r.rating_doc, version = e.version + 1 "
                   "FROM regraded r WHERE e.id = r.id")
        cp.execute("SELECT setval(pg_get_serial_sequence('participation', 'id'), "
                   "(SELECT coalesce(max(id), 1) FROM participation))")
        cp.commit()
    analyze(url)
    return built


def analyze(url: str) -> None:
    """Fresh planner statistics (a bulk load leaves none until autovacuum comes by)."""
    with connect(url, autocommit=True) as c:
        c.execute("VACUUM ANALYZE")


def assign_expert(url: str, n: int, now: str = "2024-06-05") -> list[str]:
    """EXPERT is assigned `n` enterprises of data.CITY in assistance and tracking, through the API (the
    coordinator's `assign`: row and audit entry). Returns their codes."""
    from workflow import api

    with connect(url) as c:
        codes = [r[0] for r in c.execute(
            "SELECT e.code FROM participation p JOIN enterprise e ON e.id = p.enterprise_id "
            "JOIN city c ON c.id = e.city_id WHERE c.name = %s AND p.state IN ('assistance', 'tracking') "
            "ORDER BY e.code LIMIT %s", (data.CITY, n))]
    ctx = web_data.context(url, now, COORD)
    try:
        for code in codes:
            api.assign(ctx, code, EXPERT)
    finally:
        ctx.engine.dispose()
    return codes


def count(url: str, sql: str) -> int:
    with connect(url) as c:
        return int(c.execute(sql).fetchone()[0])


def rows(url: str, sql: str, params: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    with connect(url) as c:
        yield from c.execute(sql, params).fetchall()


def work_dir(root: Path, name: str, server: str) -> Path | int:
    """A PostgreSQL benchmark's start: its fresh work directory under `root`, or the exit code (and one
    line on stderr) when the project is not installed (2) or the server cannot be reached (1)."""
    import shutil
    import sys

    from bench.proc import CAMPAIGN

    if not Path(CAMPAIGN).exists():
        print(f"{CAMPAIGN} 不存在：先运行 make bench（安装本项目） (not installed)", file=sys.stderr)
        return 2
    if not reachable(server):
        print(f"PostgreSQL 服务器 {server} 无法连接 (server not reachable)", file=sys.stderr)
        return 1
    out = root / name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    return out

