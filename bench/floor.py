"""The floor: the same work done with raw sqlite3 and nothing else.

WAL, synchronous=NORMAL, foreign keys on, one transaction per unit of work,
executemany on prepared statements, and the same rows the engine writes: the
state change plus a hash-chained audit row (hashlib.sha256 over a compact form,
fields joined by U+001F). No validation beyond what the data itself needs.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
from collections import Counter
from pathlib import Path

from workflow.domain.states import EVENTS

SEP = "\x1f"
_AUDIT_COLS = ("seq", "prev_hash", "code", "campaign_year", "city", "event", "from_state", "to_state",
               "actor", "role", "reason", "payload", "effective_at", "recorded_at", "hash", "format")
AUDIT_SQL = f"INSERT INTO audit_entry ({', '.join(_AUDIT_COLS)}) VALUES ({', '.join('?' * 16)})"
NOW = "2024-06-20T01:00:00.000000Z"


def connect(db: Path) -> sqlite3.Connection:
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA foreign_keys=ON")
    return con


class Chain:
    """The audit chain's head, and rows hashed over the compact form."""

    def __init__(self, con: sqlite3.Connection) -> None:
        head = con.execute("SELECT seq, hash FROM audit_entry ORDER BY seq DESC LIMIT 1").fetchone()
        self.seq: int = int(head[0]) if head else 0
        self.prev: str = str(head[1]) if head else "0" * 64

    def row(self, *values: object) -> tuple[object, ...]:
        self.seq += 1
        full = (self.seq, self.prev, *values)
        self.prev = hashlib.sha256(SEP.join(map(str, full)).encode()).hexdigest()
        return (*full, self.prev, 1)


def import_csv(db: Path, path: Path, actor: str) -> int:
    """Enterprises and one audit row each, from the CSV, in one transaction."""
    con = connect(db)
    cities = dict(con.execute("SELECT name, id FROM city"))
    con.execute("BEGIN IMMEDIATE")
    chain, n = Chain(con), 0
    ents: list[tuple[object, ...]] = []
    audits: list[tuple[object, ...]] = []
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        for (code, name, city, county, industry, detail, grade, doc, ule, ule_ref, ule_date,
             livelihood) in reader:  # synthetic.FIELDS
            ents.append((code, name, cities[city], county, industry, detail, grade, doc, ule, ule_ref,
                         ule_date or None, livelihood == "1"))
            payload = dumps({"code": code, "name": name, "city": city, "county": county,
                             "industry": industry, "industry_detail": detail, "grade": grade,
                             "rating_doc": doc, "ule": ule, "ule_ref": ule_ref, "ule_date": ule_date or None,
                             "livelihood": livelihood == "1"})
            audits.append(chain.row(code, None, city, "enterprise_add", None, None, actor,
                                    "province_admin", "", payload, NOW, NOW))
            if len(ents) >= 5000:
                n += _flush_import(con, ents, audits)
    n += _flush_import(con, ents, audits)
    con.execute("COMMIT")
    con.close()
    return n


def _flush_import(con: sqlite3.Connection, ents: list[tuple[object, ...]],
                  audits: list[tuple[object, ...]]) -> int:
    con.executemany("INSERT INTO enterprise (code, name, city_id, county, industry, industry_detail, grade, "
                    "rating_doc, ule, ule_ref, ule_date, livelihood, version) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)", ents)
    con.executemany(AUDIT_SQL, audits)
    n = len(ents)
    ents.clear()
    audits.clear()
    return n


_ENROLL = ("INSERT INTO participation (enterprise_id, campaign_id, cycle, state, starting_grade, "
           "starting_rating_doc, target_grade, consent_ref, enrolled_late, failures, pre_assessed, "
           "plan_submitted, version, updated_at) "
           "SELECT id, ?, 1, ?, grade, rating_doc, ?, ?, 0, 0, 0, 0, 1, ? FROM enterprise WHERE code = ?")
_UPDATE = ("UPDATE participation SET state = ?, version = version + 1, updated_at = ? "
           "WHERE campaign_id = ? AND enterprise_id = (SELECT id FROM enterprise WHERE code = ?)")
_EVALUATION = ("INSERT INTO evaluation (participation_id, month, recorded_at, audit_seq) "
               "SELECT p.id, ?, ?, ? FROM participation p JOIN enterprise e ON e.id = p.enterprise_id "
               "WHERE e.code = ? AND p.campaign_id = ?")


def advance_file(db: Path, path: Path, actor: str, role: str, city: str) -> int:
    """Every event of the file in one transaction: state update (or enrolment), evaluation row, audit row."""
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = [dict(zip(header, values, strict=True)) for values in reader]
    return advance_rows(db, rows, actor, role, city)


def advance_rows(db: Path, rows: list[dict[str, str]], actor: str, role: str, city: str, *,
                 interactive: bool = False) -> int:
    """The events of `rows` (the columns of an event file): in one transaction with executemany, or,
    `interactive`, one transaction per event that reads the chain's head from its last row as a
    writer among others must."""
    con = connect(db)
    camp_id, year = con.execute("SELECT id, year FROM campaign ORDER BY year DESC").fetchone()
    enrolls: list[tuple[object, ...]] = []
    updates: list[tuple[object, ...]] = []
    evaluations: list[tuple[object, ...]] = []
    audits: list[tuple[object, ...]] = []
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    con.execute("BEGIN IMMEDIATE")
    chain = Chain(con)
    for row in rows:
        code, event = row["code"], row["event"]
        spec = EVENTS[event]
        payload = {k.removeprefix("data."): v for k, v in row.items()
                   if v and k not in ("code", "event", "reason", "target_grade")}
        if interactive:
            chain = Chain(con)
        if event == "enroll":
            enrolls.append((camp_id, spec.dest, row["target_grade"], row["consent"], NOW, code))
        else:
            updates.append((spec.dest, NOW, camp_id, code))
        audit = chain.row(code, year, city, event, spec.sources[0], spec.dest, actor, role,
                          row["reason"], dumps(payload), NOW, NOW)
        audits.append(audit)
        if event == "record_evaluation":
            evaluations.append((row["month"], NOW, audit[0], code, camp_id))
        if interactive:
            _write_events(con, enrolls, updates, evaluations, audits)
            con.execute("COMMIT")
            con.execute("BEGIN IMMEDIATE")
    _write_events(con, enrolls, updates, evaluations, audits)
    con.execute("COMMIT")
    con.close()
    return len(rows)


def _write_events(con: sqlite3.Connection, *lists: list[tuple[object, ...]]) -> None:
    enrolls, updates, evaluations, audits = lists
    if len(enrolls) == 1:
        con.execute(_ENROLL, enrolls[0])
    elif enrolls:
        con.executemany(_ENROLL, enrolls)
    if len(updates) == 1:
        con.execute(_UPDATE, updates[0])
    elif updates:
        con.executemany(_UPDATE, updates)
    if evaluations:
        con.executemany(_EVALUATION, evaluations)
    if audits:
        con.executemany(AUDIT_SQL, audits)
    for rows in lists:
        rows.clear()


def build_chain(source: Path, db: Path) -> int:
    """A copy of `source`'s audit rows in a bare table, chained in the floor's compact form."""
    src = sqlite3.connect(source)
    con = connect(db)
    con.execute(f"CREATE TABLE audit_entry ({', '.join(_AUDIT_COLS)}, PRIMARY KEY (seq))")
    con.execute("BEGIN")
    chain, batch = Chain(con), []
    for r in src.execute(f"SELECT {', '.join(_AUDIT_COLS[2:14])} FROM audit_entry ORDER BY seq"):
        batch.append(chain.row(*r))
        if len(batch) >= 50_000:
            con.executemany(AUDIT_SQL, batch)
            batch.clear()
    con.executemany(AUDIT_SQL, batch)
    con.execute("COMMIT")
    con.close()
    src.close()
    return chain.seq


def verify(db: Path) -> int:
    """Walk the chain in seq order, recompute every hash; return the count or raise."""
    con = connect(db)
    cur = con.execute(f"SELECT {', '.join(_AUDIT_COLS)} FROM audit_entry ORDER BY seq")
    prev, expected, sha, join = "0" * 64, 1, hashlib.sha256, SEP.join
    while rows := cur.fetchmany(20_000):
        for r in rows:
            if r[0] != expected or r[1] != prev:
                raise AssertionError(f"chain broken at {expected}")
            if sha(join(map(str, r[:14])).encode()).hexdigest() != r[14]:
                raise AssertionError(f"hash mismatch at {expected}")
            prev = r[14]
            expected += 1
    con.close()
    return expected - 1


def targets(db: Path, year: int) -> dict[str, Counter[str]]:
    """The same grouping `report targets` reads, aggregated per city."""
    con = connect(db)
    out: dict[str, Counter[str]] = {}
    for city, state, _starting, _achieved, n in con.execute(
            "SELECT c.name, p.state, p.starting_grade, p.achieved_grade, count(*) FROM participation p "
            "JOIN enterprise e ON e.id = p.enterprise_id JOIN city c ON c.id = e.city_id "
            "JOIN campaign k ON k.id = p.campaign_id WHERE k.year = ? "
            "GROUP BY c.name, p.state, p.starting_grade, p.achieved_grade", (year,)):
        out.setdefault(city, Counter())[state] += n
    con.close()
    return out


_MISSING = """
SELECT e.code, e.name, c.name FROM participation p
JOIN enterprise e ON e.id = p.enterprise_id JOIN city c ON c.id = e.city_id
JOIN (SELECT a.code FROM audit_entry a JOIN (
        SELECT code, max(seq) AS seq FROM audit_entry
        WHERE campaign_year = ? AND to_state IS NOT NULL AND effective_at < ? GROUP BY code) last
      ON a.seq = last.seq WHERE a.to_state = 'tracking') t ON t.code = e.code
WHERE p.campaign_id = ? AND NOT EXISTS (
    SELECT 1 FROM evaluation v WHERE v.participation_id = p.id AND v.month = ?)
ORDER BY e.code"""
_NOTICE = ("INSERT OR IGNORE INTO notice (key, kind, city, code, due, context, subject, body, template, "
           "status, error, attempts, created_at, delivered_at) "
           "VALUES (?, 'evaluation_missing', ?, ?, ?, ?, ?, ?, 'floor', 'delivered', '', 1, ?, ?)")
_ATTEMPT = ("INSERT INTO delivery_attempt (notice_id, round, channel, target, attempted_at, ok, error) "
            "SELECT id, 1, 'outbox', ?, ?, 1, '' FROM notice WHERE key = ?")


def tick(db: Path, outbox: Path, month: str, cut: str, due: str) -> int:
    """The month's missing evaluations: one notice row (natural key, never twice), one outbox
    file and one delivery-attempt row each, in one transaction."""
    con = connect(db)
    camp_id, year = con.execute("SELECT id, year FROM campaign ORDER BY year DESC").fetchone()
    outbox.mkdir(parents=True, exist_ok=True)
    con.execute("BEGIN IMMEDIATE")
    notices, attempts = [], []
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for code, name, city in con.execute(_MISSING, (year, cut, camp_id, month)).fetchall():
        key = f"evaluation_missing:{code}:{month}"
        subject = f"关于{name}{month}月度跟踪评估未报送的提醒"
        body = f"{city}生态环境局：\n\n{name}（{code}）{month} 的月度跟踪评估尚未记录，请于 {due} 前补报。\n"
        path = outbox / f"{key.replace(':', '_')}.txt"
        path.write_text(f"{subject}\n\n{body}", encoding="utf-8")
        notices.append((key, city, code, due, dumps({"code": code, "city": city, "period": month}),
                        subject, body, NOW, NOW))
        attempts.append((str(path), NOW, key))
    con.executemany(_NOTICE, notices)
    con.executemany(_ATTEMPT, attempts)
    con.execute("COMMIT")
    con.close()
    return len(notices)
