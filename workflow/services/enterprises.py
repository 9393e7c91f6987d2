"""Enterprise master data: validate, add, update, import (all or nothing), list, show."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple, TypedDict, cast

from sqlalchemy import insert, select, update
from sqlmodel import Session

from models.db import UnitOfWork
from models.tables import City, Enterprise, Participation
from workflow.context import Context
from workflow.domain import creditcode, master_data
from workflow.domain.master_data import resolve_city, validate_row
from workflow.errors import ConcurrentChange, InvalidInput, NotFound, Refused
from workflow.files import importer
from workflow.services import permissions
from workflow.services.actors import ActorRecord, lookup
from workflow.services.lifecycle import BatchOutcome
from workflow.store import bulk
from workflow.store.campaigns import campaign
from workflow.store.ledger import Entry, Ledger, audited, refusals_recorded

_E = Enterprise.__table__  # type: ignore[attr-defined]
_P = Participation.__table__  # type: ignore[attr-defined]
_C = City.__table__  # type: ignore[attr-defined]

_CURRENT = ("name", "county", "industry", "industry_detail", "grade", "rating_doc", "ule", "ule_ref",
            "ule_date", "livelihood")


class _Master(TypedDict):
    code: str
    name: str
    city: str
    county: str
    industry: str
    industry_detail: str
    grade: str
    rating_doc: str
    ule: str
    ule_ref: str
    livelihood: bool


class EnterpriseAdded(_Master):
    """The new row as validated (`master_data.validate_row`, dates as ISO text) and its warnings."""

    ule_date: str | None
    warnings: list[str]


class EnterpriseUpdated(TypedDict):
    code: str
    changed: dict[str, list[Any]]  # field -> [before, after]
    version: int


class EnterpriseRecord(_Master):
    """An enterprise with its participation in the campaign (participation keys None if none)."""

    ule_date: date | None
    enterprise_version: int
    state: str | None
    target_grade: str | None
    starting_grade: str | None
    achieved_grade: str | None
    version: int | None  # the participation's
    enrolled_late: bool | None
    failures: int | None


def _cities(session: Session) -> dict[str, int]:
    found = {r[0]: int(r[1]) for r in session.execute(select(City.name, City.id))}  # type: ignore[call-overload]
    if not found:
        raise NotFound("尚无城市数据，请先运行 campaign init")
    return found


def _entry(clean: dict[str, Any], actor: str, role: str, event: str, payload: Any) -> Entry:
    return Entry(code=clean["code"], city=clean["city"], event=event, actor=actor, role=role, payload=payload)


def _authorize_publicity(s: Session, actor: ActorRecord, clean: dict[str, Any]) -> None:
    """ULE 已公示 is a city reviewer's or the province's finding, also on a new row."""
    if clean["ule"] == master_data.PUBLICIZED:
        permissions.authorize(s, actor, "ule_publicize", city=clean["city"], code=None)


def add(ctx: Context, row: dict[str, str]) -> EnterpriseAdded:
    def work(s: Session) -> EnterpriseAdded:
        actor = lookup(s, ctx.actor)
        clean = validate_row(row, _cities(s), campaign(s, ctx).plan, ctx.today)
        role = permissions.authorize(s, actor, "enterprise_add", city=clean["city"], code=clean["code"])
        _authorize_publicity(s, actor, clean)
        if s.execute(select(_E.c.id).where(_E.c.code == clean["code"])).first():
            raise InvalidInput(f"企业 {clean['code']} 已登记，如需修改请用 campaign enterprise update")
        s.connection().execute(insert(_E).values(version=1, **{k: v for k, v in clean.items() if k != "city"}))
        Ledger(s, ctx).append(_entry(clean, actor.name, role, "enterprise_add", _public(clean)))
        warning = creditcode.region_warning(clean["code"])
        return cast(EnterpriseAdded, {**_public(clean), "warnings": [warning] if warning else []})

    return audited(ctx, "enterprise_add", row.get("code"), work)


def _public(clean: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) for k, v in clean.items() if k != "city_id"}


GRADE_REFUSED = ("enterprise update 不能修改绩效等级：等级只经验收、复核、公示、认定流程变化；"
                 "录入有误的，由省级管理员用 campaign enterprise correct-grade CODE --grade … --reason … "
                 "--rating-doc … 更正 (use campaign enterprise correct-grade)")


def update_master(ctx: Context, code: str, changes: dict[str, str]) -> EnterpriseUpdated:
    """Change master data (audited). The grade is refused to everyone; ULE 已公示 (with its
    document and date) is set by a city reviewer of the enterprise's city or the province."""

    def work(s: Session) -> EnterpriseUpdated:
        actor = lookup(s, ctx.actor)
        code_ = creditcode.validate(code)
        cur = s.execute(select(_E, _C.c.name.label("city_name")).join(_C, _C.c.id == _E.c.city_id)
                        .where(_E.c.code == code_)).one_or_none()
        if cur is None:
            raise NotFound(code=code_)
        if "grade" in changes or "rating_doc" in changes:
            raise Refused(GRADE_REFUSED, rule="grade_correction", code=code_)
        now = {k: getattr(cur, k) for k in _CURRENT}
        diff = master_data.validate_changes(now, changes, campaign(s, ctx).plan, ctx.today)
        if not diff:
            raise InvalidInput("没有需要修改的字段 (nothing to change)")
        publicity = master_data.touches_publicity(now, diff)
        role = ""
        if publicity:
            role = permissions.authorize(s, actor, "ule_publicize", city=cur.city_name, code=code_)
        if not publicity or set(diff) - set(master_data.ULE_KEYS):
            role = permissions.authorize(s, actor, "enterprise_update", city=cur.city_name, code=code_)
        done = s.connection().execute(
            update(_E).where(_E.c.id == cur.id, _E.c.version == cur.version)
            .values(version=cur.version + 1, **diff))
        if done.rowcount != 1:
            raise ConcurrentChange(code=code_)
        changed = {k: [_plain(now[k]), _plain(v)] for k, v in diff.items()}
        Ledger(s, ctx).append(Entry(code=code_, city=cur.city_name, event="enterprise_update", actor=actor.name,
                                    role=role, payload=changed))
        return {"code": code_, "changed": changed, "version": cur.version + 1}

    return audited(ctx, "enterprise_update", _normalised(code), work)


def _normalised(code: str) -> str:
    """The code a refusal is recorded under: normalised when it is a valid code, else as typed."""
    try:
        return creditcode.validate(code)
    except InvalidInput:
        return code


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


ADDED = "可以登记 (valid)"  # an accepted row's outcome: written if every row is


class ImportResult(NamedTuple):
    """What `import_rows` and `import_file` return: `(ok, outcomes)`, as every bulk call does, one
    `BatchOutcome` per row in input order; `ok` means every row was written, else none was."""

    ok: bool
    outcomes: list[BatchOutcome]

    @property
    def imported(self) -> int:
        """How many enterprises were written (0 unless `ok`)."""
        return len(self.outcomes) if self.ok else 0


def import_rows(ctx: Context, rows: Iterable[Mapping[str, object]], *, chunk: int = 2000,
                progress: Callable[[int], None] | None = None) -> ImportResult:
    """Register many enterprises from rows in memory, all or nothing, in one transaction. A row is a
    mapping with the import's keys (`code`, `name`, `city`, `industry`, `grade`, … or the Chinese
    headers `enterprise import` reads); row N (from 1) is reported as line N. Every row is judged as
    `add` judges one and reported; one bad row writes nothing. No row at all, an unknown actor or one
    without the right to import raises (InvalidInput, Refused)."""
    return _import(ctx, enumerate(rows, start=1), "输入", chunk, progress, shape=_row)


def import_file(ctx: Context, path: str | Path, *, chunk: int = 2000,
                progress: Callable[[int], None] | None = None) -> ImportResult:
    """`import_rows` over a CSV or XLSX file (Chinese or English headers), read as it goes; line N
    is the file's line. An unreadable file raises InvalidInput."""
    return _import(ctx, importer.read(path), Path(path).name, chunk, progress)


def _row(raw: object) -> dict[str, str]:
    """A row in memory in the form the file reader yields: known keys, text values, stripped."""
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"应为字典（列名 → 值），收到 {type(raw).__name__} (a mapping expected)")
    out: dict[str, str] = {}
    for key, value in raw.items():
        name = str(key).strip()
        field = importer.HEADERS.get(name) or importer.HEADERS.get(name.lower())
        if field:
            out[field] = "" if value is None else str(value).strip()
    return out


Shape = Callable[[Any], dict[str, str]]


def _import(ctx: Context, rows: Iterable[tuple[int, Any]], source: str, chunk: int,
            progress: Callable[[int], None] | None, *, shape: Shape | None = None) -> ImportResult:
    """The one import: `rows` are (line, row); `shape` turns a row into the reader's form (rows in
    memory), inside the row's own error handling."""
    with refusals_recorded(ctx, "enterprise_import", None, Refused):  # an unknown, deactivated or unauthorised actor
        return _import_rows(ctx, rows, source, chunk=chunk, progress=progress, shape=shape)


def _import_rows(ctx: Context, rows: Iterable[tuple[int, Any]], source: str, *, chunk: int,
                 progress: Callable[[int], None] | None, shape: Shape | None) -> ImportResult:
    outcomes: list[BatchOutcome] = []
    failed = False
    with ctx.uow(ctx.engine) as uow:
        s = uow.session
        actor = lookup(s, ctx.actor)
        role = permissions.authorize(s, actor, "enterprise_import", city=None, code=None)
        cities, seen, ledger = _cities(s), set[str](), Ledger(s, ctx)
        plan = campaign(s, ctx).plan
        batch: list[tuple[int, dict[str, Any]]] = []  # (index in outcomes, clean row)

        def flush() -> None:
            nonlocal failed
            codes = [c["code"] for _, c in batch]
            taken = set(s.execute(select(_E.c.code).where(_E.c.code.in_(codes))).scalars())
            for at, clean in batch:
                if clean["code"] in taken:
                    failed = True
                    outcomes[at] = replace(outcomes[at], ok=False, message=f"{clean['code']} 已登记")
            if not failed and batch:
                good = [c for _, c in batch]
                bulk.insert_dicts(s.connection(), _E, [{**{k: v for k, v in c.items() if k != "city"},
                                                     "version": 1} for c in good])
                ledger.append_many([_entry(c, actor.name, role, "enterprise_add", _public(c)) for c in good])
            if progress:
                progress(len(batch))
            batch.clear()

        for line, raw in rows:
            row: dict[str, str] = {}
            try:
                row = shape(raw) if shape else raw
                clean = validate_row(row, cities, plan, ctx.today)
                permissions.authorize(s, actor, "enterprise_import", city=clean["city"], code=None)
                _authorize_publicity(s, actor, clean)
                if clean["code"] in seen:
                    raise InvalidInput(f"{clean['code']} 在{'输入' if shape else '文件'}中重复")
                seen.add(clean["code"])
                batch.append((len(outcomes), clean))
                outcomes.append(BatchOutcome(line, clean["code"], "enterprise_add", True, ADDED))
            except (InvalidInput, Refused) as exc:
                failed = True
                outcomes.append(BatchOutcome(line, row.get("code", ""), "enterprise_add", False, str(exc)))
                if progress:
                    progress(1)
            if len(batch) >= chunk:
                flush()
        flush()
        if failed:
            uow.rollback()
            return ImportResult(False, outcomes)
        if not outcomes:
            raise InvalidInput(f"{source} 中没有企业数据行 (no rows)")
        uow.commit()
    return ImportResult(True, outcomes)


def _listing(session: Session, ctx: Context) -> Any:
    camp = campaign(session, ctx)
    return (select(_E.c.code, _E.c.name, _C.c.name.label("city"), _E.c.county, _E.c.industry,
                   _E.c.industry_detail, _E.c.grade, _E.c.rating_doc, _E.c.ule, _E.c.ule_ref,
                   _E.c.ule_date, _E.c.livelihood, _E.c.version.label("enterprise_version"),
                   _P.c.state, _P.c.target_grade, _P.c.starting_grade, _P.c.achieved_grade,
                   _P.c.version, _P.c.enrolled_late, _P.c.failures)
            .join(_C, _C.c.id == _E.c.city_id)
            .join(_P, (_P.c.enterprise_id == _E.c.id) & (_P.c.campaign_id == camp.id), isouter=True))


def _record(r: Any) -> EnterpriseRecord:
    d = dict(r._mapping)
    d["livelihood"] = bool(d["livelihood"])
    d["enrolled_late"] = bool(d["enrolled_late"]) if d["enrolled_late"] is not None else None
    return cast(EnterpriseRecord, d)


def show(ctx: Context, code: str) -> EnterpriseRecord:
    code = creditcode.validate(code)
    with UnitOfWork(ctx.engine) as uow:
        r = uow.session.execute(_listing(uow.session, ctx).where(_E.c.code == code)).one_or_none()
        if r is None:
            raise NotFound(code=code)
        return _record(r)


def listing(ctx: Context, *, city: str | None = None, state: str | None = None,
            limit: int | None = None) -> Iterable[EnterpriseRecord]:
    state = _state(state) if state else None
    if limit is not None and limit < 1:
        raise InvalidInput(f"--limit 应为正整数，收到 {limit} (positive number expected)")
    with UnitOfWork(ctx.engine) as uow:
        s = uow.session
        q = _listing(s, ctx)
        if city:
            q = q.where(_C.c.name == resolve_city(city, _cities(s))[0])
        if state:
            q = q.where(_P.c.state == state)
        q = q.order_by(_C.c.id, _E.c.code)
        if limit:
            q = q.limit(limit)
        return [_record(r) for r in s.execute(q)]


def _state(text: str) -> str:
    """A --state filter: a state's name or its Chinese label; anything else is refused with the list."""
    from workflow.domain.states import STATE_ZH, STATES

    raw = text.strip()
    found = raw if raw in STATES else next((s for s in STATES if STATE_ZH[s] == raw), None)
    if found is None:
        choices = "、".join(f"{s}（{STATE_ZH[s]}）" for s in STATES)
        raise InvalidInput(f"未知状态 {text!r}，可选：{choices} (unknown state)")
    return found
