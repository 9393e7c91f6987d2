"""The public Python API (`workflow.api`) as a script would use it, on a real (non-simulation)
database: set up, register, advance one (raises) or many (returns outcomes), read and verify."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CODE
from workflow import api
from workflow.domain.creditcode import make


def test_a_script_sets_up_a_campaign_and_advances_through_the_api(tmp_path: Path) -> None:
    ctx = api.open_context(str(tmp_path / "real.db"))
    api.init(ctx)
    api.add_actor(ctx, "省管理员", ("province_admin",), None)
    ctx.actor = "省管理员"
    api.add_actor(ctx, "许昌联络员", ("city_coordinator",), "许昌市")
    ctx.actor = "许昌联络员"
    api.add_enterprise(ctx, {"code": CODE, "name": "许昌恒达耐材有限公司", "city": "许昌市", "industry": "耐材行业",
                             "grade": "C", "rating_doc": "豫环绩效〔2023〕12号"})
    assert api.enterprise(ctx, CODE)["industry"] == "耐材"
    # Real time (2026) is past the 2024 enrolment window: one write raises, a batch reports per row.
    with pytest.raises(api.Refused):
        api.advance(ctx, api.Request(code=CODE, event="enroll", consent="自愿-001", target_grade="B"))
    enroll = api.Request(code=CODE, event="enroll", consent="自愿-001", target_grade="B")
    ok, outcomes = api.advance_batch(ctx, [(2, enroll)])
    assert not ok and outcomes[0].line == 2 and "窗口" in outcomes[0].message
    assert api.status(ctx)["total"] == 0
    with pytest.raises(api.NotFound):  # registered, but nothing in the 2024 campaign yet
        api.history(ctx, CODE)
    assert api.verify(ctx)["ok"] is True
    ctx.engine.dispose()


OTHER = make("91411000MA45C4R01")  # a second 许昌 enterprise
ROW = {"code": CODE, "name": "许昌恒达耐材有限公司", "city": "许昌市", "industry": "耐材", "grade": "C",
       "rating_doc": "豫环绩效〔2023〕12号"}


def _province(db: str) -> api.Context:
    """A real campaign with a province admin, a 许昌 coordinator and two experts, acting as the admin."""
    ctx = api.open_context(db)
    api.init(ctx)
    api.add_actor(ctx, "省管理员", ("province_admin",), None)
    ctx.actor = "省管理员"
    api.add_actor(ctx, "许昌联络员", ("city_coordinator",), "许昌市")
    for name in ("王专家", "李专家"):
        api.add_actor(ctx, name, ("expert",), None)
    return ctx


def test_import_rows_registers_rows_in_memory_all_or_nothing_as_import_file_does(db_url: str,
                                                                              tmp_path: Path) -> None:
    ctx = _province(db_url)
    chinese: dict[str, object] = {"统一社会信用代码": OTHER, "企业名称": "许昌瑞丰铸造有限公司", "所属城市": "许昌",
                                  "行业": "铸造", "现绩效等级": "未评级", "民生保障": None}
    bad: list[Any] = [ROW, {**ROW, "name": "重复"}, {**chinese, "行业": "炼丹"}, "not a row"]
    ok, outcomes = api.import_rows(ctx, bad)
    assert not ok and [(o.line, o.ok) for o in outcomes] == [(1, True), (2, False), (3, False), (4, False)]
    assert "重复" in outcomes[1].message and "炼丹" in outcomes[2].message and "字典" in outcomes[3].message
    assert list(api.enterprises(ctx)) == []
    good: list[Mapping[str, object]] = [ROW, chinese]
    result = api.import_rows(ctx, iter(good))  # any iterable, read once
    assert result.ok and result.imported == 2
    assert [(o.line, o.code, o.event) for o in result.outcomes] == [(1, CODE, "enterprise_add"),
                                                                    (2, OTHER, "enterprise_add")]
    assert api.enterprise(ctx, OTHER)["city"] == "许昌市"
    ok, outcomes = api.import_rows(ctx, [ROW])  # already registered: reported on its row, like a file's
    assert not ok and outcomes[0].message == f"{CODE} 已登记"
    f = tmp_path / "e.csv"
    f.write_text("code,name,city,industry,grade,rating_doc\n"
                 f"{CODE},许昌恒达耐材有限公司,许昌市,耐材,C,豫环绩效〔2023〕12号\n", encoding="utf-8")
    ok, outcomes = api.import_file(ctx, f)  # the same result, lines numbered as in the file
    assert not ok and (outcomes[0].line, outcomes[0].message) == (2, f"{CODE} 已登记")
    with pytest.raises(api.InvalidInput):
        api.import_rows(ctx, [])
    assert api.verify(ctx)["ok"] is True
    ctx.engine.dispose()


def test_assign_many_assigns_in_one_transaction_and_a_refused_row_writes_nothing(db_url: str) -> None:
    ctx = _province(db_url)
    api.import_rows(ctx, [ROW, {**ROW, "code": OTHER, "name": "许昌瑞丰铸造有限公司"}])
    ctx.actor = "许昌联络员"
    api.declare_conflict(api.open_context(db_url, actor="省管理员"), "李专家", OTHER, "曾为该企业编制方案")
    rows = [(1, api.AssignRow(CODE, "王专家")), (2, api.AssignRow(OTHER, "李专家")),
            (3, api.AssignRow(OTHER, "王专家"))]
    before = api.digest(ctx)
    ok, outcomes = api.assign_many(ctx, rows)
    assert not ok and [o.ok for o in outcomes] == [True, False, True] and "利益冲突回避" in outcomes[1].message
    assert api.digest(ctx) == before  # nothing written, not even the accepted rows
    ok, outcomes = api.assign_many(ctx, [rows[0], rows[2], (4, api.AssignRow(CODE, "王专家", remove=True)),
                                         (5, api.AssignRow(CODE, "王专家"))])
    assert ok and [(o.line, o.event, o.ok) for o in outcomes] == [
        (1, "assign_expert", True), (3, "assign_expert", True), (4, "unassign_expert", True),
        (5, "assign_expert", True)]
    assert api.digest(ctx)["entries"] == before["entries"] + 4
    ok, outcomes = api.assign_many(ctx, [(1, api.AssignRow(CODE, "王专家"))])
    assert not ok and "already assigned" in outcomes[0].message
    with pytest.raises(api.Refused):  # the call as a whole: an unknown actor raises
        api.assign_many(api.open_context(db_url, actor="无名氏"), rows[:1])
    assert api.verify(ctx)["ok"] is True
    ctx.engine.dispose()
