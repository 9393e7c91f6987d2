"""A province-sized campaign written straight into the database, consistent with its audit log.

For the read-heavy workloads (`report targets`, `scheduler tick`) the participations are
inserted directly, each with one valid, chained audit entry whose `to_state` is the
participation's state (so `audit verify` and the scheduler's audit-based queries agree).
Taking 100,000 participations through the lifecycle one event at a time is workload 2's job.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from workflow.domain.audit import FIELDS, FORMAT, GENESIS, entry_hash

from .data import COORD

# state, share out of 20 (mostly mid-pipeline: a campaign in August)
MIX = (("cultivation", 2), ("assistance", 3), ("tracking", 8), ("acceptance", 2),
       ("provincial_recheck", 2), ("certification", 1), ("certified", 1), ("withdrawn", 1))
_CYCLE = [s for s, k in MIX for _ in range(k)]
TRACKING_SINCE = "2024-07-04T01:00:00.000000Z"  # after June's evaluation fell due: one month owed
EVALUATED_AT = "2024-07-20T01:00:00.000000Z"
MONTH = "2024-07"  # the month whose evaluation falls due on 2024-08-01
MISSING_EVERY = 8  # one participation in tracking out of 8 has not recorded July's evaluation


def _target(grade: str) -> str:
    if grade in ("非引领性", "引领性"):
        return "引领性"
    return "A" if grade in ("B", "A") else "B"


def add_participations(db: Path, n: int) -> int:
    """The first `n` enterprises take part, in the states of MIX; returns how many."""
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    camp_id, year = con.execute("SELECT id, year FROM campaign ORDER BY year DESC").fetchone()
    seq, prev = con.execute("SELECT seq, hash FROM audit_entry ORDER BY seq DESC LIMIT 1").fetchone() \
        or (0, GENESIS)
    rows = con.execute("SELECT e.id, e.code, e.grade, c.name FROM enterprise e JOIN city c ON c.id = e.city_id "
                       "ORDER BY e.id LIMIT ?", (n,)).fetchall()
    parts, audits, evaluated = [], [], []
    for i, (eid, code, grade, city) in enumerate(rows):
        state = _CYCLE[i % len(_CYCLE)]
        target = _target(grade)
        achieved = target if state == "certified" else None
        parts.append((eid, camp_id, state, grade, target, achieved, f"自愿-{i:06d}",
                      state in ("tracking", "acceptance", "provincial_recheck", "certification",
                                "certified"), TRACKING_SINCE))
        seq += 1
        payload = json.dumps({"bench": "direct", "target_grade": target}, ensure_ascii=False,
                             sort_keys=True, separators=(",", ":"))
        values: tuple[object, ...] = (seq, prev, code, year, city, "bench_state", None, state, COORD,
                                      "city_coordinator", "", payload, TRACKING_SINCE, TRACKING_SINCE)
        prev = entry_hash(values)
        audits.append((*values, prev, FORMAT))
        if state == "tracking" and (i // len(_CYCLE)) % MISSING_EVERY:
            seq += 1
            values = (seq, prev, code, year, city, "record_evaluation", "tracking", "tracking", COORD,
                      "expert", "", json.dumps({"month": MONTH}), EVALUATED_AT, EVALUATED_AT)
            prev = entry_hash(values)
            audits.append((*values, prev, FORMAT))
            evaluated.append((eid, camp_id, MONTH, EVALUATED_AT, seq))
    con.execute("BEGIN")
    con.executemany(
        "INSERT INTO participation (enterprise_id, campaign_id, state, starting_grade, target_grade, "
        "achieved_grade, consent_ref, enrolled_late, failures, pre_assessed, plan_submitted, version, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, 1, ?, 1, ?)", parts)
    cols = (*FIELDS, "hash", "format")
    con.executemany(f"INSERT INTO audit_entry ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                    audits)
    con.executemany(
        "INSERT INTO evaluation (participation_id, month, recorded_at, audit_seq) SELECT id, ?, ?, ? "
        "FROM participation WHERE enterprise_id = ? AND campaign_id = ?",
        [(m, at, seq, eid, cid) for eid, cid, m, at, seq in evaluated])
    con.execute("COMMIT")
    con.close()
    return len(parts)


def copy(src: Path, dst: Path) -> Path:
    """A consistent copy of a SQLite database (the backup API, WAL included)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    for p in dst.parent.glob(dst.name + "*"):
        p.unlink()
    a, b = sqlite3.connect(src), sqlite3.connect(dst)
    a.backup(b)
    b.execute("PRAGMA journal_mode=WAL")
    a.close()
    b.close()
    return dst
