"""Enterprise import and batch events: validated, all or nothing, every bad row named."""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import Workbook

from tests.conftest import CODE, DOC, Cli, bootstrap
from tests.helpers.spreadsheets import HEAD_ZH, write_csv
from workflow.domain.creditcode import make


def codes(n: int) -> list[str]:
    return [make(f"9141100{i:010d}") for i in range(n)]


def count(cli: Cli) -> int:
    return len(json.loads(cli("enterprise", "list", "--json", now="2024-05-10").stdout))


def test_a_chinese_headed_csv_imports_every_row(cli: Cli, tmp_path: Path) -> None:
    bootstrap(cli)
    rows = [[c, f"许昌企业{i}", "许昌市", "长葛市", "铸造", "C", "", DOC] for i, c in enumerate(codes(30))]
    f = write_csv(tmp_path / "list.csv", HEAD_ZH, rows)
    r = cli("enterprise", "import", str(f), now="2024-05-10", actor="许昌联络员")
    assert "30" in r.stdout
    assert count(cli) == 30
    cli("audit", "verify", now="2024-05-10")


def test_one_bad_row_imports_nothing_and_every_bad_row_is_listed(cli: Cli, tmp_path: Path) -> None:
    bootstrap(cli)
    good = codes(5)
    rows = [[c, f"企业{i}", "许昌市", "", "铸造", "C", "", DOC] for i, c in enumerate(good)]
    rows.insert(2, ["91410100MA45C2R1XA", "坏代码", "许昌市", "", "铸造", "C", "", DOC])   # line 4
    rows.append([make("91411000MA0000001"), "坏城市", "火星市", "", "铸造", "C", "", DOC])   # line 8
    rows.append([good[0], "重复", "许昌市", "", "铸造", "C", "", DOC])                       # line 9
    f = write_csv(tmp_path / "bad.csv", HEAD_ZH, rows)
    r = cli("enterprise", "import", str(f), now="2024-05-10", actor="许昌联络员", expect=1)
    assert "第 4 行" in r.stderr and "校验位" in r.stderr
    assert "第 8 行" in r.stderr and "火星市" in r.stderr
    assert "第 9 行" in r.stderr and "重复" in r.stderr
    assert "Traceback" not in r.stderr
    assert count(cli) == 0


def test_an_xlsx_with_english_headers_imports(cli: Cli, tmp_path: Path) -> None:
    bootstrap(cli)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["code", "name", "city", "county", "industry", "grade", "ule", "rating_doc"])
    for i, c in enumerate(codes(3)):
        ws.append([c, f"Steel {i}", "安阳", "林州市", "钢铁", "B", "completed", DOC])
    wb.save(tmp_path / "list.xlsx")
    cli("enterprise", "import", str(tmp_path / "list.xlsx"), now="2024-05-10", actor="省管理员")
    shown = json.loads(cli("enterprise", "show", codes(3)[1], "--json", now="2024-05-10").stdout)
    assert shown["city"] == "安阳市" and shown["ule"] == "completed"


def test_a_malformed_spreadsheet_is_one_clear_line(cli: Cli, tmp_path: Path) -> None:
    bootstrap(cli)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    r = cli("enterprise", "import", str(broken), now="2024-05-10", actor="省管理员", expect=1)
    assert "XLSX" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = cli("enterprise", "import", str(write_csv(tmp_path / "x.csv", ["foo"], [["1"]])),
            now="2024-05-10", actor="省管理员", expect=1)
    assert "缺少列" in r.stderr


def test_a_batch_applies_in_order_and_reports_each_row(campaign: Cli, tmp_path: Path) -> None:
    rows = [[CODE, "enroll", "", "B", "自愿-9", "", ""],
            [CODE, "start_assistance", "", "", "", "", ""],
            [CODE, "record_pre_assessment", "", "", "", "", "扬尘"]]
    f = write_csv(tmp_path / "events.csv",
                  ["code", "event", "reason", "target_grade", "consent", "month", "data.findings"], rows)
    # one actor for all three rows: a 许昌 coordinator who is also the enterprise's assigned expert
    campaign("actor", "add", "许昌双岗", "--role", "city_coordinator", "--role", "expert", "--city", "许昌市",
             now="2024-06-03", actor="省管理员")
    campaign("assign", CODE, "--expert", "许昌双岗", now="2024-06-03", actor="省管理员")
    r = campaign("advance", "--file", str(f), "--json", now="2024-06-03", actor="许昌双岗")
    out = json.loads(r.stdout)
    assert out["ok"] and [row["ok"] for row in out["rows"]] == [True, True, True]
    shown = json.loads(campaign("enterprise", "show", CODE, "--json", now="2024-06-03").stdout)
    assert shown["state"] == "assistance"


def test_a_batch_with_one_refused_row_writes_nothing(campaign: Cli, tmp_path: Path) -> None:
    rows = [[CODE, "enroll", "", "B", "自愿-9"], [CODE, "begin_tracking", "", "", ""]]
    f = write_csv(tmp_path / "events.csv", ["code", "event", "reason", "target_grade", "consent"], rows)
    r = campaign("advance", "--file", str(f), now="2024-06-20", actor="省管理员", expect=1)
    assert "第 3 行" in r.stderr and "begin_tracking" in r.stderr
    shown = json.loads(campaign("enterprise", "show", CODE, "--json", now="2024-06-20").stdout)
    assert shown["state"] is None
