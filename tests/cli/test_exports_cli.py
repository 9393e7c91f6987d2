"""The plan's five attachments (附件1–5) and equipment updates, through the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from tests.conftest import CODE, Cli
from tests.helpers.lifecycle import ENROLL, walk_to_certification
from tests.helpers.spreadsheets import body, header, sheet

BASE = ["序号", "企业名称", "统一社会信用代码", "区县", "行业"]


def record_equipment(cli: Cli, *extra: str, now: str = "2024-07-26", expect: int = 0) -> Any:
    return cli("equipment", "record", CODE, "--project", "除尘系统提标改造", "--equipment", "覆膜滤袋除尘器",
               *extra, now=now, actor="许昌联络员", expect=expect)


def test_the_cultivation_list_is_titled_numbered_and_printable(campaign: Cli, tmp_path: Path) -> None:
    campaign(*ENROLL, now="2024-05-20", actor="许昌联络员")
    out = tmp_path / "附件1.xlsx"
    r = campaign("export", "attachment1", "--city", "许昌", "--out", str(out), now="2024-05-31")
    assert "许昌市绩效提升企业培育清单" in r.stdout
    ws = sheet(out)
    assert ws.title == "许昌市"
    assert ws["A1"].value == "附件1"
    assert ws["A2"].value == "许昌市绩效提升企业培育清单" and ws["A2"].font.bold
    assert "A2:K2" in {str(m) for m in ws.merged_cells.ranges}
    assert header(ws)[:7] == [*BASE, "现绩效等级", "目标等级"]
    assert body(ws) == [[1, "许昌恒达耐材有限公司", CODE, "长葛市", "耐材", "C", "B", None, "2024-05-20", "培育", None]]
    assert ws["B4"].fill.fgColor.rgb.endswith("D9E1F2") and ws["B5"].alignment.wrap_text
    assert ws["B5"].border.left.style == "thin"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.print_title_rows == "$4:$4"
    assert ws.column_dimensions["B"].width >= 24


def test_the_plan_summary_comes_from_the_submitted_plan(campaign: Cli, tmp_path: Path) -> None:
    walk_to_certification(campaign)
    out = tmp_path / "a2.xlsx"
    campaign("export", "attachment2", "--city", "许昌市", "--out", str(out), now="2024-08-06")
    ws = sheet(out)
    assert ws["A2"].value == "重点行业绩效提升企业“一企一策”提升方案汇总表"
    assert header(ws)[:7] == [*BASE, "现绩效等级", "目标等级"]
    (row,) = body(ws)
    assert row[7:11] == ["提标改造", "更换除尘器", "2024-09-30", "2024-06-10"]


def test_equipment_updates_are_audited_listed_and_exported_as_attachment3(campaign: Cli,
                                                                          tmp_path: Path) -> None:
    walk_to_certification(campaign)
    r = record_equipment(campaign, "--investment", "320.5", "--completed", "2024-07-10",
                         "--funding", "企业自筹", "--json")
    assert json.loads(r.stdout)["investment"] == 320.5
    history = json.loads(campaign("history", CODE, "--json", now="2024-07-26").stdout)
    assert history[-1]["event"] == "record_equipment_update"
    assert history[-1]["payload"]["project"] == "除尘系统提标改造"
    campaign("audit", "verify", now="2024-07-26")
    listed = json.loads(campaign("equipment", "list", "--city", "许昌", "--json", now="2024-07-26").stdout)
    assert [(x["code"], x["investment"], x["completed"]) for x in listed] == [(CODE, 320.5, "2024-07-10")]
    assert json.loads(campaign("equipment", "list", "--city", "郑州", "--json", now="2024-07-26").stdout) == []
    out = tmp_path / "a3.xlsx"
    campaign("export", "attachment3", "--city", "许昌市", "--out", str(out), now="2024-10-31")
    ws = sheet(out)
    assert ws["A1"].value == "附件3" and ws["A2"].value == "开展设备更新企业名单"
    (row,) = body(ws)
    assert row[7:] == ["除尘系统提标改造", "覆膜滤袋除尘器", 320.5, "2024-07-10", "企业自筹"]


def test_equipment_updates_are_refused_for_bad_input_and_unenrolled_enterprises(campaign: Cli) -> None:
    r = record_equipment(campaign, expect=1)
    assert "未纳入" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    campaign(*ENROLL, now="2024-05-20", actor="许昌联络员")
    assert "--investment" in record_equipment(campaign, "--investment", "很多", expect=1).stderr
    assert "--investment" in record_equipment(campaign, "--investment", "-5", expect=1).stderr
    assert "--completed" in record_equipment(campaign, "--completed", "2024-13-01", expect=1).stderr
    campaign("advance", CODE, "withdraw", "--reason", "企业自愿退出", now="2024-06-20", actor="许昌联络员")
    assert "退出" in record_equipment(campaign, expect=1).stderr
    assert json.loads(campaign("equipment", "list", "--json", now="2024-07-26").stdout) == []


def test_the_tracking_evaluation_lists_the_evaluations_of_the_period_month(campaign: Cli,
                                                                        tmp_path: Path) -> None:
    walk_to_certification(campaign)
    out = tmp_path / "a4.xlsx"
    campaign("export", "attachment4", "--city", "许昌", "--period", "2024-07", "--out", str(out),
             now="2024-07-31")
    ws = sheet(out)
    assert ws["A2"].value == "许昌市企业绩效提升跟踪评估情况"
    assert "2024-07" in ws["A3"].value
    (row,) = body(ws)
    assert row[1:3] == ["许昌恒达耐材有限公司", CODE]
    assert row[7:10] == ["2024-07", "2024-07-20", "已完成现场评估"] and row[10] == "王专家"
    campaign("export", "attachment4", "--city", "许昌", "--period", "2024-08", "--out", str(out),
             now="2024-08-31")
    ws = sheet(out)
    assert body(ws) == [] and ws["A5"].value == "（本期无数据）"


def test_the_accepted_list_carries_the_stamp_and_signature_block(campaign: Cli, tmp_path: Path) -> None:
    walk_to_certification(campaign)  # passed acceptance on 2024-07-25
    out = tmp_path / "a5.xlsx"
    campaign("export", "attachment5", "--city", "许昌", "--period", "2024-07", "--out", str(out),
             now="2024-07-31")
    ws = sheet(out)
    assert ws["A1"].value == "附件5" and ws["A2"].value == "许昌市绩效提升培育验收通过企业名单"
    (row,) = body(ws)
    assert row[1:3] == ["许昌恒达耐材有限公司", CODE] and row[5:8] == ["C", "B", "2024-07-25"]
    texts = [c.value for r in ws.iter_rows(min_row=6) for c in r if isinstance(c.value, str)]
    assert "填报单位（盖章）：" in texts and "负责人签字：" in texts
    assert any(t.startswith("日期：") for t in texts)
    campaign("export", "attachment5", "--city", "许昌", "--period", "2024-10", "--out", str(out),
             now="2024-10-31")
    assert body(sheet(out)) == []  # reported with the July list already
    r = campaign("export", "attachment5", "--city", "许昌", "--period", "2024-09", "--out", str(out),
                 now="2024-10-31", expect=1)
    assert "2024-07" in r.stderr and "2024-10" in r.stderr


def test_a_province_workbook_has_one_sheet_per_city_and_csv_adds_the_city(campaign: Cli,
                                                                         tmp_path: Path) -> None:
    campaign(*ENROLL, now="2024-05-20", actor="许昌联络员")
    out = tmp_path / "province.xlsx"
    r = campaign("export", "attachment1", "--all-cities", "--out", str(out), now="2024-05-31")
    assert "19" in r.stdout
    wb = load_workbook(out)
    assert len(wb.sheetnames) == 19 and wb.sheetnames[0] == "郑州市"
    assert wb["郑州航空港经济综合实验区"]["A2"].value == "郑州航空港经济综合实验区绩效提升企业培育清单"
    assert [row[2] for row in body(wb["许昌市"])] == [CODE] and body(wb["郑州市"]) == []
    csv_out = tmp_path / "province.csv"
    campaign("export", "attachment1", "--all-cities", "--out", str(csv_out), now="2024-05-31")
    with csv_out.open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert rows[0][:3] == ["城市", "序号", "企业名称"]
    assert rows[1][:4] == ["许昌市", "1", "许昌恒达耐材有限公司", CODE]
    one = tmp_path / "xuchang.csv"
    campaign("export", "attachment1", "--city", "许昌", "--out", str(one), now="2024-05-31")
    with one.open(encoding="utf-8-sig") as f:
        assert next(csv.reader(f))[:7] == [*BASE, "现绩效等级", "目标等级"]


def test_unknown_city_attachment_or_suffix_is_one_line_and_writes_nothing(campaign: Cli,
                                                                        tmp_path: Path) -> None:
    cases = [(("attachment1", "--city", "火星"), "火星"), (("attachment9", "--city", "许昌"), "attachment9"),
             (("attachment1", "--city", "许昌", "--period", "2024/07"), "YYYY-MM")]
    for args, word in cases:
        r = campaign("export", *args, "--out", str(tmp_path / "x.xlsx"), now="2024-05-31", expect=1)
        assert word in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = campaign("export", "attachment1", "--city", "许昌", "--out", str(tmp_path / "x.pdf"),
                 now="2024-05-31", expect=1)
    assert ".xlsx" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.glob("x.*"))


def test_an_unknown_export_names_the_attachments_and_the_certification_lists(campaign: Cli,
                                                                              tmp_path: Path) -> None:
    r = campaign("export", "正面清单x", "--out", str(tmp_path / "x.xlsx"), now="2024-09-20", expect=1)
    assert "positive-list" in r.stderr and "emission-list" in r.stderr and "attachment1" in r.stderr
    out = tmp_path / "p.xlsx"
    campaign("export", "正面清单", "--out", str(out), now="2024-09-20")
    assert sheet(out)["A2"].value == "河南省重污染天气重点行业绩效分级正面清单（A级及绩效引领性企业）"
    assert body(sheet(out)) == []
