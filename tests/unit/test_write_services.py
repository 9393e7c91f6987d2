"""Write services without the CLI: every write runs in the unit of work the context supplies
(`Context.uow`), commits only when it succeeds, and a refusal is recorded outside the chain and
re-raised; a refusal that cannot be recorded is logged, never swallowed."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import FrozenInstanceError, replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from models.db import UnitOfWork, make_engine
from models.tables import AuditEntry, Enterprise, Refusal
from workflow.clock import FixedClock, parse_instant
from workflow.context import Context
from workflow.errors import ConcurrentChange, IntegrityFailure, InvalidInput, NotFound, Refused
from workflow.services import actors, enterprises, setup
from workflow.store.ledger import Entry, record_refusal

CODE = "91410100MA45C2R1XL"  # passes GB 32100
ROW = {"code": CODE, "name": "许昌恒达耐材有限公司", "city": "许昌市", "industry": "耐材", "grade": "C",
       "rating_doc": "豫环文1号"}


class Unit(UnitOfWork):
    """A real unit of work that remembers whether it committed; `broken` ones fail to commit."""

    def __init__(self, engine: Engine, *, broken: bool = False) -> None:
        super().__init__(engine)
        self.broken = broken
        self.committed = False

    def commit(self) -> None:
        if self.broken:
            raise RuntimeError("disk I/O error")
        super().commit()
        self.committed = True


class Units:
    """The unit-of-work factory a test puts on the context: it hands out `Unit`s and keeps them;
    from the `broken_from`-th unit on (counting from 1) every commit fails."""

    def __init__(self, broken_from: int | None = None) -> None:
        self.made: list[Unit] = []
        self.broken_from = broken_from

    def __call__(self, engine: Engine) -> UnitOfWork:
        n = len(self.made) + 1
        unit = Unit(engine, broken=self.broken_from is not None and n >= self.broken_from)
        self.made.append(unit)
        return unit


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Context]:
    """An initialised SQLite database with one province admin, and a context acting as that admin."""
    db = tmp_path / "campaign.db"
    engine = make_engine(str(db))
    first = Context(engine=engine, clock=FixedClock(parse_instant("2024-05-06")), home=tmp_path)
    setup.init(first, simulation_db=True)
    actors.add(first, "省管理员", ("province_admin",), None)
    yield replace(first, actor="省管理员")
    engine.dispose()


def count(engine: Engine, model: type) -> int:
    with UnitOfWork(engine) as uow:
        return int(uow.session.execute(select(func.count()).select_from(model)).scalar_one())


def refusals(engine: Engine) -> list[tuple[str, str | None, str, str, str]]:
    with UnitOfWork(engine) as uow:
        return [(r.actor, r.code, r.event, r.rule, r.reason)
                for r in uow.session.execute(select(Refusal).order_by(Refusal.id)).scalars()]  # type: ignore[arg-type]


def test_a_write_runs_in_the_unit_of_work_the_context_supplies_and_commits_it(ctx: Context) -> None:
    units = Units()
    added = enterprises.add(replace(ctx, uow=units), ROW)
    assert added["code"] == CODE
    assert [u.committed for u in units.made] == [True]
    assert count(ctx.engine, Enterprise) == 1
    assert refusals(ctx.engine) == []


def test_a_refused_write_is_rolled_back_recorded_in_a_unit_of_its_own_and_raised(ctx: Context) -> None:
    units = Units()
    entries = count(ctx.engine, AuditEntry)
    with pytest.raises(Refused, match="未登记") as refused:
        enterprises.add(replace(ctx, actor="无名氏", uow=units), ROW)
    assert refused.value.rule == "actor"
    assert [u.committed for u in units.made] == [False, True]  # the write rolled back; the refusal kept
    assert count(ctx.engine, Enterprise) == 0
    assert count(ctx.engine, AuditEntry) == entries  # outside the chain
    assert refusals(ctx.engine) == [("无名氏", CODE, "enterprise_add", "actor", str(refused.value))]


def test_invalid_input_to_an_actor_write_is_recorded_as_a_refusal_too(ctx: Context) -> None:
    with pytest.raises(InvalidInput, match="未知角色"):
        actors.add(ctx, "许昌联络员", ("mayor",), "许昌市")
    assert [(r[2], r[0]) for r in refusals(ctx.engine)] == [("actor_add", "省管理员")]


def test_a_refusal_that_cannot_be_recorded_is_logged_and_the_refusal_still_raised(
        ctx: Context, caplog: pytest.LogCaptureFixture) -> None:
    units = Units(broken_from=2)  # the write's own unit works; the refusal's cannot commit
    with caplog.at_level(logging.WARNING, logger="campaign.audit"), pytest.raises(Refused, match="未登记"):
        actors.add(replace(ctx, actor="无名氏", uow=units), "许昌联络员", ("city_coordinator",), "许昌市")
    assert refusals(ctx.engine) == []
    [logged] = [r for r in caplog.records if r.name == "campaign.audit"]
    assert logged.levelno == logging.WARNING
    assert "actor_add" in logged.getMessage() and "disk I/O error" in logged.getMessage()
    assert "无名氏" in logged.getMessage()  # the refusal itself is in the log line


def test_a_refusal_is_not_recorded_into_a_database_file_that_does_not_exist(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    missing = tmp_path / "nowhere.db"
    ctx = Context(engine=make_engine(str(missing)), clock=FixedClock(parse_instant("2024-05-06")))
    with caplog.at_level(logging.WARNING, logger="campaign.audit"):
        record_refusal(ctx, actor="省管理员", code=None, event="actor_add", reason="未知角色")
    assert not missing.exists()
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_an_audit_entry_is_named_field_by_field_and_frozen() -> None:
    entry = Entry(event="actor_add", actor="省管理员", role="province_admin", city="许昌市")
    assert (entry.code, entry.campaign_year, entry.from_state, entry.reason, entry.payload) == (
        None, None, None, "", None)
    with pytest.raises(TypeError):
        Entry(CODE, 2024, "许昌市", "enroll", None, None, "省管理员", "province_admin")  # type: ignore[misc, arg-type]
    with pytest.raises(FrozenInstanceError):
        entry.actor = "别人"  # type: ignore[misc]


def test_errors_carry_the_ids_they_are_about_and_build_their_message_from_them() -> None:
    missing = NotFound(code=CODE)
    assert (missing.code, str(missing)) == (CODE, f"企业 {CODE} 未登记 (unknown enterprise)")
    assert str(NotFound(actor="王专家")) == "操作人 '王专家' 未登记 (unknown actor)"
    changed = ConcurrentChange(code=CODE)
    assert (changed.code, changed.rule, str(changed)) == (CODE, "concurrency", f"企业 {CODE} 已被他人修改，请重试")
    broken = IntegrityFailure("审计链断裂", seq=7, code=CODE)
    assert (broken.seq, broken.code, broken.exit_code) == (7, CODE, 3)
    assert isinstance(missing, LookupError)
