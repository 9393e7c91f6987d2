"""The calendar file, not code, holds the industry vocabulary, the grade scales per industry, the
grade → control-category mapping and the spot-check rounds; `calendar validate` checks them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import Cli
from workflow.domain.plan import default_text


def _calendar(tmp_path: Path, old: str, new: str) -> Path:
    text = default_text()
    assert old in text
    path = tmp_path / "calendar.toml"
    path.write_text(text.replace(old, new, 1), "utf-8")
    return path


def test_the_shipped_calendar_validates_with_its_vocabulary(sqlite_cli: Cli) -> None:
    cli = sqlite_cli
    out = cli("calendar", "validate", str(_calendar(cli.home, "format = 1", "format = 1"))).output
    assert "13 个行业" in out and "2 轮抽查复核" in out


@pytest.mark.parametrize(("old", "new", "says"), [
    ('aliases = ["焦化行业"', 'aliases = ["钢铁行业", "焦化行业"', "同时属于 钢铁 和 焦化"),
    ('[industries."玻璃"]\naliases = ["玻璃行业", "玻璃制造", "平板玻璃", "日用玻璃", "玻璃纤维"]\nscales = ["ABCD"]',
     '[industries."玻璃"]\naliases = ["玻璃行业"]\nscales = ["AB"]', "scales 应为"),
    ('"D" = "严格落实应急减排措施（停产）"\n', "", "缺少等级 D"),
    ("opens = 2024-10-01\ncloses = 2024-12-15", "opens = 2024-12-15\ncloses = 2024-10-01", "晚于"),
])
def test_a_broken_vocabulary_is_one_line_naming_the_fault(sqlite_cli: Cli, old: str, new: str,
                                                           says: str) -> None:
    cli = sqlite_cli
    r = cli("calendar", "validate", str(_calendar(cli.home, old, new)), expect=1)
    assert says in r.output and len(r.output.strip().splitlines()) == 1


def test_calendar_show_lists_scales_categories_and_rounds(cli: Cli) -> None:
    cli("init", "--simulation", now="2024-05-06")
    data = json.loads(cli("calendar", "show", "--json", now="2024-05-06").output)
    assert data["industries"]["化工"]["scales"] == ["ABCD", "引领性"]
    assert data["industries"]["焦化"]["ule"] is True and "焦化行业" in data["industries"]["焦化"]["aliases"]
    assert data["control_categories"]["A"] == "自主采取减排措施"
    assert [r["key"] for r in data["spot_check_rounds"]] == ["august", "autumn_winter"]
    assert re.search(r"秋冬季抽查复核: 2024-10-01 — 2024-12-15", cli("calendar", "show", now="2024-05-06").output)
