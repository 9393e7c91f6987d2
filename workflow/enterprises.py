"""Enterprise master data: validate, add, update, import (all or nothing), list, show."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import Session

from models.db import UnitOfWork
from models.tables import City, Enterprise, Participation

from . import creditcode, grades, importer, permissions
from .actors import lookup
from .campaigns import current
from .context import Context
from .errors import CampaignError, ConcurrentChange, InvalidInput, NotFound, Refused
from .ledger import Entry, Ledger, record_refusal

_E = Enterprise.__table__  # type: ignore[attr-defined]
_P = Participation.__table__  # type: ignore[attr-defined]
_C = City.__table__  # type: ignore[attr-defined]

ULE = {"": "", "not_started": "not_started", "in_progress": "in_progress",
       "completed": "completed", "publicized": "publicized", "未开始": "not_started",
       "改造中": "in_progress", "进行中": "in_progress", "已完成": "completed",
       "完成": "completed", "已公示": "publicized", "完成并公示": "publicized"}
_TRUE = {"1", "true", "yes", "是", "y"}
_FALSE = {"", "0", "false", "no", "否", "n"}
FIELDS = ("name", "county", "industry", "grade", "ule", "livelihood")


def normalise_ule(value: str) -> str:
    key = (value or "").strip()
    if key.lower() in ULE:
        return ULE[key.lower()]
    if key in ULE:
        return ULE[key]
    raise InvalidInput(f"未知超低排放状态 '{value}'，可选：not_started、in_progress、completed、"
                       "publicized（或 未开始、改造中、已完成、已公示）")


def _bool(value: str) -> bool:
    v = (value or "").strip().lower()
    if v in _TRUE or v in _FALSE:
        return v in _TRUE
    raise InvalidInput(f"民生保障应为 是/否，收到 '{value}'")


def resolve_city(name: str, cities: dict[str, int]) -> tuple[str, int]:
    for candidate in (name.strip(), name.strip() + "市"):
        if candidate in cities:
            return candidate, cities[candidate]
    raise InvalidInput(f"未知城市 '{name}'，可选：{'、'.join(cities)} (unknown city)")


def validate_row(row: dict[str, str], cities: dict[str, int]) -> dict[str, Any]:
    """One enterprise row → clean values, or InvalidInput naming what is wrong."""
    code = creditcode.validate(row.get("code", ""))
    name = row.get("name", "").strip()
    if not name:
        raise InvalidInput("企业名称不能为空")
    industry = row.get("industry", "").strip()
    if not industry:
        raise InvalidInput("行业不能为空")
    city, city_id = resolve_city(row.get("city", ""), cities)
    return {"code": code, "name": name, "city": city, "city_id": city_id,
            "county": row.get("county", "").strip(), "industry": industry,
            "grade": grades.normalise(row.get("grade", "")),
            "ule": normalise_ule(row.get("ule", "")),
            "livelihood": _bool(row.get("livelihood", ""))}


def _cities(session: Session) -> dict[str, int]:
    found = {r[0]: int(r[1]) for r in session.execute(select(City.name, City.id))}  # type: ignore[call-overload]
    if not found:
        raise NotFound("尚无城市数据，请先运行 campaign init")
    return found


def _entry(clean: dict[str, Any], actor: str, role: str, event: str, payload: Any) -> Entry:
    return Entry(clean["code"], None, clean["city"], event, None, None, actor, role, "", payload)


def _record_and_raise(ctx: Context, code: str | None, event: str, exc: CampaignError) -> None:
    record_refusal(ctx, actor=ctx.actor, code=code, event=event, reason=str(exc),
                   rule=getattr(exc, "rule", ""))
    raise exc


def add(ctx: Context, row: dict[str, str]) -> dict[str, Any]:
    try:
        with UnitOfWork(ctx.engine) as uow:
            s = uow.session
            actor = lookup(s, ctx.actor)
            clean = validate_row(row, _cities(s))
            role = permissions.authorize(s, actor, "enterprise_add", city=clean["city"], code=clean["code"])
            if s.execute(select(_E.c.id).where(_E.c.code == clean["code"])).first():
                raise InvalidInput(f"企业 {clean['code']} 已登记，如需修改请用 campaign enterprise update")
            s.connection().execute(insert(_E).values(
                version=1, **{k: v for k, v in clean.items() if k != "city"}))
            Ledger(s, ctx).append(_entry(clean, actor.name, role, "enterprise_add", _public(clean)))
            uow.commit()
            return _public(clean)
    except CampaignError as exc:
        _record_and_raise(ctx, row.get("code"), "enterprise_add", exc)
        raise


def _public(clean: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in clean.items() if k != "city_id"}


def update_master(ctx: Context, code: str, changes: dict[str, str]) -> dict[str, Any]:
    try:
        with UnitOfWork(ctx.engine) as uow:
            s = uow.session
            actor = lookup(s, ctx.actor)
            code = creditcode.validate(code)
            cur = s.execute(select(_E, _C.c.name.label("city_name")).join(_C, _C.c.id == _E.c.city_id)
                            .where(_E.c.code == code)).one_or_none()
            if cur is None:
                raise NotFound(f"企业 {code} 未登记 (unknown enterprise)")
            role = permissions.authorize(s, actor, "enterprise_update", city=cur.city_name, code=code)
            clean = validate_row({**{k: str(getattr(cur, k)) for k in ("name", "county", "industry",
                                  "grade", "ule")}, "code": code, "city": cur.city_name,
                                  "livelihood": "1" if cur.livelihood else "0", **changes}, _cities(s))
            diff = {k: [getattr(cur, k), clean[k]] for k in FIELDS if clean[k] != getattr(cur, k)}
            if not diff:
                raise InvalidInput("没有需要修改的字段 (nothing to change)")
            done = s.connection().execute(
                update(_E).where(_E.c.id == cur.id, _E.c.version == cur.version)
                .values(version=cur.version + 1, **{k: v[1] for k, v in diff.items()}))
            if done.rowcount != 1:
                raise ConcurrentChange(f"企业 {code} 已被他人修改，请重试", rule="concurrency")
            Ledger(s, ctx).append(_entry(clean, actor.name, role, "enterprise_update", diff))
            uow.commit()
            return {"code": code, "changed": diff, "version": cur.version + 1}
    except CampaignError as exc:
        _record_and_raise(ctx, code, "enterprise_update", exc)
        raise


@dataclass
class ImportResult:
    imported: int
    errors: list[tuple[int, str]]
    error_count: int


def import_file(ctx: Context, path: str | Path, *, chunk: int = 2000,
                progress: Callable[[int], None] | None = None,
                max_errors: int = 200) -> ImportResult:
    """All or nothing: rows are validated and written in chunks in one transaction;
    a single bad row rolls everything back and every bad row is reported."""
    try:
        return _import_file(ctx, path, chunk=chunk, progress=progress, max_errors=max_errors)
    except Refused as exc:  # an unknown, deactivated or unauthorised actor: recorded
        _record_and_raise(ctx, None, "enterprise_import", exc)
        raise


def _import_file(ctx: Context, path: str | Path, *, chunk: int,
                 progress: Callable[[int], None] | None, max_errors: int) -> ImportResult:
    rows = importer.read(path)
    errors: list[tuple[int, str]] = []
    error_count = imported = 0
    with UnitOfWork(ctx.engine) as uow:
        s = uow.session
        actor = lookup(s, ctx.actor)
        role = permissions.authorize(s, actor, "enterprise_import", city=None, code=None)
        cities, seen, ledger = _cities(s), set[str](), Ledger(s, ctx)
        batch: list[tuple[int, dict[str, Any]]] = []

        def flush() -> None:
            nonlocal imported, error_count
            codes = [c["code"] for _, c in batch]
            taken = set(s.execute(select(_E.c.code).where(_E.c.code.in_(codes))).scalars())
            good = []
            for line, clean in batch:
                if clean["code"] in taken:
                    error_count += 1
                    if len(errors) < max_errors:
                        errors.append((line, f"{clean['code']} 已登记"))
                else:
                    good.append(clean)
            if not error_count and good:
                s.connection().execute(insert(_E), [{**{k: v for k, v in c.items() if k != "city"},
                                                     "version": 1} for c in good])
                ledger.append_many([_entry(c, actor.name, role, "enterprise_add", _public(c))
                                    for c in good])
                imported += len(good)
            if progress:
                progress(len(batch))
            batch.clear()

        for line, row in rows:
            try:
                clean = validate_row(row, cities)
                permissions.authorize(s, actor, "enterprise_import", city=clean["city"], code=None)
                if clean["code"] in seen:
                    raise InvalidInput(f"{clean['code']} 在文件中重复")
                seen.add(clean["code"])
                batch.append((line, clean))
            except (InvalidInput, Refused) as exc:
                error_count += 1
                if len(errors) < max_errors:
                    errors.append((line, str(exc)))
                if progress:
                    progress(1)
            if len(batch) >= chunk:
                flush()
        flush()
        if error_count:
            uow.rollback()
            return ImportResult(0, errors, error_count)
        if imported == 0:
            raise InvalidInput(f"{Path(path).name} 中没有企业数据行 (no rows)")
        uow.commit()
    return ImportResult(imported, [], 0)


def _listing(session: Session, ctx: Context) -> Any:
    camp = current(session, ctx)
    return (select(_E.c.code, _E.c.name, _C.c.name.label("city"), _E.c.county, _E.c.industry,
                   _E.c.grade, _E.c.ule, _E.c.livelihood, _E.c.version.label("enterprise_version"),
                   _P.c.state, _P.c.target_grade, _P.c.starting_grade, _P.c.achieved_grade,
                   _P.c.version, _P.c.enrolled_late, _P.c.failures)
            .join(_C, _C.c.id == _E.c.city_id)
            .join(_P, (_P.c.enterprise_id == _E.c.id) & (_P.c.campaign_id == camp.id), isouter=True))


def _record(r: Any) -> dict[str, Any]:
    d = dict(r._mapping)
    d["livelihood"] = bool(d["livelihood"])
    d["enrolled_late"] = bool(d["enrolled_late"]) if d["enrolled_late"] is not None else None
    return d


def show(ctx: Context, code: str) -> dict[str, Any]:
    code = creditcode.validate(code)
    with UnitOfWork(ctx.engine) as uow:
        r = uow.session.execute(_listing(uow.session, ctx).where(_E.c.code == code)).one_or_none()
        if r is None:
            raise NotFound(f"企业 {code} 未登记 (unknown enterprise)")
        return _record(r)


def listing(ctx: Context, *, city: str | None = None, state: str | None = None,
            limit: int | None = None) -> Iterable[dict[str, Any]]:
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
