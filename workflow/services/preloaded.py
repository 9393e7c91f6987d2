"""A batch's rows (`advance --file`): its enterprises, participations, evaluation months and the
actor's permission facts, read in a few queries up front; its writes held back (`Writes`)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, select
from sqlmodel import Session

from models.tables import City, Enterprise, Evaluation, Participation, table
from workflow.services.permissions import READS_AUDIT, Known, Separation
from workflow.store.held_writes import Writes
from workflow.store.participations import ENTERPRISE_COLUMNS, PART_COLUMNS, Direct

_E, _P, _C, _EV = table(Enterprise), table(Participation), table(City), table(Evaluation)
_PRELOAD = (select(*ENTERPRISE_COLUMNS, *[_P.c[k].label(f"p_{k}") for k in PART_COLUMNS])
            .join(_C, _C.c.id == _E.c.city_id)
            .outerjoin(_P, (_P.c.enterprise_id == _E.c.id) & (_P.c.campaign_id == bindparam("cid")))
            .where(_E.c.code.in_(bindparam("codes", expanding=True))))
_PRELOAD_MONTHS = (select(_EV.c.participation_id, _EV.c.month)  # the current cycle's months
                   .join(_P, (_P.c.id == _EV.c.participation_id) & (_P.c.cycle == _EV.c.cycle))
                   .where(_EV.c.participation_id.in_(bindparam("pids", expanding=True))))


class Preloaded:
    """The rows `apply` reads, kept current as it writes (the batch holds the write lock; a change
    by anyone else still fails the version check at the flush). Codes it does not hold are loaded
    one by one. Participation updates and evaluations are held (`Writes`); an enrolment's insert
    and a grade are written at once."""

    def __init__(self, session: Session, campaign_id: int, codes: list[str], *, actor: str, year: int,
                 events: set[str], chunk: int = 500, hold: int = 2_000) -> None:
        self.session, self.campaign_id = session, campaign_id
        self.direct = Direct(session, campaign_id)
        self.writes = Writes(session, hold)
        self.known = Known(session, actor, codes, chunk)  # the actor's conflicts and assignments
        self.rows: dict[str, tuple[Any, Any]] = {}
        self.evaluated: dict[int, set[str]] = {}
        conn, wanted = session.connection(), sorted(set(codes))
        for i in range(0, len(wanted), chunk):
            for r in conn.execute(_PRELOAD, {"cid": campaign_id, "codes": wanted[i:i + chunk]}):
                m = r._mapping
                part = None if m["p_id"] is None else SimpleNamespace(**{k: m[f"p_{k}"] for k in PART_COLUMNS})
                self.rows[r.code] = (SimpleNamespace(id=r.id, code=r.code, grade=r.grade, rating_doc=r.rating_doc,
                                                     industry=r.industry, ule=r.ule, city=r.city), part)
        pids = [p.id for _, p in self.rows.values() if p is not None]
        if events & READS_AUDIT:  # separation of duties' facts from the log, so no row waits for the writes
            self.known.separation = Separation(session, actor, year, wanted, pids, self._state_of, chunk)
        for i in range(0, len(pids), chunk):
            for pid, month in conn.execute(_PRELOAD_MONTHS, {"pids": pids[i:i + chunk]}):
                self.evaluated.setdefault(pid, set()).add(month)

    def _state_of(self, code: str) -> tuple[int, str] | None:
        """(participation id, state) as the batch has it; None for a code it does not hold."""
        held = self.rows.get(code)
        return None if held is None or held[1] is None else (int(held[1].id), str(held[1].state))

    def applied(self, code: str, event: str, seq: int, actor: str) -> None:
        """An event applied: the later rows' separation checks see it."""
        if self.known.separation is not None:
            self.known.separation.note(code, event, seq, actor)

    def load(self, code: str) -> tuple[Any, Any]:
        if code not in self.rows:
            ent, part = self.direct.load(code)
            self.rows[code] = (SimpleNamespace(**ent._mapping),
                               None if part is None else SimpleNamespace(**part._mapping))
            if part is not None:
                self.evaluated[part.id] = set(self.direct.months(part))
        return self.rows[code]

    def months(self, part: Any) -> frozenset[str]:
        return frozenset(self.evaluated.get(part.id, ()))

    def insert(self, code: str, ent: Any, values: dict[str, Any]) -> int:
        pid = self.direct.insert(code, ent, values)
        self.rows[code] = (ent, SimpleNamespace(id=pid, enterprise_id=ent.id, campaign_id=self.campaign_id,
                                                **values))
        return pid

    def update(self, code: str, part: Any, values: dict[str, Any]) -> int:
        self.writes.update(code, part, values)  # the version check happens at the flush
        part.__dict__.update(values)  # the batch's copy
        if "cycle" in values:  # a new cycle has no evaluation yet
            self.evaluated[part.id] = set()
        return int(part.id)

    def set_grade(self, ent: Any, grade: str, doc: str) -> None:
        self.direct.set_grade(ent, grade, doc)
        ent.grade, ent.rating_doc = grade, doc

    def record_month(self, pid: int, cycle: int, month: str, recorded_at: str, seq: int) -> None:
        self.writes.insert_evaluation((pid, cycle, month, recorded_at, seq))
        self.evaluated.setdefault(pid, set()).add(month)

    def flush(self) -> None:
        """Make the held writes visible to what reads the tables."""
        self.writes.flush()
