"""Benchmark inputs: synthetic enterprise CSVs, event files and prepared databases.

Everything here is set-up and is not timed. Databases are initialised through the
`campaign` CLI, so the schema, triggers and calendar are exactly the engine's.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

from bench.proc import campaign
from workflow.demo import synthetic
from workflow.domain import grades
from workflow.domain.audit import FIELDS, FORMAT, GENESIS, entry_hash

ADMIN, COORD, REVIEWER, EXPERT, PREVIEWER = "省管理员", "郑州联络员", "郑州评审", "郑州专家", "省复核员"
CITY = "郑州市"
ACTORS = ((COORD, "city_coordinator", CITY), (REVIEWER, "city_reviewer", CITY),
          (EXPERT, "expert", None), (PREVIEWER, "province_reviewer", None))

# (campaign clock, actor, events) in order: 14 events per participation, every window open.
MONTHS = ("2024-05", "2024-06", "2024-07", "2024-08")
PHASES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("2024-05-20", COORD, ("enroll",)),
    ("2024-06-20", COORD, ("start_assistance",)),
    ("2024-06-20", EXPERT, ("record_pre_assessment", "submit_plan")),
    ("2024-06-20", COORD, ("begin_tracking",)),
    ("2024-08-05", EXPERT, ("record_evaluation",) * len(MONTHS)),
    ("2024-08-05", COORD, ("submit_for_acceptance",)),
    ("2024-08-05", REVIEWER, ("pass_acceptance",)),
    ("2024-08-05", PREVIEWER, ("waive_recheck",)),
    ("2024-09-02", COORD, ("publicize",)),
    ("2024-09-20", ADMIN, ("certify",)),
)
EVENTS_PER_PARTICIPATION = sum(len(p[2]) for p in PHASES)
EVENT_COLUMNS = ("code", "event", "reason", "target_grade", "consent", "month", "grade",
                 "data.findings", "data.summary", "data.measures", "data.completion_date")


def init_db(db: Path) -> dict[str, str]:
    """`campaign init` and the actors of the benchmark; returns the base environment."""
    db.parent.mkdir(parents=True, exist_ok=True)
    env = {"CAMPAIGN_DB": str(db), "CAMPAIGN_NOW": "2024-05-06"}
    campaign(["init", "--simulation"], env)
    campaign(["actor", "add", ADMIN, "--role", "province_admin"], env)
    for name, role, city in ACTORS:
        campaign(["actor", "add", name, "--role", role, *(["--city", city] if city else [])],
                 {**env, "CAMPAIGN_ACTOR": ADMIN})
    return env


def enterprises_csv(path: Path, n: int, seed: int = 2024) -> Path:
    synthetic.write_csv(path, synthetic.generate(n, seed))
    return path


def target_for(row: dict[str, str]) -> str | None:
    """A target grade the guards accept all the way to certification, or None."""
    g = row["grade"]
    if row["industry"] in synthetic.LEADING_SCALE_INDUSTRIES:
        return "引领性" if g in (grades.UNRATED, "非引领性") else None
    if g in (grades.UNRATED, "D", "C", "B-"):
        return "B"
    if g == "B" and (row["industry"] not in synthetic.ULE_INDUSTRIES or row["ule"] == "publicized"):
        return "A"
    return None


def candidates(n: int, seed: int) -> list[dict[str, str]]:
    """`n` enterprises of one city that can go the whole way (with a `target` key)."""
    out: list[dict[str, str]] = []
    for row in synthetic.generate(synthetic._ORG_SPACE, seed, cities=[CITY]):
        target = target_for(row)
        if target:
            out.append({**row, "target": target})
            if len(out) == n:
                return out
    raise AssertionError("not enough candidates")


def _event_row(r: dict[str, str], event: str, i: int) -> list[str]:
    code = r["code"]
    row = {"code": code, "event": event}
    if event == "enroll":
        row.update(consent=f"自愿-{code[-6:]}", target_grade=r["target"])
    elif event == "record_pre_assessment":
        row["data.findings"] = "废气收集效率偏低，无组织排放需治理"
    elif event == "submit_plan":
        row.update({"data.summary": "一企一策提升方案", "data.measures": "密闭改造；在线监测",
                    "data.completion_date": "2024-10-31"})
    elif event == "record_evaluation":
        row["month"] = MONTHS[i]
    return [row.get(c, "") for c in EVENT_COLUMNS]


def event_files(out: Path, rows: list[dict[str, str]]) -> list[tuple[Path, str, str, int]]:
    """One CSV per phase: [(path, CAMPAIGN_NOW, actor, rows)]."""
    files = []
    for k, (now, actor, events) in enumerate(PHASES):
        path = out / f"events-{k:02d}-{events[0]}.csv"
        count = 0
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(EVENT_COLUMNS)
            for r in rows:
                for i, event in enumerate(events):
                    w.writerow(_event_row(r, event, i))
                    count += 1
        files.append((path, now, actor, count))
    return files


def write_enterprises(path: Path, rows: list[dict[str, str]]) -> Path:
    synthetic.write_csv(path, rows)
    return path


_SETUP = (("start_assistance", "cultivation", "assistance", {}),
          ("record_pre_assessment", "assistance", "assistance", {"findings": "无组织排放需治理"}),
          ("submit_plan", "assistance", "assistance", {"summary": "一企一策", "measures": "密闭改造",
                                                       "completion_date": "2024-10-31"}),
          ("begin_tracking", "assistance", "tracking", {}))
_DUMPS = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


class _Filler:
    """`n` chained entries that `audit verify`'s replay can explain: 5,000 enterprises registered,
    enrolled and taken into tracking, then monthly evaluations; it remembers the rows they imply."""

    def __init__(self, n: int, seq: int, prev: str) -> None:
        self.n, self.seq, self.prev = n, seq, prev
        self.enterprises = [r for r in islice(synthetic.generate(5000, 7, cities=[CITY]), 5000)]
        self.evaluations: dict[tuple[str, str], int] = {}  # (code, month) -> audit seq of the last one

    def _entry(self, code: str, year: int | None, event: str, src: str | None, dest: str | None, actor: str,
               role: str, payload: dict[str, object]) -> tuple[object, ...]:
        self.seq += 1
        at = f"2026-01-01T00:{self.seq // 600000 % 60:02d}:{self.seq // 10000 % 60:02d}.{self.seq % 10000:06d}Z"
        values = (self.seq, self.prev, code, year, CITY, event, src, dest, actor, role, "", _DUMPS(payload),
                  "2024-06-20T01:00:00.000000Z", at)
        self.prev = entry_hash(values)
        return (*values, self.prev, FORMAT)

    def rows(self) -> Iterator[tuple[object, ...]]:
        made = 0
        for r in self.enterprises:
            payload = {**r, "livelihood": r["livelihood"] == "1", "ule_date": r["ule_date"] or None}
            yield self._entry(r["code"], None, "enterprise_add", None, None, ADMIN, "province_admin", payload)
            yield self._entry(r["code"], 2024, "enroll", None, "cultivation", COORD, "city_coordinator",
                              {"consent": f"自愿-{r['code'][-6:]}", "starting_grade": r["grade"],
                               "starting_rating_doc": r["rating_doc"], "target_grade": "A"})
            for event, src, dest, pl in _SETUP:
                yield self._entry(r["code"], 2024, event, src, dest, COORD, "city_coordinator", pl)
            made += 6
        codes = [r["code"] for r in self.enterprises]
        for i in range(max(0, self.n - made)):
            code, month = codes[i % len(codes)], MONTHS[i // len(codes) % len(MONTHS)]
            yield self._entry(code, 2024, "record_evaluation", "tracking", "tracking", EXPERT, "expert",
                              {"month": month})
            self.evaluations[(code, month)] = self.seq

    def write_rows(self, con: sqlite3.Connection) -> None:
        """The enterprise, participation and evaluation rows the entries imply."""
        (city_id,) = con.execute("SELECT id FROM city WHERE name = ?", (CITY,)).fetchone()
        (camp,) = con.execute("SELECT id FROM campaign WHERE year = 2024").fetchone()
        con.executemany(
            "INSERT INTO enterprise (code, name, city_id, county, industry, industry_detail, grade, rating_doc, "
            "ule, ule_ref, ule_date, livelihood, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            [(r["code"], r["name"], city_id, r["county"], r["industry"], r["industry_detail"], r["grade"],
              r["rating_doc"], r["ule"], r["ule_ref"], r["ule_date"] or None, r["livelihood"] == "1")
             for r in self.enterprises])
        con.executemany(
            "INSERT INTO participation (enterprise_id, campaign_id, cycle, state, starting_grade, "
            "starting_rating_doc, target_grade, consent_ref, enrolled_late, failures, pre_assessed, "
            "plan_submitted, version, updated_at) SELECT id, ?, 1, 'tracking', grade, rating_doc, 'A', ?, 0, 0, 1, "
            "1, 1, '' FROM enterprise WHERE code = ?",
            [(camp, f"自愿-{r['code'][-6:]}", r["code"]) for r in self.enterprises])
        pid = dict(con.execute("SELECT e.code, p.id FROM participation p JOIN enterprise e ON e.id = p.enterprise_id"))
        con.executemany("INSERT INTO evaluation (participation_id, cycle, month, recorded_at, audit_seq) "
                        "VALUES (?, 1, ?, '', ?)", [(pid[c], m, seq) for (c, m), seq in self.evaluations.items()])


def fill_audit(db: Path, n: int) -> int:
    """Append about `n` valid, chained entries straight into an initialised database, with the rows
    they imply (so the log explains every row, as `audit verify` checks)."""
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    seq, prev = con.execute("SELECT seq, hash FROM audit_entry ORDER BY seq DESC LIMIT 1").fetchone() \
        or (0, GENESIS)
    cols = (*FIELDS, "hash", "format")
    sql = f"INSERT INTO audit_entry ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    filler = _Filler(n, seq, prev)
    con.execute("BEGIN")
    rows = filler.rows()
    while chunk := list(islice(rows, 50_000)):
        con.executemany(sql, chunk)
    filler.write_rows(con)
    con.execute("COMMIT")
    total = int(con.execute("SELECT count(*) FROM audit_entry").fetchone()[0])
    con.close()
    return total


def assign_experts(db: Path, codes: list[str], expert: str = EXPERT, by: str = COORD) -> int:
    """What `campaign assign CODE --expert NAME` writes, for many codes at once: the assignment
    rows and their chained audit entries (one process per code would dwarf the benchmark)."""
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    seq, prev = con.execute("SELECT seq, hash FROM audit_entry ORDER BY seq DESC LIMIT 1").fetchone()
    (aid,) = con.execute("SELECT id FROM actor WHERE name = ?", (expert,)).fetchone()
    ents = dict(con.execute("SELECT e.code, e.id FROM enterprise e"))
    city = {code: name for code, name in con.execute(
        "SELECT e.code, c.name FROM enterprise e JOIN city c ON c.id = e.city_id")}
    at = "2024-05-20T01:00:00.000000Z"
    payload = json.dumps({"expert": expert}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    audits, rows = [], []
    for code in codes:
        seq += 1
        values = (seq, prev, code, None, city[code], "assign_expert", None, None, by, "city_coordinator",
                  "", payload, at, at)
        prev = entry_hash(values)
        audits.append((*values, prev, FORMAT))
        rows.append((ents[code], aid, by, at, seq))
    cols = (*FIELDS, "hash", "format")
    con.execute("BEGIN")
    con.executemany(f"INSERT INTO audit_entry ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                    audits)
    con.executemany("INSERT INTO expert_assignment (enterprise_id, actor_id, assigned_by, assigned_at, "
                    "audit_seq) VALUES (?, ?, ?, ?, ?)", rows)
    con.execute("COMMIT")
    con.close()
    return len(rows)
