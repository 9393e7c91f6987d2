"""The public Python API (`workflow.api`) as a script would use it, on a real (non-simulation)
database: set up, register, advance one (raises) or many (returns outcomes), read and verify."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CODE
from workflow import api


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
