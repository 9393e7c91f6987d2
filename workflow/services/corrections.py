"""Grade corrections outside the process (`grade_correction`): the province corrects a grade that
was recorded wrong, with a reason and the rating document's number (评级文件文号), never while the
enterprise is in the middle of the campaign."""

from __future__ import annotations

from typing import TypedDict

from sqlalchemy import select, update
from sqlmodel import Session

from models.tables import City, Enterprise, Participation, table
from workflow.context import Context
from workflow.domain import creditcode, grades, master_data, rules
from workflow.domain.states import ACTIVE, STATE_ZH
from workflow.errors import ConcurrentChange, InvalidInput, NotFound, Refused
from workflow.services import permissions
from workflow.services.actors import lookup
from workflow.store.campaigns import campaign
from workflow.store.ledger import Entry, Ledger, audited

_E, _C, _P = table(Enterprise).c, table(City).c, table(Participation).c
EVENT = "grade_correction"
# "from" is a keyword: the functional form
GradeChange = TypedDict("GradeChange", {"from": str, "to": str, "rating_doc": str, "previous_rating_doc": str})


class GradeCorrected(GradeChange):
    code: str
    city: str
    reason: str
    seq: int


def correct_grade(ctx: Context, code: str, grade: str, *, reason: str, rating_doc: str) -> GradeCorrected:
    """Set the enterprise's grade and 评级文件文号; audited with from/to, reason and document."""

    def work(s: Session) -> GradeCorrected:
        actor = lookup(s, ctx.actor)
        code_ = creditcode.validate(code)
        cur = s.execute(select(_E.id, _E.version, _E.industry, _E.grade, _E.rating_doc, _E.ule,
                               _C.name.label("city")).join_from(table(Enterprise), table(City), _C.id == _E.city_id)
                        .where(_E.code == code_)).one_or_none()
        if cur is None:
            raise NotFound(code=code_)
        role = permissions.authorize(s, actor, EVENT, city=cur.city, code=code_)
        why, doc = reason.strip(), rating_doc.strip()
        if not why or not doc:
            raise InvalidInput("更正绩效等级须用 --reason 写明理由并用 --rating-doc 给出评级文件文号 "
                               "(reason and rating document required)")
        new = grades.normalise(grade)
        camp = campaign(s, ctx)
        state = s.execute(select(_P.state).where(_P.enterprise_id == cur.id, _P.campaign_id == camp.id)
                          ).scalar_one_or_none()
        if state in ACTIVE:
            raise Refused(f"企业 {code_} 在 {camp.year} 年行动中处于 {state}（{STATE_ZH.get(state, '')}），"
                          "培育进行中不得更正绩效等级；等级由验收、复核、公示、认定决定 "
                          "(open participation)", rule=EVENT)
        if not camp.plan.industries.known(cur.industry):
            raise Refused(f"企业 {code_} 的行业 '{cur.industry}' 不在行业目录中，请先用 campaign enterprise "
                          "update --industry 更正 (unknown industry)", rule="行业")
        master_data.check_scale(camp.plan, cur.industry, new)
        rules.check_a_grade(camp.plan, cur.industry, cur.ule, new)
        if new == cur.grade and doc == cur.rating_doc:
            raise InvalidInput(f"企业 {code_} 已是 {new}，评级文件文号 {doc}，没有需要更正的 (nothing to change)")
        done = s.connection().execute(
            update(table(Enterprise)).where(_E.id == cur.id, _E.version == cur.version)
            .values(grade=new, rating_doc=doc, version=cur.version + 1))
        if done.rowcount != 1:
            raise ConcurrentChange(code=code_)
        payload: GradeChange = {"from": cur.grade, "to": new, "rating_doc": doc, "previous_rating_doc": cur.rating_doc}
        seq, _ = Ledger(s, ctx).append(Entry(code=code_, campaign_year=camp.year, city=cur.city, event=EVENT,
                                             actor=actor.name, role=role, reason=why, payload=payload))
        return {"code": code_, "city": cur.city, "reason": why, "seq": seq, **payload}

    return audited(ctx, EVENT, code, work)
