"""An enterprise's participation, read and written one event at a time (`campaign advance`, the
year-end close, the simulated year), with the statements of the hot path built once: building a
statement costs more than running it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlmodel import Session

from models.tables import City, Enterprise, Evaluation, Participation, table
from workflow.errors import ConcurrentChange, NotFound

_E, _P, _C, _EV = table(Enterprise), table(Participation), table(City), table(Evaluation)

PART_COLUMNS = tuple(_P.c.keys())
ENTERPRISE_COLUMNS = (_E.c.id, _E.c.code, _E.c.grade, _E.c.rating_doc, _E.c.industry, _E.c.ule,
                      _C.c.name.label("city"))
_ENTERPRISE = select(*ENTERPRISE_COLUMNS).join(_C, _C.c.id == _E.c.city_id).where(_E.c.code == bindparam("code"))
_PARTICIPATION = select(_P).where(_P.c.enterprise_id == bindparam("eid"), _P.c.campaign_id == bindparam("cid"))
_MONTHS = select(_EV.c.month).where(_EV.c.participation_id == bindparam("pid"), _EV.c.cycle == bindparam("cycle"))
_INSERT_P = insert(_P)
UPDATE_P = update(_P).where(_P.c.id == bindparam("b_id"), _P.c.version == bindparam("b_version"))
_UPDATE_GRADE = update(_E).where(_E.c.id == bindparam("b_id")).values(version=_E.c.version + 1)  # grade, rating_doc
_INSERT_EV = insert(_EV)


def changed_under_you(code: str) -> str:
    """The refusal when someone else changed a participation since it was read ("" : a batch's)."""
    who = f"企业 {code} 的状态" if code else "本批企业的状态"
    return f"{who}已被他人更改，请刷新后重试 (state changed under you)"


class Direct:
    """Reads when asked and writes at once, in the caller's transaction: one event at a time."""

    known = None  # no permission facts read up front: the checks ask the database

    def __init__(self, session: Session, campaign_id: int) -> None:
        self.session, self.campaign_id = session, campaign_id

    def load(self, code: str) -> tuple[Any, Any]:
        """(enterprise, its participation in the campaign or None); NotFound for an unknown code."""
        conn = self.session.connection()
        ent = conn.execute(_ENTERPRISE, {"code": code}).one_or_none()
        if ent is None:
            raise NotFound(f"企业 {code} 未登记，请先 campaign enterprise add 或 import (unknown enterprise)",
                           code=code)
        return ent, conn.execute(_PARTICIPATION, {"eid": ent.id, "cid": self.campaign_id}).one_or_none()

    def months(self, part: Any) -> frozenset[str]:
        """The evaluation months recorded in the participation's current cycle."""
        rows = self.session.connection().execute(_MONTHS, {"pid": part.id, "cycle": part.cycle})
        return frozenset(r[0] for r in rows)

    def insert(self, code: str, ent: Any, values: dict[str, Any]) -> int:
        """A first enrolment: the new participation's id."""
        result = self.session.connection().execute(
            _INSERT_P, dict(enterprise_id=ent.id, campaign_id=self.campaign_id, **values))
        return int(result.inserted_primary_key[0])  # type: ignore[index]  # one row: its key is there

    def update(self, code: str, part: Any, values: dict[str, Any]) -> int:
        """Write `values` on the participation as read (its version unchanged since), or ConcurrentChange."""
        done = self.session.connection().execute(UPDATE_P, dict(b_id=part.id, b_version=part.version, **values))
        if done.rowcount != 1:
            raise ConcurrentChange(changed_under_you(code), rule="concurrency", code=code)
        return int(part.id)

    def set_grade(self, ent: Any, grade: str, doc: str) -> None:
        self.session.connection().execute(_UPDATE_GRADE, {"b_id": ent.id, "grade": grade, "rating_doc": doc})

    def record_month(self, pid: int, cycle: int, month: str, recorded_at: str, seq: int) -> None:
        self.session.connection().execute(_INSERT_EV, {"participation_id": pid, "cycle": cycle, "month": month,
                                                       "recorded_at": recorded_at, "audit_seq": seq})

    def flush(self) -> None:
        """Nothing is held back."""
