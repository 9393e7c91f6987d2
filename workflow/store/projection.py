"""Every audited row is a projection of the log: replay the chain, read each audited table once,
and name every row the log does not explain, every row it implies that is gone, and every value
that differs (table, key, column).

Not compared (bookkeeping, or stamped by a separate read of the clock beside the entry, whose
`effective_at` is the record): surrogate ids (`id`, `*_id`: rows are matched by their natural keys),
`version`, `updated_at`, `recorded_at`, `assigned_at`, `removed_at` (compared: whether it is set),
`declared_at`, `drawn_at`, `submitted_at`, `opened_at`, `answered_at`, `created_at`, `granted_at`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine

from workflow.domain.audit import Verdict
from workflow.domain.replay import UNKNOWN, Calendar, Projection
from workflow.errors import IntegrityFailure
from workflow.store.chain import verify_into

Row = tuple[tuple[Any, ...], dict[str, Any]]
KEY_NAMES = {  # what a key's parts are, for the message
    "participation": ("code", "year"), "evaluation": ("code", "year", "cycle", "month"),
    "expert_assignment": ("code", "expert"), "conflict_of_interest": ("actor", "code"),
    "city_target": ("year", "city"), "spot_check_pick": ("audit_seq", "code"),
}


@dataclass(frozen=True)
class Break:
    table: str
    key: tuple[Any, ...]
    column: str | None  # None: the whole row (not explained, or missing)
    stored: Any  # the row's value; for a whole row, the row (None: missing)
    implied: Any  # what the log implies; for a whole row, the row (None: not explained)
    row: dict[str, Any] | None = None  # the stored row (None: missing)

    def where(self) -> str:
        """'participation CODE（2024）' or 'enterprise CODE ' (ready for the column's name)."""
        first, *rest = self.key
        return f"{self.table} {first}" + (f"（{'，'.join(map(str, rest))}）" if rest else " ")

    def message(self) -> str:
        if self.column is None and self.implied is None:
            return f"{self.where().strip()}：审计链中没有产生这一行的记录 (row not explained by the audit log)"
        if self.column is None:
            return f"{self.where().strip()}：审计链推得此行，库中没有 (row missing from the table)"
        if self.implied is UNKNOWN:
            return (f"{self.where()}列 {self.column}：库中 {_show(self.stored)}，审计链未记录此值 "
                    "(not in the audit log; campaign audit baseline)")
        return (f"{self.where()}列 {self.column}：库中 {_show(self.stored)}，审计链推得 {_show(self.implied)} "
                "(row differs from the audit log)")

    def as_dict(self) -> dict[str, Any]:
        def plain(v: Any) -> Any:
            return None if v is UNKNOWN else {k: plain(x) for k, x in v.items()} if isinstance(v, dict) else v

        return {"table": self.table, "key": list(self.key), "column": self.column, "stored": plain(self.stored),
                "implied": plain(self.implied), "unknown": self.implied is UNKNOWN, "message": self.message()}


def _show(v: Any) -> str:
    return "（空）" if v is None or v == "" else str(v)


def _plain(v: Any) -> Any:
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    return v


def _sha(v: str | None) -> str | None:
    return None if v is None else hashlib.sha256(v.encode("utf-8")).hexdigest()


def _masked(v: str | None) -> str | None:
    if v is None:
        return None
    from notifications import mask_url

    return mask_url(v)


_Spec = tuple[str, int, tuple[str, ...], Callable[[dict[str, Any]], dict[str, Any]] | None]
_BOOL = {"active", "livelihood", "enrolled_late", "pre_assessed", "plan_submitted", "late", "removed"}


def _contact(r: dict[str, Any]) -> dict[str, Any]:
    raw = r.pop("webhook")
    return {**r, "webhook": _masked(raw), "webhook_sha256": _sha(raw)}


def _campaign(r: dict[str, Any]) -> dict[str, Any]:
    return {"calendar_sha256": _sha(r["calendar"])}


# table → (SELECT: key columns first, then the compared ones; how many key columns; names; adapt)
SPECS: dict[str, _Spec] = {
    "campaign": ("SELECT year, calendar FROM campaign", 1, ("year", "calendar"), _campaign),
    "city_target": ("SELECT ca.year, ci.name, t.target FROM city_target t "
                    "LEFT JOIN campaign ca ON ca.id = t.campaign_id LEFT JOIN city ci ON ci.id = t.city_id",
                    2, ("year", "city", "target"), None),
    "actor": ("SELECT a.name, a.roles, ci.name, a.active FROM actor a LEFT JOIN city ci ON ci.id = a.city_id",
              1, ("name", "roles", "city", "active"), None),
    "enterprise": ("SELECT e.code, e.name, ci.name, e.county, e.industry, e.industry_detail, e.grade, e.rating_doc, "
                   "e.ule, e.ule_ref, e.ule_date, e.livelihood FROM enterprise e "
                   "LEFT JOIN city ci ON ci.id = e.city_id",
                   1, ("code", "name", "city", "county", "industry", "industry_detail", "grade", "rating_doc", "ule",
                       "ule_ref", "ule_date", "livelihood"), None),
    "participation": ("SELECT e.code, ca.year, p.state, p.cycle, p.starting_grade, p.starting_rating_doc, "
                      "p.target_grade, p.achieved_grade, p.consent_ref, p.enrolled_late, p.failures, p.pre_assessed, "
                      "p.plan_submitted, p.publicity_start, p.publicity_end FROM participation p "
                      "LEFT JOIN enterprise e ON e.id = p.enterprise_id LEFT JOIN campaign ca ON ca.id = p.campaign_id",
                      2, ("code", "year", "state", "cycle", "starting_grade", "starting_rating_doc", "target_grade",
                          "achieved_grade", "consent_ref", "enrolled_late", "failures", "pre_assessed",
                          "plan_submitted", "publicity_start", "publicity_end"), None),
    "evaluation": ("SELECT e.code, ca.year, ev.cycle, ev.month, ev.audit_seq FROM evaluation ev "
                   "LEFT JOIN participation p ON p.id = ev.participation_id "
                   "LEFT JOIN enterprise e ON e.id = p.enterprise_id LEFT JOIN campaign ca ON ca.id = p.campaign_id",
                   4, ("code", "year", "cycle", "month", "audit_seq"), None),
    "expert_assignment": ("SELECT e.code, a.name, x.assigned_by, x.removed_at IS NOT NULL, x.audit_seq "
                          "FROM expert_assignment x LEFT JOIN enterprise e ON e.id = x.enterprise_id "
                          "LEFT JOIN actor a ON a.id = x.actor_id",
                          2, ("code", "expert", "assigned_by", "removed", "audit_seq"), None),
    "conflict_of_interest": ("SELECT a.name, e.code, x.reason, x.declared_by, x.audit_seq "
                             "FROM conflict_of_interest x LEFT JOIN actor a ON a.id = x.actor_id "
                             "LEFT JOIN enterprise e ON e.id = x.enterprise_id",
                             2, ("actor", "code", "reason", "declared_by", "audit_seq"), None),
    "contact": ("SELECT id, city, name, email, webhook, active FROM contact", 1,
                ("id", "city", "name", "email", "webhook", "active"), _contact),
    "deliverable_submission": (
        "SELECT s.audit_seq, ca.year, ci.name, s.kind, s.period, s.due, s.submitted_on, s.late, s.actor, "
        "s.file_name, s.sha256, s.stored_path, s.note FROM deliverable_submission s "
        "LEFT JOIN campaign ca ON ca.id = s.campaign_id LEFT JOIN city ci ON ci.id = s.city_id",
        1, ("audit_seq", "year", "city", "kind", "period", "due", "submitted_on", "late", "actor", "file_name",
            "sha256", "stored_path", "note"), None),
    "enterprise_request": (
        "SELECT r.id, ca.year, e.code, r.subject, r.received, r.due, r.opened_by, r.answer, r.answered_on, "
        "r.answered_by, r.late FROM enterprise_request r LEFT JOIN campaign ca ON ca.id = r.campaign_id "
        "LEFT JOIN enterprise e ON e.id = r.enterprise_id",
        1, ("id", "year", "code", "subject", "received", "due", "opened_by", "answer", "answered_on", "answered_by",
            "late"), None),
    "spot_check": ("SELECT s.audit_seq, ca.year, s.city, s.round, s.rate, s.seed, s.population, s.selected, "
                   "s.drawn_by FROM spot_check s LEFT JOIN campaign ca ON ca.id = s.campaign_id",
                   1, ("audit_seq", "year", "city", "round", "rate", "seed", "population", "selected", "drawn_by"),
                   None),
    "spot_check_pick": ("SELECT s.audit_seq, e.code, ca.year FROM spot_check_pick k "
                        "LEFT JOIN spot_check s ON s.id = k.spot_check_id "
                        "LEFT JOIN participation p ON p.id = k.participation_id "
                        "LEFT JOIN enterprise e ON e.id = p.enterprise_id "
                        "LEFT JOIN campaign ca ON ca.id = p.campaign_id", 2, ("audit_seq", "code", "year"), None),
    "equipment_update": ("SELECT u.audit_seq, e.code, ca.year, u.project, u.equipment, u.investment, u.completed, "
                         "u.funding, u.actor FROM equipment_update u "
                         "LEFT JOIN participation p ON p.id = u.participation_id "
                         "LEFT JOIN enterprise e ON e.id = p.enterprise_id "
                         "LEFT JOIN campaign ca ON ca.id = p.campaign_id",
                         1, ("audit_seq", "code", "year", "project", "equipment", "investment", "completed",
                             "funding", "actor"), None),
    "db_login": ("SELECT l.login, a.name, ci.name, l.role, l.granted_by FROM db_login l "
                 "LEFT JOIN actor a ON a.id = l.actor_id LEFT JOIN city ci ON ci.id = l.city_id",
                 1, ("login", "actor", "city", "role", "granted_by"), None),
}


def stored(cur: Any, table: str) -> Iterator[Row]:
    """The table's rows as (key, {column: plain value}), one query on a DBAPI cursor (no transaction
    of SQLAlchemy's: on SQLite that would take the write lock, which `audit baseline` holds)."""
    sql, nkey, names, adapt = SPECS[table]
    cur.execute(sql)
    while batch := cur.fetchmany(10_000):
        for r in batch:
            values = dict(zip(names, map(_plain, r), strict=True))
            for k in _BOOL & values.keys():
                if values[k] is not None:
                    values[k] = bool(values[k])
            key = tuple(values.pop(n) for n in names[:nkey])
            yield key, (adapt(values) if adapt else values)


def _same(stored_value: Any, implied: Any) -> bool:
    if implied is UNKNOWN:
        return False
    if isinstance(stored_value, float) or isinstance(implied, float):
        return implied is not None and stored_value is not None and float(stored_value) == float(implied)
    return bool(stored_value == implied)


def compare(cur: Any, projection: Projection, table: str) -> Iterator[Break]:
    """The breaks of one table: differing values, rows the log does not explain, rows it implies."""
    implied = dict(projection.tables[table])
    for key, row in stored(cur, table):
        want = implied.pop(key, None)
        if want is None:
            yield Break(table, key, None, row, None, row)
            continue
        for column, value in row.items():
            if not _same(value, want.get(column, UNKNOWN)):
                yield Break(table, key, column, value, want.get(column, UNKNOWN), row)
    for key, want in sorted(implied.items(), key=lambda kv: tuple(map(str, kv[0]))):
        yield Break(table, key, None, None, want)


def _reading(engine: Engine, work: Callable[[Any], Any]) -> Any:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        try:
            return work(cur)
        finally:
            cur.close()
            raw.rollback()
    finally:
        raw.close()


def calendars(engine: Engine) -> dict[int, Calendar]:
    """Each loaded campaign's plan, as the replay needs it."""
    from workflow.store.campaigns import _parse_cached

    def read(cur: Any) -> list[Any]:
        cur.execute("SELECT year, calendar FROM campaign")
        return list(cur.fetchall())

    out = {}
    for year, body in _reading(engine, read):
        plan = _parse_cached(body, f"campaign {year}")
        out[int(year)] = Calendar(plan.authority, plan.publicity_workdays, plan.workcal.nth_workday_after,
                                  dict(plan.cities))
    return out


def breaks(engine: Engine, projection: Projection, limit: int | None = 10_000) -> tuple[list[Break], int]:
    """Up to `limit` (None: all) breaks over every audited table, and how many there are in all."""
    found: list[Break] = []

    def read(cur: Any) -> int:
        total = 0
        for table in SPECS:
            for b in compare(cur, projection, table):
                total += 1
                if limit is None or len(found) < limit:
                    found.append(b)
        return total

    return found, int(_reading(engine, read))


class RowsDiffer(IntegrityFailure):
    """Audited rows the log does not explain (exit 3): the first named in one line with how many there
    are; all of them (up to 10,000) in `breaks`, for `audit verify --json`."""

    def __init__(self, found: list[Break], total: int) -> None:
        more = (f"；另有 {total - 1} 处不符，campaign audit verify --json 列出全部 ({total} differences)"
                if total > 1 else "")
        super().__init__(found[0].message() + more)
        self.breaks, self.total = found, total


def check(engine: Engine, digest: str | None = None, *,
          limit: int | None = 10_000) -> tuple[Verdict, Projection, list[Break], int]:
    """Verify the chain and replay it in one pass; when the chain holds, compare every audited table
    with what it implies. Returns the verdict, the projection, the breaks (up to 10,000) and their count."""
    cals = calendars(engine)
    verdict, projection = verify_into(engine, digest, lambda: Projection(cals))
    if verdict.broken is not None or not verdict.digest_found:
        return verdict, projection, [], 0
    found, total = breaks(engine, projection, limit)
    return verdict, projection, found, total
