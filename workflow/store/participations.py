"""An enterprise's participation, read and written one event at a time (`campaign advance`, the
year-end close, the simulated year), with the statements of the hot path built once: building a
statement costs more than running it."""

from __future__ import annotations

from collections import namedtuple
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, exists, insert, select, update
from sqlmodel import Session

from models.access import Assignment, Conflict
from models.tables import Actor, City, Enterprise, Evaluation, Participation, table
from workflow.errors import ConcurrentChange, NotFound
from workflow.store.prepared import Prepared

_E, _P, _C, _EV = table(Enterprise), table(Participation), table(City), table(Evaluation)

PART_COLUMNS = tuple(_P.c.keys())
ENTERPRISE_COLUMNS = (_E.c.id, _E.c.code, _E.c.grade, _E.c.rating_doc, _E.c.industry, _E.c.ule,
                      _C.c.name.label("city"))
_ENTERPRISE = select(*ENTERPRISE_COLUMNS).join(_C, _C.c.id == _E.c.city_id).where(_E.c.code == bindparam("code"))
_PARTICIPATION = select(_P).where(_P.c.enterprise_id == bindparam("eid"), _P.c.campaign_id == bindparam("cid"))
_MONTHS = select(_EV.c.month).where(_EV.c.participation_id == bindparam("pid"), _EV.c.cycle == bindparam("cycle"))
# One event's reads in one statement: the enterprise, its participation and the acting actor's facts
# on it (a declared conflict, an assignment now, an assignment ever), for the permission checks.
_A, _AS, _CO = table(Actor).c, table(Assignment).c, table(Conflict).c
_ACTOR_ID = select(_A.id).where(_A.name == bindparam("name")).scalar_subquery()
_FACTS = (exists().where(_CO.enterprise_id == _E.c.id, _CO.actor_id == _ACTOR_ID).label("x_conflict"),
          exists().where(_AS.enterprise_id == _E.c.id, _AS.actor_id == _ACTOR_ID,
                         _AS.removed_at.is_(None)).label("x_assigned"),
          exists().where(_AS.enterprise_id == _E.c.id, _AS.actor_id == _ACTOR_ID).label("x_ever"))
_LOAD = (select(*ENTERPRISE_COLUMNS, *[_P.c[k].label(f"p_{k}") for k in PART_COLUMNS], *_FACTS)
         .join(_C, _C.c.id == _E.c.city_id)
         .outerjoin(_P, (_P.c.enterprise_id == _E.c.id) & (_P.c.campaign_id == bindparam("cid")))
         .where(_E.c.code == bindparam("code")))
_INSERT_P = insert(_P)
UPDATE_P = update(_P).where(_P.c.id == bindparam("b_id"), _P.c.version == bindparam("b_version"))
_UPDATE_GRADE = update(_E).where(_E.c.id == bindparam("b_id")).values(version=_E.c.version + 1)  # grade, rating_doc
_INSERT_EV = insert(_EV)


_LOADED, _MONTHS_P = Prepared(_LOAD), Prepared(_MONTHS)
_INSERT_EV_P = Prepared(insert(_EV).values({k: bindparam(f"v_{k}", type_=_EV.c[k].type) for k in
                                            ("participation_id", "cycle", "month", "recorded_at", "audit_seq")}))
_N_ENTERPRISE = len(ENTERPRISE_COLUMNS)


@lru_cache(maxsize=64)
def _update(keys: tuple[str, ...]) -> Prepared:
    """UPDATE_P setting `keys` (bound as v_<key>), compiled once per set of keys."""
    return Prepared(UPDATE_P.values({k: bindparam(f"v_{k}", type_=_P.c[k].type) for k in keys}))


_Enterprise = namedtuple("_Enterprise", ("id", "code", "grade", "rating_doc", "industry", "ule", "city"))  # type: ignore[name-match]
_Participation = namedtuple("_Participation", PART_COLUMNS)  # type: ignore[misc]


def _unknown(code: str) -> NotFound:
    return NotFound(f"企业 {code} 未登记，请先 campaign enterprise add 或 import (unknown enterprise)", code=code)


def changed_under_you(code: str) -> str:
    """The refusal when someone else changed a participation since it was read ("" : a batch's)."""
    who = f"企业 {code} 的状态" if code else "本批企业的状态"
    return f"{who}已被他人更改，请刷新后重试 (state changed under you)"


class Facts(NamedTuple):
    """The acting actor's facts on one enterprise, read with it (`Direct(actor=…)`)."""

    actor: str
    code: str
    conflict: bool  # a declared conflict of interest
    assigned: bool  # assigned as its expert now
    ever: bool  # assigned as its expert at any time


class Direct:
    """Reads when asked and writes at once, in the caller's transaction: one event at a time. Given
    the acting `actor`, `load` reads the enterprise, its participation and the actor's facts on it
    (`facts`) in one statement."""

    def __init__(self, session: Session, campaign_id: int, *, actor: str | None = None) -> None:
        self.session, self.campaign_id, self.actor = session, campaign_id, actor
        self.facts: Facts | None = None
        self._conn: Connection | None = None

    @property
    def conn(self) -> Connection:
        """The session's connection, asked for once per transaction (asking costs more than a query)."""
        c = self._conn
        if c is None or c.closed:
            c = self._conn = self.session.connection()
        return c

    @property
    def known(self) -> Any:
        """Permission facts read up front: none here (see workflow.services.lifecycle.Single)."""
        return None

    def load(self, code: str) -> tuple[Any, Any]:
        """(enterprise, its participation in the campaign or None); NotFound for an unknown code."""
        conn = self.conn
        if self.actor is None:
            ent = conn.execute(_ENTERPRISE, {"code": code}).one_or_none()
            if ent is None:
                raise _unknown(code)
            return ent, conn.execute(_PARTICIPATION, {"eid": ent.id, "cid": self.campaign_id}).one_or_none()
        row = _LOADED.one(conn, {"code": code, "cid": self.campaign_id, "name": self.actor})
        if row is None:
            raise _unknown(code)
        self.facts = Facts(self.actor, row.code, bool(row.x_conflict), bool(row.x_assigned), bool(row.x_ever))
        found = _Enterprise(*row[:_N_ENTERPRISE])
        part = row[_N_ENTERPRISE:_N_ENTERPRISE + len(PART_COLUMNS)]
        return found, (None if row.p_id is None else _Participation(*part))

    def months(self, part: Any) -> frozenset[str]:
        """The evaluation months recorded in the participation's current cycle."""
        return frozenset(r[0] for r in _MONTHS_P.rows(self.conn, {"pid": part.id, "cycle": part.cycle}))

    def insert(self, code: str, ent: Any, values: dict[str, Any]) -> int:
        """A first enrolment: the new participation's id."""
        result = self.conn.execute(
            _INSERT_P, dict(enterprise_id=ent.id, campaign_id=self.campaign_id, **values))
        return int(result.inserted_primary_key[0])  # type: ignore[index]  # one row: its key is there

    def update(self, code: str, part: Any, values: dict[str, Any]) -> int:
        """Write `values` on the participation as read (its version unchanged since), or ConcurrentChange."""
        done = _update(tuple(values)).run(self.conn, {"b_id": part.id, "b_version": part.version,
                                                     **{f"v_{k}": v for k, v in values.items()}})
        if done != 1:
            raise ConcurrentChange(changed_under_you(code), rule="concurrency", code=code)
        return int(part.id)

    def set_grade(self, ent: Any, grade: str, doc: str) -> None:
        self.conn.execute(_UPDATE_GRADE, {"b_id": ent.id, "grade": grade, "rating_doc": doc})

    def record_month(self, pid: int, cycle: int, month: str, recorded_at: str, seq: int) -> None:
        _INSERT_EV_P.run(self.conn, {"v_participation_id": pid, "v_cycle": cycle, "v_month": month,
                                     "v_recorded_at": recorded_at, "v_audit_seq": seq})

    def flush(self) -> None:
        """Nothing is held back."""
