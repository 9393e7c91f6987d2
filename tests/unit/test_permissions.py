"""The permission matrix as data: complete, with a default for actions not listed (no database)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from workflow.domain.states import EVENTS
from workflow.errors import Refused
from workflow.services.actors import SYSTEM, ActorRecord
from workflow.services.permissions import MATRIX, authorize, matrix

NO_DB: Any = None  # these checks never reach the database
XU_COORD = ActorRecord("许昌联络员", ("city_coordinator",), "许昌市")
ADMIN = ActorRecord("省管理员", ("province_admin",), None)
EXPERT = ActorRecord("王专家", ("expert",), None)


def test_every_lifecycle_event_and_every_action_in_the_code_is_in_the_matrix() -> None:
    used = set()
    for path in (Path(__file__).parents[2] / "workflow").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'authorize\(\s*\w+,\s*\w+,\s*"(\w+)"', text))
        used |= set(re.findall(r'authorize_role\(\s*\w+,\s*"(\w+)"', text))
    assert used, "the scan found no authorize calls"
    assert set(EVENTS) | used <= set(MATRIX)


def test_an_action_missing_from_the_matrix_falls_back_to_the_city_coordinator_and_the_admin() -> None:
    assert authorize(NO_DB, XU_COORD, "something_new", city="许昌市", code=None) == "city_coordinator"
    assert authorize(NO_DB, ADMIN, "something_new", city="郑州市", code=None) == "province_admin"
    with pytest.raises(Refused) as exc:
        authorize(NO_DB, XU_COORD, "something_new", city="郑州市", code=None)
    assert exc.value.rule == "城市范围"
    with pytest.raises(Refused) as exc:
        authorize(NO_DB, EXPERT, "something_new", city="许昌市", code=None)
    assert exc.value.rule == "权限"
    assert matrix()[-1]["note"] == "默认规则 (default)"


def test_the_system_actor_may_close_participations_and_nothing_else() -> None:
    assert authorize(NO_DB, SYSTEM, "close", city="许昌市", code="91410100MA45C2R1XL") == "system"
    with pytest.raises(Refused) as exc:
        authorize(NO_DB, SYSTEM, "certify", city="许昌市", code=None)
    assert exc.value.rule == "权限" and str(exc.value).startswith("权限：")


def test_a_city_role_may_not_act_on_province_level_matters_except_row_checked_imports() -> None:
    assert authorize(NO_DB, XU_COORD, "enterprise_import", city=None, code=None) == "city_coordinator"
    with pytest.raises(Refused) as exc:
        authorize(NO_DB, XU_COORD, "contact_add", city=None, code=None)
    assert exc.value.rule == "城市范围"
