"""Where the campaign stands: targets, funnel, overdue matrix and the dashboard page."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from tests.conftest import Cli
from tests.helpers.progress import X1, X3, build

NOW = "2024-09-20"


def width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def targets(cli: Cli, *args: str) -> dict[str, Any]:
    return json.loads(cli("report", "targets", *args, "--json", now=NOW).stdout)


def test_targets_count_certified_upgrades_and_hold_the_province_to_600(cli: Cli, tmp_path: Path) -> None:
    build(cli)
    r = targets(cli)
    assert r["as_of"] == NOW and len(r["cities"]) == 19
    xu = next(c for c in r["cities"] if c["city"] == "许昌市")
    assert (xu["target"], xu["achieved"], xu["in_pipeline"], xu["gap"]) == (35, 1, 2, 34)
    assert xu["by_state"]["certified"] == 2 and xu["by_state"]["withdrawn"] == 1
    assert xu["by_state"]["tracking"] == 1 and xu["by_state"]["cultivation"] == 1
    zz = next(c for c in r["cities"] if c["city"] == "郑州市")
    assert (zz["target"], zz["achieved"], zz["in_pipeline"]) == (60, 2, 1)
    p = r["province"]
    assert (p["target"], p["achieved"], p["in_pipeline"], p["gap"], p["city_targets"]) == (600, 3, 3, 597, 630)
    assert [c["city"] for c in targets(cli, "--city", "许昌")["cities"]] == ["许昌市"]
    text = cli("report", "targets", now=NOW).stdout
    assert "许昌市" in text and "全省" in text and "600" in text
    assert max(width(line) for line in text.splitlines()) <= 80
    out = tmp_path / "targets.xlsx"
    cli("report", "targets", "--xlsx", str(out), now=NOW)
    ws = load_workbook(out).worksheets[0]
    assert ws["A2"].value == "2024年创A晋B行动目标完成情况"
    row = next(r for r in ws.iter_rows(min_row=5, values_only=True) if r[1] == "许昌市")
    assert row[2:5] == (35, 1, "2.9%")  # the same percentages as the terminal and the page
    r = cli("report", "targets", "--xlsx", str(tmp_path / "none" / "t.xlsx"), now=NOW, expect=1)
    assert "--xlsx" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_the_funnel_shows_stages_cities_and_grade_transitions(cli: Cli) -> None:
    build(cli)
    r = json.loads(cli("report", "funnel", "--json", now=NOW).stdout)
    stages = {s["state"]: s for s in r["stages"]}
    assert stages["cultivation"]["reached"] == 7 and stages["certified"]["count"] == 4
    assert stages["acceptance"] == {"state": "acceptance", "zh": "验收", "count": 1, "reached": 5}
    assert r["exits"]["withdrawn"] == 1 and r["total"] == 8
    moves = {(m["from"], m["to"]): (m["count"], m["counted"]) for m in r["transitions"]}
    assert moves == {("C", "B"): (1, True), ("B-", "B"): (1, False), ("未评级", "A"): (1, True),
                     ("非引领性", "引领性"): (1, True)}
    one = json.loads(cli("report", "funnel", "--city", "郑州", "--json", now=NOW).stdout)
    assert [c["city"] for c in one["by_city"]] == ["郑州市"] and one["total"] == 3
    text = cli("report", "funnel", now=NOW).stdout
    assert "未评级" in text and "引领性" in text and max(width(x) for x in text.splitlines()) <= 80


def test_overdue_lists_cities_by_deliverable_and_enterprises_missing_evaluations(cli: Cli) -> None:
    build(cli)
    r = json.loads(cli("report", "overdue", "--json", now=NOW).stdout)
    kinds = [d["kind"] for d in r["deliverables"]]
    assert {"attachment1", "attachment2", "attachment3", "attachment4", "attachment5"} <= set(kinds)
    assert len(r["matrix"]) == 19
    missing = {e["code"]: e["detail"] for e in r["enterprises"] if e["issue"] == "missing_evaluation"}
    assert missing[X3] == "2024-06、2024-08"  # in tracking since 06-17, evaluated for July only
    assert missing[X1] == "2024-06"  # went on to acceptance in July
    xu = next(x for x in r["matrix"] if x["city"] == "许昌市")
    assert xu["cells"]["attachment1"] == {"overdue": 1}  # due 05-31, nothing submitted
    assert xu["cells"]["attachment4"] == {"overdue": 3, "pending": 3}  # June–August late; Sep–Nov to come
    assert xu["cells"]["attachment5"] == {"overdue": 1, "pending": 1}
    assert r["totals"]["overdue"] > 0 and "requests" in kinds
    text = cli("report", "overdue", now=NOW).stdout
    assert "许昌市" in text and "附件4" in text
    assert max(width(x) for x in text.splitlines()) <= 80
