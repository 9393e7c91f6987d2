"""`campaign assign --file`: many expert assignments in one transaction, all or nothing, every row
judged as `campaign assign` judges one and reported as `advance --file` reports its rows."""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import text

from models.db import make_engine
from tests.conftest import CODE, DOC, Cli
from tests.helpers.audit import audit_entries, refusals
from tests.helpers.spreadsheets import write_csv
from workflow.domain.creditcode import make

A, B = make("91411000MA45C3R01"), make("91411000MA45C3R02")  # two more 许昌 enterprises
ZZ = make("91410100MA45C3R03")  # a 郑州 enterprise
NOW = "2024-05-10"


def setting(campaign: Cli) -> None:
    """Three more enterprises (two in 许昌, one in 郑州) and a second expert, 李专家."""
    rows = [[A, "许昌甲企业", "许昌市", "铸造", "C", DOC], [B, "许昌乙企业", "许昌市", "铸造", "C", DOC],
            [ZZ, "郑州丙企业", "郑州市", "铸造", "C", DOC]]
    f = write_csv(campaign.home / "e.csv", ["code", "name", "city", "industry", "grade", "rating_doc"], rows)
    campaign("enterprise", "import", str(f), now=NOW, actor="省管理员")
    campaign("actor", "add", "李专家", "--role", "expert", now=NOW, actor="省管理员")


def assignments(cli: Cli) -> list[tuple[str, str, bool]]:
    """(code, expert, active) of every assignment row, by code and expert."""
    engine = make_engine(cli.db)
    try:
        with engine.connect() as c:
            return [(r[0], r[1], bool(r[2])) for r in c.execute(text(
                "SELECT e.code, a.name, x.removed_at IS NULL FROM expert_assignment x "
                "JOIN enterprise e ON e.id = x.enterprise_id JOIN actor a ON a.id = x.actor_id "
                "ORDER BY e.code, a.name"))]
    finally:
        engine.dispose()


def chain_length(cli: Cli) -> int:
    return len(json.loads(cli("audit", "log", "--json", now=NOW).stdout))


def test_a_file_of_three_assignments_is_applied_in_one_go_each_with_its_audit_entry(campaign: Cli) -> None:
    setting(campaign)
    f = write_csv(campaign.home / "a.csv", ["code", "expert"], [[A, "王专家"], [B, "李专家"], [CODE, "李专家"]])
    r = campaign("assign", "--file", str(f), now=NOW, actor="许昌联络员")
    assert "第 2 行 ✓" in r.stdout and "第 4 行 ✓" in r.stdout and "已执行 3 项指派" in r.stdout
    assert assignments(campaign) == sorted([(CODE, "王专家", True), (A, "王专家", True), (B, "李专家", True),
                                            (CODE, "李专家", True)])
    entries = audit_entries(campaign, "assign_expert")[1:]  # after the fixture's own assignment
    assert [(e["actor"], e["city"], json.loads(e["payload"])["expert"]) for e in entries] == [
        ("许昌联络员", "许昌市", "王专家"), ("许昌联络员", "许昌市", "李专家"), ("许昌联络员", "许昌市", "李专家")]
    campaign("audit", "verify", now=NOW)
    # the assigned expert may now act on the enterprise
    campaign("advance", A, "enroll", "--consent", "c", "--target-grade", "B", now="2024-05-20", actor="许昌联络员")
    campaign("advance", A, "start_assistance", now="2024-06-03", actor="许昌联络员")
    campaign("advance", A, "record_pre_assessment", "--data", "findings=f", now="2024-06-05", actor="王专家")


def test_one_refused_row_writes_nothing_and_names_its_line(campaign: Cli) -> None:
    setting(campaign)
    campaign("actor", "declare-conflict", "李专家", B, "--reason", "曾为该企业编制方案", now=NOW, actor="省管理员")
    before, chain = assignments(campaign), chain_length(campaign)
    f = write_csv(campaign.home / "a.csv", ["code", "expert"],
                  [[A, "王专家"], [B, "李专家"], [ZZ, "王专家"], [CODE, "王专家"], [A, "无名氏"]])
    r = campaign("assign", "--file", str(f), now=NOW, actor="许昌联络员", expect=1)
    assert "第 2 行 ✓" in r.stdout
    errors = r.stderr.strip().splitlines()
    assert errors[0].startswith("第 3 行 ✗") and "利益冲突回避" in errors[0]
    assert errors[1].startswith("第 4 行 ✗") and "城市范围" in errors[1]
    assert errors[2].startswith("第 5 行 ✗") and "already assigned" in errors[2]
    assert errors[3].startswith("第 6 行 ✗") and "无名氏" in errors[3]
    assert errors[4].startswith("错误 Error: 4 行被拒绝") and "Traceback" not in r.stderr
    assert assignments(campaign) == before and chain_length(campaign) == chain
    assert ("许昌联络员", "assign_batch", "") in refusals(campaign)
    campaign("audit", "verify", now=NOW)


def test_an_xlsx_with_chinese_headers_assigns_and_removes_in_order(campaign: Cli) -> None:
    setting(campaign)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["统一社会信用代码", "专家", "操作"])
    for row in ([A, "李专家", "指派"], [A, "李专家", "解除"], [B, "李专家", ""], [CODE, "王专家", "解除"],
                [None, None, None], [A, "李专家", "指派"]):
        ws.append(row)
    wb.save(campaign.home / "a.xlsx")
    r = campaign("assign", "--file", str(campaign.home / "a.xlsx"), "--json", now=NOW, actor="省管理员")
    out = json.loads(r.stdout)
    assert out["ok"] and [(o["line"], o["event"]) for o in out["rows"]] == [
        (2, "assign_expert"), (3, "unassign_expert"), (4, "assign_expert"), (5, "unassign_expert"),
        (7, "assign_expert")]
    assert assignments(campaign) == sorted([(CODE, "王专家", False), (A, "李专家", True), (B, "李专家", True)])
    campaign("audit", "verify", now=NOW)  # the replay of the log explains every assignment row


def test_a_bad_file_is_one_line_and_writes_nothing(campaign: Cli, tmp_path: Path) -> None:
    chain = chain_length(campaign)
    cases = [(write_csv(tmp_path / "cols.csv", ["code", "name"], [[CODE, "x"]]), "expert 两列"),
             (write_csv(tmp_path / "op.csv", ["code", "expert", "操作"], [[CODE, "王专家", "调走"]]), "第 2 行"),
             (write_csv(tmp_path / "empty.csv", ["code", "expert"], []), "no rows"),
             (tmp_path / "missing.csv", "找不到文件")]
    (tmp_path / "a.txt").write_text("code,expert\n", encoding="utf-8")
    (tmp_path / "gbk.csv").write_bytes("code,expert\n1,王专家\n".encode("gbk"))
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    cases += [(tmp_path / "a.txt", ".txt"), (tmp_path / "gbk.csv", "UTF-8"), (tmp_path / "broken.xlsx", "XLSX")]
    for path, says in cases:
        r = campaign("assign", "--file", str(path), now=NOW, actor="许昌联络员", expect=1)
        assert says in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    for args in (["assign", CODE, "--file", str(cases[0][0])], ["assign", "--expert", "王专家", "--file", "x.csv"],
                 ["assign", CODE]):
        r = campaign(*args, now=NOW, actor="许昌联络员", expect=2)
        assert "Traceback" not in r.stderr
    assert chain_length(campaign) == chain
    campaign("audit", "verify", now=NOW)
