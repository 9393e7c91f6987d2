"""A batch's participation updates and evaluation inserts, held back and written with executemany."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from models.tables import Evaluation, Participation, table
from workflow.errors import ConcurrentChange
from workflow.store.bulk import insert_rows
from workflow.store.participations import UPDATE_P, changed_under_you

_P, _EV = table(Participation), table(Evaluation)
_VERSIONS = select(_P.c.id, _P.c.version).where(_P.c.id.in_(bindparam("pids", expanding=True)))
EV_COLUMNS = ("participation_id", "cycle", "month", "recorded_at", "audit_seq")


class FlushFailed(ConcurrentChange):
    """A batch's held-back writes could not be made (someone else changed a participation the batch
    read): names the enterprise; the batch stops and nothing is committed."""

    def __init__(self, code: str | None) -> None:
        super().__init__(changed_under_you(code or ""), rule="concurrency", code=code)


class Writes:
    """Held writes, made by `flush`: due before anything in the transaction reads them, every `hold`
    rows, and before the commit. The updates of one participation merge into one row that still
    carries the version the batch read, so a change by anyone else since fails the version check
    at the flush (the rows written must equal the rows sent), naming the enterprise."""

    def __init__(self, session: Session, hold: int) -> None:
        self.session, self.hold = session, hold
        self.updates: dict[int, tuple[str, int, dict[str, Any]]] = {}  # pid -> (code, version read, SET)
        self.evaluations: list[tuple[Any, ...]] = []  # in EV_COLUMNS order

    def update(self, code: str, part: Any, values: dict[str, Any]) -> None:
        held = self.updates.get(part.id)
        if held is None:
            self.updates[part.id] = (code, part.version, dict(values))
        else:  # a later event of the same participation: its values win, the version read stays
            held[2].update(values)
        if len(self.updates) >= self.hold:
            self.flush()

    def insert_evaluation(self, row: tuple[Any, ...]) -> None:
        self.evaluations.append(row)
        if len(self.evaluations) >= self.hold:
            self.flush()

    def flush(self) -> None:
        conn = self.session.connection()
        if self.updates:
            updates, self.updates = self.updates, {}
            groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}  # executemany: one SET per group
            for pid, (_, version, values) in updates.items():
                groups.setdefault(tuple(sorted(values)), []).append(dict(b_id=pid, b_version=version, **values))
            for params in groups.values():
                if not conn.dialect.supports_sane_multi_rowcount:  # no trustworthy total: row by row
                    for one in params:
                        if conn.execute(UPDATE_P, one).rowcount != 1:
                            raise FlushFailed(updates[one["b_id"]][0])
                elif conn.execute(UPDATE_P, params).rowcount != len(params):
                    raise FlushFailed(self._culprit(conn, updates, params))
        if self.evaluations:
            rows, self.evaluations = self.evaluations, []
            try:
                insert_rows(conn, _EV, EV_COLUMNS, rows)
            except IntegrityError:  # someone else recorded one of these months meanwhile
                raise FlushFailed(None) from None

    @staticmethod
    def _culprit(conn: Any, updates: dict[int, tuple[str, int, dict[str, Any]]],
                 params: list[dict[str, Any]], chunk: int = 500) -> str | None:
        """The first participation of a failed executemany whose row does not carry our new version."""
        found: dict[int, int] = {}
        for i in range(0, len(params), chunk):
            rows = conn.execute(_VERSIONS, {"pids": [p["b_id"] for p in params[i:i + chunk]]})
            found.update((r[0], r[1]) for r in rows)
        return next((updates[p["b_id"]][0] for p in params if found.get(p["b_id"]) != p["version"]), None)
