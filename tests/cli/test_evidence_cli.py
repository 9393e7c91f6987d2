"""Evidence files (佐证材料): `campaign advance … --evidence FILE`, `campaign audit verify --files` and
the download service's scope, on SQLite and PostgreSQL. Each test fails without the rule it names."""

from __future__ import annotations

import hashlib
import json
import stat

import pytest

from tests.conftest import CODE, Cli
from tests.helpers.lifecycle import ENROLL
from tests.helpers.web_evidence import (
    DISGUISED_HTML,
    PDF_TYPE,
    SHELL_SCRIPT,
    context_as,
    entry,
    evidence_rows,
    ooxml,
    pdf,
    stored_files,
    write,
)
from workflow.errors import IntegrityFailure, NotFound

SECOND = "91410100MA9XUQ5R02"
PRE = ("advance", CODE, "record_pre_assessment", "--data", "findings=无组织排放管控不足")
PLAN = ("advance", CODE, "submit_plan", "--data", "summary=提标改造", "--data", "measures=更换除尘器",
        "--data", "completion_date=2024-09-30")


def to_assistance(cli: Cli) -> None:
    cli(*ENROLL, now="2024-05-20", actor="许昌联络员")
    cli("advance", CODE, "start_assistance", now="2024-06-03", actor="许昌联络员")


def test_the_files_hash_name_size_and_type_go_into_the_audit_entry_of_the_event(campaign: Cli) -> None:
    to_assistance(campaign)
    report = write(campaign.home / "in", "预评估报告.pdf", pdf("report one"))
    minutes = write(campaign.home / "in", "会议纪要.docx", ooxml("word"))
    out = campaign(*PRE, "--evidence", str(report), "--evidence", str(minutes), now="2024-06-05",
                   actor="王专家").stdout
    assert "佐证材料 2 份" in out
    payload = entry(campaign, "record_pre_assessment")["payload"]
    sha = hashlib.sha256(report.read_bytes()).hexdigest()
    assert payload["evidence"][0] == {"sha256": sha, "name": "预评估报告.pdf", "size": report.stat().st_size,
                                      "media_type": PDF_TYPE}
    assert payload["evidence"][1]["name"] == "会议纪要.docx"
    assert payload["evidence"][1]["media_type"].endswith("wordprocessingml.document")
    stored = campaign.home / "documents" / "evidence" / sha[:2] / sha
    assert stored.read_bytes() == report.read_bytes()
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert {r["sha256"] for r in evidence_rows(campaign)} == {sha, payload["evidence"][1]["sha256"]}
    assert {r["stored_by"] for r in evidence_rows(campaign)} == {"王专家"}
    # --data may not forge the evidence list: the engine writes it
    err = campaign(*PLAN, "--data", "evidence=x", now="2024-06-10", actor="王专家", expect=1).stderr
    assert "evidence" in err
    campaign("audit", "verify", "--files", now="2024-06-10")


def test_the_same_file_uploaded_twice_is_stored_once(campaign: Cli) -> None:
    to_assistance(campaign)
    same = pdf("one plan for both events")
    first = write(campaign.home / "a", "方案.pdf", same)
    again = write(campaign.home / "b", "方案（再次上传）.pdf", same)
    campaign(*PRE, "--evidence", str(first), now="2024-06-05", actor="王专家")
    campaign(*PLAN, "--evidence", str(again), "--evidence", str(first), now="2024-06-10", actor="王专家")
    assert len(stored_files(campaign.home)) == 1
    rows = evidence_rows(campaign)
    assert len(rows) == 1 and rows[0]["first_name"] == "方案.pdf" and rows[0]["stored_by"] == "王专家"
    plan = entry(campaign, "submit_plan")["payload"]["evidence"]
    assert [e["name"] for e in plan] == ["方案（再次上传）.pdf"]  # once per event too
    assert plan[0]["sha256"] == entry(campaign, "record_pre_assessment")["payload"]["evidence"][0]["sha256"]


@pytest.mark.parametrize("content", [DISGUISED_HTML, SHELL_SCRIPT, b"PK\x03\x04 not a zip"])
def test_a_file_renamed_pdf_is_refused_by_its_content_and_nothing_is_stored(campaign: Cli, content: bytes) -> None:
    to_assistance(campaign)
    fake = write(campaign.home / "in", "报告.pdf", content)
    err = campaign(*PRE, "--evidence", str(fake), now="2024-06-05", actor="王专家", expect=1).stderr
    assert "报告.pdf" in err and "不是 PDF、JPEG、PNG、DOCX、XLSX" in err and "未保存" in err
    assert len([line for line in err.strip().splitlines() if line.strip()]) == 1
    assert stored_files(campaign.home) == [] and evidence_rows(campaign) == []
    assert entry(campaign, "start_assistance")  # the event itself was not applied either
    assert "record_pre_assessment" not in [e["event"] for e in json.loads(
        campaign("history", CODE, "--json", now="2024-06-05").stdout)]


def test_a_file_over_the_size_limit_is_refused(campaign: Cli) -> None:
    to_assistance(campaign)
    campaign.env["CAMPAIGN_EVIDENCE_MAX_MB"] = "0.001"  # 1,048 bytes
    big = write(campaign.home / "in", "大报告.pdf", pdf("x" * 2000))
    err = campaign(*PRE, "--evidence", str(big), now="2024-06-05", actor="王专家", expect=1).stderr
    assert "超过大小上限" in err and "大报告.pdf" in err
    assert stored_files(campaign.home) == [] and evidence_rows(campaign) == []
    small = write(campaign.home / "in", "小报告.pdf", pdf("ok"))
    campaign(*PRE, "--evidence", str(small), now="2024-06-05", actor="王专家")
    assert len(stored_files(campaign.home)) == 1


def test_a_refused_event_stores_no_file_and_no_row(campaign: Cli) -> None:
    to_assistance(campaign)
    report = write(campaign.home / "in", "报告.pdf", pdf("refused"))
    # a city coordinator may not record the expert's pre-assessment: refused by permission
    campaign(*PRE, "--evidence", str(report), now="2024-06-05", actor="许昌联络员", expect=1)
    # the plan before the pre-assessment: refused by a rule
    campaign(*PLAN, "--evidence", str(report), now="2024-06-05", actor="王专家", expect=1)
    assert stored_files(campaign.home) == [] and evidence_rows(campaign) == []
    assert not (campaign.home / "documents").exists() or not any((campaign.home / "documents").rglob("*.tmp"))


def test_verify_files_reports_a_missing_or_altered_file_like_a_chain_break(campaign: Cli) -> None:
    to_assistance(campaign)
    report = write(campaign.home / "in", "预评估报告.pdf", pdf("verified"))
    campaign(*PRE, "--evidence", str(report), now="2024-06-05", actor="王专家")
    seq = entry(campaign, "record_pre_assessment")["seq"]
    out = campaign("audit", "verify", "--files", now="2024-06-06").stdout
    assert "文件完整" in out and "1 个文件" in out
    assert json.loads(campaign("audit", "verify", "--files", "--json", now="2024-06-06").stdout)["files"] == {
        "files": 1, "references": 1, "ok": True}
    sha = hashlib.sha256(report.read_bytes()).hexdigest()
    stored = campaign.home / "documents" / "evidence" / sha[:2] / sha
    stored.chmod(0o600)
    stored.write_bytes(pdf("altered afterwards"))
    err = campaign("audit", "verify", "--files", now="2024-06-06", expect=3).stderr
    assert f"审计第 {seq} 条" in err and CODE in err and "预评估报告.pdf" in err and "已被改动" in err
    campaign("audit", "verify", now="2024-06-06")  # without --files the chain itself is intact
    stored.unlink()
    err = campaign("audit", "verify", "--files", now="2024-06-06", expect=3).stderr
    assert f"审计第 {seq} 条" in err and "缺失" in err


def test_a_download_is_only_for_who_may_see_the_enterprise_and_only_its_files(campaign: Cli) -> None:
    to_assistance(campaign)
    report = write(campaign.home / "in", "预评估报告.pdf", pdf("scoped"))
    campaign(*PRE, "--evidence", str(report), now="2024-06-05", actor="王专家")
    sha = hashlib.sha256(report.read_bytes()).hexdigest()
    from workflow.services.evidence import open_evidence

    for who in ("许昌联络员", "王专家", "省复核员"):
        name, media, path = open_evidence(context_as(campaign, who, "2024-06-06"), CODE, sha)
        assert (name, media) == ("预评估报告.pdf", PDF_TYPE) and path.read_bytes() == report.read_bytes()
    with pytest.raises(NotFound):  # another city's coordinator: as if it did not exist
        open_evidence(context_as(campaign, "郑州联络员", "2024-06-06"), CODE, sha)
    with pytest.raises(NotFound):  # a hash no entry of this enterprise names
        open_evidence(context_as(campaign, "许昌联络员", "2024-06-06"), CODE, "0" * 64)
    campaign("enterprise", "add", "--code", SECOND, "--name", "许昌另一家公司", "--city", "许昌市",
             "--industry", "耐材", "--grade", "C", "--rating-doc", "许环〔2023〕9号", now="2024-06-06",
             actor="许昌联络员")
    with pytest.raises(NotFound):  # another enterprise of the same city: not its file
        open_evidence(context_as(campaign, "许昌联络员", "2024-06-06"), SECOND, sha)
    with pytest.raises(NotFound):
        open_evidence(context_as(campaign, "许昌联络员", "2024-06-06"), CODE, "../../campaign.db")
    (campaign.home / "documents" / "evidence" / sha[:2] / sha).unlink()
    with pytest.raises(IntegrityFailure):
        open_evidence(context_as(campaign, "许昌联络员", "2024-06-06"), CODE, sha)


@pytest.mark.slow
def test_the_demo_leaves_evidence_on_some_events_and_it_verifies(sqlite_cli: Cli) -> None:
    sqlite_cli("demo", "--enterprises", "300", "--seed", "7")
    out = sqlite_cli("audit", "verify", "--files", now="2025-01-02").stdout
    assert "文件完整" in out
    files = stored_files(sqlite_cli.home)
    assert len(files) >= 3 and all(f.read_bytes().startswith(b"%PDF-") for f in files)
    assert len(evidence_rows(sqlite_cli)) == len(files)
    assert {r["media_type"] for r in evidence_rows(sqlite_cli)} == {PDF_TYPE}
