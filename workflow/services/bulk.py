"""Bulk actions in the web workspace: one event, its fields filled once, applied to many
participations all or nothing (as `advance --file` does: `lifecycle.advance_batch`).

Scope (checked here): an enterprise the person does not see is reported as not found, as an unknown
one, and nothing is written; every row is then judged by the engine (permission, city, expert,
separation of duties, state, window). One refused row writes nothing; the result lists every row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from models.db import UnitOfWork
from models.tables import City, Enterprise, Participation, table
from workflow.context import Context
from workflow.domain import forms
from workflow.domain.forms import FieldSpec
from workflow.domain.matrix import roles_for
from workflow.domain.states import EVENTS, STATE_ZH, UNENROLLED
from workflow.errors import InvalidInput
from workflow.services import lifecycle
from workflow.services.tasks import me
from workflow.store import campaigns, scope

_E, _C, _P = table(Enterprise).c, table(City).c, table(Participation).c
MAX_ROWS = 500


@dataclass(frozen=True)
class Choice:
    event: str
    label: str
    fields: tuple[FieldSpec, ...]  # a grade select's choices depend on the enterprise: free text here


@dataclass(frozen=True)
class Selected:
    code: str
    name: str
    city: str
    state_label: str


@dataclass(frozen=True)
class BulkRow:
    line: int
    code: str
    name: str
    ok: bool
    message: str


@dataclass(frozen=True)
class BulkResult:
    ok: bool  # everything was written (all rows accepted)
    event: str
    label: str
    rows: tuple[BulkRow, ...]


def choices(ctx: Context) -> tuple[Choice, ...]:
    """The lifecycle events this person's roles may do at all (the matrix), each with its fields."""
    with UnitOfWork(ctx.engine) as uow:
        _, actor = me(uow.session, ctx.actor)
    return tuple(Choice(e, spec.zh, forms.fields(e)) for e, spec in EVENTS.items()
                 if set(roles_for(e)) & set(actor.roles))


def codes_of(raw: Sequence[str]) -> list[str]:
    """The selected credit codes, cleaned, in order, each once (at most MAX_ROWS)."""
    out: list[str] = []
    for c in raw:
        key = (c or "").strip().upper()
        if key and key not in out:
            out.append(key)
    if len(out) > MAX_ROWS:
        raise InvalidInput(f"一次最多批量处理 {MAX_ROWS} 家企业，本次选择了 {len(out)} 家，请分批提交 (too many rows)")
    return out


def selection(ctx: Context, codes: Sequence[str]) -> tuple[list[Selected], list[str]]:
    """The selected enterprises this person sees (with name, city, state) and the codes they do not."""
    wanted = codes_of(codes)
    with UnitOfWork(ctx.engine) as uow:
        s = uow.session
        actor_id, actor = me(s, ctx.actor)
        camp = campaigns.campaign(s, ctx)
        found = {}
        for i in range(0, len(wanted), 200):
            part = wanted[i:i + 200]
            for r in s.execute(select(_E.code, _E.name, _C.name, _P.state)
                               .select_from(table(Enterprise)).join(table(City), _C.id == _E.city_id)
                               .outerjoin(table(Participation),
                                          (_P.enterprise_id == _E.id) & (_P.campaign_id == camp.id))
                               .where(_E.code.in_(part), scope.visible(actor, actor_id))):
                found[r[0]] = Selected(r[0], r[1], r[2], STATE_ZH[r[3] or UNENROLLED])
    return [found[c] for c in wanted if c in found], [c for c in wanted if c not in found]


def apply(ctx: Context, event: str, codes: Sequence[str], form: Mapping[str, str]) -> BulkResult:
    """Apply `event` with the same fields to every selected enterprise, all or nothing. InvalidInput
    (nothing selected, an unknown event, a missing or malformed field) is raised before anything runs."""
    if event not in EVENTS:
        raise InvalidInput(f"请选择要批量执行的事件（未知事件 '{event}'）(unknown event)")
    wanted = codes_of(codes)
    if not wanted:
        raise InvalidInput("请至少勾选一家企业 (nothing selected)")
    fields = {k: v for k, v in form.items() if k != "version"}  # the lists show no version: none expected
    reqs = [(i, forms.request(event, fields, code)) for i, code in enumerate(wanted, 1)]
    seen, unseen = selection(ctx, wanted)
    names = {x.code: x.name for x in seen}
    label = EVENTS[event].zh
    if unseen:
        rows = tuple(BulkRow(i, c, names.get(c, ""), c in names,
                             "未执行（同批有企业不存在或不在管辖范围内）" if c in names
                             else f"企业 {c} 不存在，或不在您的管辖范围内 (not found)")
                     for i, c in enumerate(wanted, 1))
        return BulkResult(False, event, label, rows)
    ok, outcomes = lifecycle.advance_batch(ctx, reqs)
    rows = tuple(BulkRow(o.line, o.code, names.get(o.code, ""), o.ok,
                         (o.message if ok else f"可以执行（{o.message}），但同批有被拒绝的行，未写入") if o.ok
                         else o.message)
                 for o in outcomes)
    return BulkResult(ok, event, label, rows)
