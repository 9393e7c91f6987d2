"""The PostgreSQL floor: the same work as the engine, with raw psycopg and nothing else.

COPY for bulk loads, server-side (named) cursors for long reads, one transaction per unit of work,
and the same rows the engine writes, with a hash-chained audit row per change: the engine's format-1
hash (`v1|len:value|…`, SHA-256), written out here with hashlib, so the engine's `audit verify` accepts
what the floor writes. Appends take the same advisory lock the engine takes for the chain head. No
validation beyond what the data itself needs.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bench.pg_data import AUDIT_COLUMNS, connect

CHAIN_LOCK = 727_2024  # workflow/store/ledger.py's key: the floor serialises on the same lock
GENESIS = "0" * 64
NOW = "2024-05-10T02:00:00.000000Z"
_SHA = hashlib.sha256
_COPY_AUDIT = f"COPY audit_entry ({', '.join(AUDIT_COLUMNS)}) FROM STDIN"


def _part(v: object) -> str:
    s = str(v)
    return f"{len(s)}:{s}"


def entry_hash(values: Sequence[object]) -> str:
    """Format 1: `v1|` then each field as `<length>:<text>` (None as `-`), joined by `|`."""
    return _SHA(("v1|" + "|".join([f"{len(v)}:{v}" if v.__class__ is str else "-" if v is None else _part(v)
                                   for v in values])).encode()).hexdigest()


class Chain:
    """The chain's head under the advisory lock, and rows hashed onto it."""

    def __init__(self, cur: Any) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (CHAIN_LOCK,))
        head = cur.execute("SELECT seq, hash FROM audit_entry ORDER BY seq DESC LIMIT 1").fetchone()
        self.seq: int = int(head[0]) if head else 0
        self.prev: str = str(head[1]) if head else GENESIS

    def row(self, *values: object) -> tuple[object, ...]:
        """`values`: the fields after seq and prev_hash (code … recorded_at)."""
        self.seq += 1
        full = (self.seq, self.prev, *values)
        self.prev = entry_hash(full)
        return (*full, self.prev, 1)


def _copy(cur: Any, sql: str, rows: Iterable[Sequence[object]]) -> None:
    with cur.copy(sql) as cp:
        for r in rows:
            cp.write_row(r)


_ENTERPRISE = ("COPY enterprise (code, name, city_id, county, industry, industry_detail, grade, rating_doc, ule, "
               "ule_ref, ule_date, livelihood, version) FROM STDIN")


def import_csv(url: str, path: Path, actor: str, *, chunk: int = 20_000) -> int:
    """Enterprises and one chained audit row each, from the CSV, in one transaction (COPY per chunk)."""
    n = 0
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode
    with connect(url) as con, con.cursor() as cur:
        cities = dict(cur.execute("SELECT name, id FROM city").fetchall())
        chain = Chain(cur)
        ents: list[tuple[object, ...]] = []
        audits: list[tuple[object, ...]] = []
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            next(reader)
            for (code, name, city, county, industry, detail, grade, doc, ule, ule_ref, ule_date,
                 livelihood) in reader:  # synthetic.FIELDS
                ents.append((code, name, cities[city], county, industry, detail, grade, doc, ule, ule_ref,
                             ule_date or None, livelihood == "1", 1))
                payload = dumps({"code": code, "name": name, "city": city, "county": county, "industry": industry,
                                 "industry_detail": detail, "grade": grade, "rating_doc": doc, "ule": ule,
                                 "ule_ref": ule_ref, "ule_date": ule_date or None, "livelihood": livelihood == "1"})
                audits.append(chain.row(code, None, city, "enterprise_add", None, None, actor, "province_admin", "",
                                        payload, NOW, NOW))
                if len(ents) >= chunk:
                    n += _flush(cur, ents, audits)
        n += _flush(cur, ents, audits)
        con.commit()
    return n


def _flush(cur: Any, ents: list[tuple[object, ...]], audits: list[tuple[object, ...]]) -> int:
    _copy(cur, _ENTERPRISE, ents)
    _copy(cur, _COPY_AUDIT, audits)
    n = len(ents)
    ents.clear()
    audits.clear()
    return n


_ENROL = ("INSERT INTO participation (enterprise_id, campaign_id, cycle, state, starting_grade, starting_rating_doc, "
          "target_grade, consent_ref, enrolled_late, failures, pre_assessed, plan_submitted, version, updated_at) "
          "SELECT id, %s, 1, 'cultivation', grade, rating_doc, %s, %s, false, 0, false, false, 1, %s "
          "FROM enterprise WHERE code = %s RETURNING starting_grade, starting_rating_doc")
_ASSIST = ("UPDATE participation SET state = 'assistance', version = version + 1, updated_at = %s "
           "WHERE campaign_id = %s AND state = 'cultivation' "
           "AND enterprise_id = (SELECT id FROM enterprise WHERE code = %s)")
_AUDIT_ONE = f"INSERT INTO audit_entry ({', '.join(AUDIT_COLUMNS)}) VALUES ({', '.join(['%s'] * len(AUDIT_COLUMNS))})"


def write_events(con: Any, work: Sequence[tuple[str, str]], city: str, actor: str, deadline: float,
                 clock: Any) -> list[float]:
    """Interactive writes, as a writer among others: for each (code, target), `enroll` then
    `start_assistance`, each its own transaction and commit: the row change, then the chain head under the
    advisory lock and the audit row, on the connection `con`. Stops at `deadline` (clock() value); returns
    each event's latency."""
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode
    lat: list[float] = []
    with con.cursor() as cur:
        camp_id, year = cur.execute("SELECT id, year FROM campaign ORDER BY year DESC LIMIT 1").fetchone()
        con.commit()
        for code, target in work:
            for event in ("enroll", "start_assistance"):
                if clock() >= deadline:
                    return lat
                t = clock()
                at = "2024-05-20T02:00:00.000000Z" if event == "enroll" else "2024-06-20T02:00:00.000000Z"
                if event == "enroll":
                    grade, doc = cur.execute(_ENROL, (camp_id, target, f"自愿-{code[-6:]}", at, code)).fetchone()
                    payload = dumps({"consent": f"自愿-{code[-6:]}", "starting_grade": grade,
                                     "starting_rating_doc": doc, "target_grade": target})
                    src, dest = "unenrolled", "cultivation"
                else:
                    cur.execute(_ASSIST, (at, camp_id, code))
                    payload, src, dest = "{}", "cultivation", "assistance"
                chain = Chain(cur)
                cur.execute(_AUDIT_ONE, chain.row(code, year, city, event, src, dest, actor, "city_coordinator", "",
                                                  payload, at, at))
                con.commit()
                lat.append(clock() - t)
    return lat


def verify(url: str, *, batch: int = 50_000) -> int:
    """Walk the chain in seq order through a server-side cursor, recompute every hash; the count, or raise."""
    prev, expected = GENESIS, 1
    with connect(url) as con, con.cursor(name="floor_verify") as cur:
        cur.itersize = batch
        cur.execute(f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit_entry ORDER BY seq")
        while rows := cur.fetchmany(batch):
            for r in rows:
                if r[0] != expected or r[1] != prev:
                    raise AssertionError(f"chain broken at {expected}")
                if entry_hash(r[:14]) != r[14]:
                    raise AssertionError(f"hash mismatch at {expected}")
                prev = r[14]
                expected += 1
    return expected - 1


def targets(url: str, year: int) -> dict[str, Counter[str]]:
    """The grouping `report targets` reads, aggregated per city and state."""
    out: dict[str, Counter[str]] = {}
    with connect(url) as con:
        for city, state, _starting, _achieved, n in con.execute(
                "SELECT c.name, p.state, p.starting_grade, p.achieved_grade, count(*) FROM participation p "
                "JOIN enterprise e ON e.id = p.enterprise_id JOIN city c ON c.id = e.city_id "
                "JOIN campaign k ON k.id = p.campaign_id WHERE k.year = %s "
                "GROUP BY c.name, p.state, p.starting_grade, p.achieved_grade", (year,)):
            out.setdefault(city, Counter())[state] += n
    return out


# The month's missing evaluations: the state at the cut is the to_state of the code's last audit entry
# effective before it; ready to certify: publicity over without objection.
_MISSING = """
SELECT e.code, e.name, c.name FROM (
    SELECT DISTINCT ON (code) code, to_state FROM audit_entry
    WHERE campaign_year = %(year)s AND to_state IS NOT NULL AND effective_at < %(cut)s
    ORDER BY code, seq DESC) last
JOIN enterprise e ON e.code = last.code
JOIN participation p ON p.enterprise_id = e.id AND p.campaign_id = %(camp)s
JOIN city c ON c.id = e.city_id
WHERE last.to_state = 'tracking' AND NOT EXISTS (
    SELECT 1 FROM evaluation v WHERE v.participation_id = p.id AND v.cycle = p.cycle AND v.month = %(month)s)
ORDER BY e.code"""
_READY = """
SELECT e.code, e.name, c.name, p.target_grade, p.publicity_start, p.publicity_end FROM participation p
JOIN enterprise e ON e.id = p.enterprise_id JOIN city c ON c.id = e.city_id
WHERE p.campaign_id = %(camp)s AND p.state = 'certification' AND p.publicity_end IS NOT NULL
  AND p.publicity_end < %(today)s
ORDER BY e.code"""
_NOTICE_COLS = ("key", "kind", "city", "code", "due", "context", "subject", "body", "template", "status", "error",
                "attempts", "created_at", "delivered_at")


def tick(url: str, outbox: Path, *, month: str, cut: str, due: str, today: str) -> int:
    """The day's notices: missing evaluations of `month` and participations ready to certify. One notice
    row each (natural key, never twice), one outbox file and one delivery-attempt row each, and one chained
    audit entry listing them, in one transaction; reads through server-side cursors."""
    outbox.mkdir(parents=True, exist_ok=True)
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode
    stamp = f"{today}T00:00:00.000000Z"
    with connect(url) as con, con.cursor() as cur:
        camp_id, year = cur.execute("SELECT id, year FROM campaign ORDER BY year DESC LIMIT 1").fetchone()
        cur.execute("CREATE TEMP TABLE new_notice (LIKE notice INCLUDING DEFAULTS) ON COMMIT DROP")
        files: dict[str, str] = {}
        params = {"year": year, "cut": cut, "camp": camp_id, "month": month, "today": today}
        notices: list[tuple[object, ...]] = []
        with con.cursor(name="floor_missing") as rd:
            rd.execute(_MISSING, params)
            for code, name, city in rd:
                key = f"evaluation_missing:{code}:{month}"
                subject = f"关于{name}{month}月度跟踪评估未报送的提醒"
                body = f"{city}生态环境局：\n\n{name}（{code}）{month} 的月度跟踪评估尚未记录，请于 {due} 前补报。\n"
                files[key] = f"{subject}\n\n{body}"
                notices.append((key, "evaluation_missing", city, code, due,
                                dumps({"code": code, "city": city, "period": month}), subject, body, "floor",
                                "delivered", "", 1, stamp, stamp))
        with con.cursor(name="floor_ready") as rd:
            rd.execute(_READY, params)
            for code, name, city, grade, start, end in rd:
                key = f"ready_to_certify:{code}:{end.isoformat()}"
                subject = f"关于{name}公示期满待认定的提醒"
                body = (f"{city}生态环境局：\n\n{name}（{code}）已于 {start.isoformat()} 至 {end.isoformat()} "
                        f"公示期满无异议，拟认定为 {grade} 级，请办理认定。\n")
                files[key] = f"{subject}\n\n{body}"
                notices.append((key, "ready_to_certify", city, code, end.isoformat(),
                                dumps({"code": code, "city": city, "grade": grade}), subject, body, "floor",
                                "delivered", "", 1, stamp, stamp))
        _copy(cur, f"COPY new_notice ({', '.join(_NOTICE_COLS)}) FROM STDIN", notices)
        made = cur.execute(f"INSERT INTO notice ({', '.join(_NOTICE_COLS)}) SELECT {', '.join(_NOTICE_COLS)} "
                           "FROM new_notice ON CONFLICT (key) DO NOTHING RETURNING id, key").fetchall()
        attempts = []
        for nid, key in made:
            path = outbox / f"{key.replace(':', '_')}.txt"
            path.write_text(files[key], encoding="utf-8")
            attempts.append((nid, 1, "outbox", str(path), stamp, True, ""))
        _copy(cur, "COPY delivery_attempt (notice_id, round, channel, target, attempted_at, ok, error) FROM STDIN",
              attempts)
        if made:
            chain = Chain(cur)
            _copy(cur, _COPY_AUDIT, [chain.row(None, year, None, "scheduler_alerts", None, None, "system", "system", "",
                                               dumps({"as_of": today, "notices": sorted(k for _, k in made)}),
                                               stamp, stamp)])
        con.commit()
    return len(made)
