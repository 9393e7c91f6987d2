"""What the certification phase produces (认定应用): the 正面清单, each city's revised emission list
and its deliverable, and one reading of 附件4's "XX" (the city) everywhere."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from tests.conftest import Cli
from tests.helpers.audit import audit_entries
from tests.helpers.progress import X1, X2, X3, X4, X5, Z1, Z2, Z3, build
from tests.helpers.scheduling import tick
from tests.helpers.spreadsheets import body, header, sheet
from workflow.domain.creditcode import make
from workflow.domain.plan import default_text, parse

PRE = make("91410100000000099")  # 郑州, rated A before the campaign
LIVE = make("91411000000000098")  # 许昌, 民生保障类, never enrolled
PRE_DOC = "豫环文〔2023〕45号"
CATEGORY = parse(default_text()).control_categories
POSITIVE_TITLE = "重污染天气重点行业绩效分级正面清单（A级及绩效引领性企业）"


def _json(cli: Cli, *args: str, now: str, actor: str | None = None) -> Any:
    return json.loads(cli(*args, "--json", now=now, actor=actor).stdout)


def _add(cli: Cli, code: str, name: str, city: str, industry: str, grade: str, doc: str, *extra: str) -> None:
    cli("enterprise", "add", "--code", code, "--name", name, "--city", city, "--industry", industry,
        "--grade", grade, "--county", "中牟县" if city == "郑州市" else "长葛市", "--rating-doc", doc, *extra,
        now="2024-05-10", actor="省管理员")


def _province(cli: Cli) -> None:
    build(cli)
    _add(cli, PRE, "郑州宏达玻璃有限公司", "郑州市", "玻璃", "A", PRE_DOC)
    _add(cli, LIVE, "许昌市热力有限公司", "许昌市", "其他", "C", "豫环文〔2022〕7号", "--livelihood",
         "--industry-detail", "热力生产和供应")


def _audit_seq(cli: Cli, code: str, event: str) -> int:
    history = _json(cli, "history", code, now="2024-09-20")
    (seq,) = [h["seq"] for h in history if h["event"] == event]
    return int(seq)


def test_the_positive_list_names_every_a_and_leading_enterprise_with_date_and_document(cli: Cli,
                                                                                      tmp_path: Path) -> None:
    _province(cli)
    out = tmp_path / "正面清单.xlsx"
    r = cli("export", "positive-list", "--out", str(out), now="2024-09-20")
    assert f"河南省{POSITIVE_TITLE}" in r.stdout
    ws = sheet(out)
    assert ws["A1"].value == "正面清单" and ws["A2"].value == f"河南省{POSITIVE_TITLE}"
    assert header(ws) == ["序号", "城市", "区县", "企业名称", "统一社会信用代码", "行业", "行业细分", "绩效等级",
                          "评定日期", "评级文件（文号）", "评定方式", "备注"]
    rows = {row[4]: row for row in body(ws)}
    assert set(rows) == {Z1, Z2, PRE}  # X1 and X2 were certified B: not on the list
    assert rows[Z1][1:8] == ["郑州市", None, "郑州中原铸造有限公司", Z1, "铸造", None, "A"]
    assert rows[Z1][8:11] == ["2024-09-12", f"河南省生态环境厅认定（审计#{_audit_seq(cli, Z1, 'certify')}）",
                              "本次行动认定"]
    assert (rows[Z2][5], rows[Z2][7], rows[Z2][10]) == ("化工", "引领性", "本次行动认定")
    assert (rows[PRE][7], rows[PRE][8], rows[PRE][10]) == ("A", None, "行动前评定")
    assert rows[PRE][9] == PRE_DOC  # the enterprise's 评级文件文号
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$4:$4"
    assert ws["B5"].border.left.style == "thin"
    listed = _json(cli, "export", "positive-list", "--city", "郑州", "--out", str(tmp_path / "zz.csv"),
                   now="2024-09-20")
    assert listed["title"] == f"郑州市{POSITIVE_TITLE}"
    assert {x["code"]: (x["grade"], x["source"], x["graded_on"]) for x in listed["records"]} == {
        Z1: ("A", "certified", "2024-09-12"), Z2: ("引领性", "certified", "2024-09-12"),
        PRE: ("A", "before", None)}
    with (tmp_path / "zz.csv").open(encoding="utf-8-sig") as f:
        assert next(csv.reader(f))[:5] == ["序号", "城市", "区县", "企业名称", "统一社会信用代码"]
    assert _json(cli, "export", "positive-list", "--city", "许昌", "--out", str(out), now="2024-09-20")["rows"] == 0


def test_the_emission_list_has_every_enterprise_of_the_city_with_the_calendar_category(cli: Cli,
                                                                                      tmp_path: Path) -> None:
    _province(cli)
    out = tmp_path / "许昌.xlsx"
    r = cli("export", "emission-list", "--city", "许昌", "--out", str(out), now="2024-09-10")
    assert "许昌市重污染天气重点行业应急减排清单（2024年修订完善）" in r.stdout
    ws = sheet(out)
    assert ws["A1"].value == "修订完善的应急减排清单"
    assert header(ws) == ["序号", "企业名称", "统一社会信用代码", "区县", "行业", "行业细分", "纳入时等级",
                          "现绩效等级", "认定情况", "民生保障类", "差异化管控类别", "备注"]
    rows = {row[2]: row for row in body(ws)}
    assert set(rows) == {X1, X2, X3, X4, X5, LIVE}  # every 许昌 enterprise, enrolled or not
    expected = {X1: ("C", "B", "已认定 2024-09-12"), X2: ("B-", "B", "已认定 2024-09-12"),
                X3: ("C", "C", "培育中（跟踪评估）"), X4: ("D", "D", "已退出培育"),
                X5: ("C", "C", "培育中（培育）"), LIVE: ("C", "C", "未纳入培育")}
    for code, (start, now, status) in expected.items():
        assert rows[code][6:9] == [start, now, status], code
        assert rows[code][10] == CATEGORY[now]
    assert (rows[LIVE][4], rows[LIVE][5], rows[LIVE][9], rows[LIVE][11]) == (
        "其他", "热力生产和供应", "是", "民生保障类企业")
    assert [row[7] for row in body(ws)][:2] == ["B", "B"]  # grouped by grade, best first
    texts = [c.value for row in ws.iter_rows(min_row=6) for c in row if isinstance(c.value, str)]
    assert "填报单位（盖章）：" in texts
    # 郑州: Z3 passes acceptance and waits for certification: listed at its current grade C
    cli("advance", Z3, "pass_acceptance", now="2024-09-10", actor="郑州评审")
    zz = _json(cli, "export", "emission-list", "--city", "郑州市", "--out", str(tmp_path / "zz.csv"),
               now="2024-09-10")
    z3 = next(x for x in zz["records"] if x["code"] == Z3)
    assert (z3["starting_grade"], z3["grade"], z3["status"], z3["accepted_grade"]) == ("C", "C", "accepted", "B")
    assert z3["status_zh"] == "B 验收通过待认定"
    assert z3["category"] == CATEGORY["C"] and "认定前按现等级 C 管控" in z3["note"]
    by_code = {x["code"]: x for x in zz["records"]}
    assert by_code[Z2]["category"] == CATEGORY["引领性"] and by_code[PRE]["starting_grade"] == "A"


def test_a_bad_out_or_scope_is_one_line_and_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    _province(cli)
    cases = [(("positive-list", "--out", str(tmp_path / "x.pdf")), ".xlsx"),
             (("emission-list", "--city", "火星", "--out", str(tmp_path / "x.xlsx")), "火星"),
             (("emission-list", "--out", str(tmp_path / "x.xlsx")), "--city"),
             (("positive-list", "--city", "火星", "--out", str(tmp_path / "x.csv")), "火星"),
             (("positive-list", "--period", "2024-09", "--out", str(tmp_path / "x.xlsx")), "--period"),
             (("positive-list", "--out", str(tmp_path / "nowhere" / "x.xlsx")), "不存在")]
    for args, word in cases:
        r = cli("export", *args, now="2024-09-20", expect=1)
        assert word in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not list(tmp_path.glob("x.*"))


def test_the_emission_list_deliverable_carries_the_list_generated_from_the_data(cli: Cli) -> None:
    _province(cli)
    r = _json(cli, "deliverable", "submit", "--city", "许昌市", "--kind", "emission_list", "--generate",
              now="2024-09-10", actor="许昌联络员")
    assert (r["generated"], r["late"], r["file"]) == (True, False, "许昌市应急减排清单.xlsx")
    stored = cli.home / r["stored_path"]
    assert r["stored_path"].startswith("documents/2024/许昌市/emission_list-2024-09-")
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == r["sha256"]
    ws = load_workbook(stored).worksheets[0]
    assert ws["A2"].value == "许昌市重污染天气重点行业应急减排清单（2024年修订完善）"
    assert {row[2] for row in body(ws)} == {X1, X2, X3, X4, X5, LIVE}
    (entry,) = audit_entries(cli, "submit_deliverable")
    assert json.loads(entry["payload"])["sha256"] == r["sha256"]
    assert json.loads(entry["payload"])["generated"] is True
    rows = _json(cli, "deadlines", "--city", "许昌市", now="2024-09-11")
    (el,) = [x for x in rows if x["kind"] == "emission_list"]
    assert (el["status"], el["submitted_on"]) == ("submitted", "2024-09-10")
    assert "修订完善的应急减排清单" in cli("deadlines", "--city", "许昌市", now="2024-09-11").stdout
    out = cli("deliverable", "submit", "--city", "许昌市", "--kind", "emission_list", "--generate",
              now="2024-09-12", actor="许昌联络员").stdout
    assert "已按当前数据生成" in out and "sha256" in out
    (cli.home / "list.xlsx").write_bytes(b"x")
    for args, word in ((("--kind", "attachment1", "--generate"), "--generate"),
                       (("--kind", "emission_list", "--generate", "--file", "list.xlsx"), "--file")):
        e = cli("deliverable", "submit", "--city", "许昌市", *args, now="2024-09-12", actor="许昌联络员",
                expect=1)
        assert word in e.stderr and len(e.stderr.strip().splitlines()) == 1
    e = cli("deliverable", "submit", "--city", "许昌市", "--kind", "emission_list", "--generate",
            now="2024-09-12", actor="郑州联络员", expect=1)
    assert len(e.stderr.strip().splitlines()) == 1
    assert sum(1 for x in _json(cli, "deadlines", "--city", "许昌市", now="2024-09-12")
               if x["kind"] == "attachment1" and x["submitted_on"]) == 0
    cli("audit", "verify", now="2024-09-12")


def test_attachment4_is_the_citys_report_in_the_export_the_notices_and_the_deadlines(cli: Cli,
                                                                                    tmp_path: Path) -> None:
    build(cli)  # X3 (许昌金源化工) is tracking, evaluated for July only
    title = "许昌市企业绩效提升跟踪评估情况"
    out = tmp_path / "a4.xlsx"
    cli("export", "attachment4", "--city", "许昌", "--period", "2024-08", "--out", str(out), now="2024-09-01")
    assert sheet(out)["A2"].value == title
    tick(cli, "2024-09-01", "--no-deliver")
    (missing,) = [n for n in _json(cli, "notices", "list", "--kind", "evaluation_missing", now="2024-09-01")
                  if n["code"] == X3 and n["due"] == "2024-08-31"]
    text = _json(cli, "notices", "show", str(missing["id"]), now="2024-09-01")["text"]
    assert f"附件4《{title}》" in text and "许昌金源化工有限公司" in text
    assert "《许昌金源化工有限公司绩效提升跟踪评估情况》" not in text
    overdue = [n for n in _json(cli, "notices", "list", "--kind", "overdue", "--city", "许昌市", now="2024-09-01")
               if "attachment4" in _json(cli, "notices", "show", str(n["id"]), now="2024-09-01")["key"]]
    assert overdue
    assert f"附件4《{title}》" in _json(cli, "notices", "show", str(overdue[0]["id"]), now="2024-09-01")["text"]
    rows = _json(cli, "deadlines", "--city", "许昌市", now="2024-09-01")
    assert {x["title"] for x in rows if x["kind"] == "attachment4"} == {title}
