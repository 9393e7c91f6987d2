"""Enterprise master data under the plan's rules: the industry vocabulary, the rating document of a
starting grade, ULE 已公示 with its evidence, grades that move only through the process or a
province correction, and `db check` for rows written before these rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from models.db import normalise_url
from tests.conftest import CODE, DOC, Cli, bootstrap
from tests.helpers.spreadsheets import write_csv
from workflow.demo import synthetic
from workflow.domain.creditcode import make

NOW = "2024-05-10"
STEEL, GLASS, OTHER = make("91410500MA00000A1"), make("91411000MA00000B2"), make("91411000MA00000C3")


def add(cli: Cli, code: str, industry: str, grade: str, *extra: str, actor: str = "许昌联络员",
        expect: int = 0) -> Any:
    return cli("enterprise", "add", "--code", code, "--name", f"{industry}企业{code[-3:]}", "--city", "许昌市",
               "--industry", industry, "--grade", grade, *extra, now=NOW, actor=actor, expect=expect)


def shown(cli: Cli, code: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(cli("enterprise", "show", code, "--json", now=NOW).stdout)
    return out


def listed(cli: Cli) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = json.loads(cli("enterprise", "list", "--json", now=NOW).stdout)
    return out


def audit(cli: Cli, code: str, event: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = json.loads(
        cli("audit", "log", "--code", code, "--event", event, "--json", now=NOW).stdout)
    return out


def one_line(r: Any) -> str:
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    return str(r.stderr)


def test_an_unknown_industry_is_refused_with_the_choices_and_nothing_is_written(cli: Cli) -> None:
    bootstrap(cli)
    err = one_line(add(cli, CODE, "陶瓷", "C", "--rating-doc", DOC, expect=1))
    assert "未知行业 '陶瓷'" in err and "钢铁、水泥、焦化" in err and "其他" in err and "行业细分" in err
    assert listed(cli) == []
    add(cli, STEEL, "焦化行业", "C", "--rating-doc", DOC)
    assert shown(cli, STEEL)["industry"] == "焦化"


def test_other_with_its_own_wording_is_kept_and_shown_in_show_and_list(cli: Cli) -> None:
    bootstrap(cli)
    r = add(cli, OTHER, "其他", "C", "--industry-detail", "陶瓷", "--rating-doc", DOC)
    assert "其他（陶瓷）" in r.stdout
    assert shown(cli, OTHER)["industry_detail"] == "陶瓷" and shown(cli, OTHER)["rating_doc"] == DOC
    assert "industry_detail: 陶瓷" in cli("enterprise", "show", OTHER, now=NOW).stdout
    assert [(e["industry"], e["industry_detail"]) for e in listed(cli)] == [("其他", "陶瓷")]
    assert "陶瓷" in cli("enterprise", "list", now=NOW).stdout
    cli("enterprise", "update", OTHER, "--industry", "耐火材料", "--industry-detail", "", now=NOW, actor="许昌联络员")
    assert (shown(cli, OTHER)["industry"], shown(cli, OTHER)["industry_detail"]) == ("耐材", "")
    err = one_line(cli("enterprise", "update", OTHER, "--industry", "瓷砖", now=NOW, actor="许昌联络员", expect=1))
    assert "未知行业" in err and shown(cli, OTHER)["industry"] == "耐材"


def test_a_starting_grade_needs_its_rating_document_and_a_grade_on_the_industry_scale(cli: Cli) -> None:
    bootstrap(cli)
    err = one_line(add(cli, CODE, "耐材", "C", expect=1))
    assert "评级文件文号" in err and "--rating-doc" in err
    err = one_line(add(cli, GLASS, "玻璃", "非引领性", "--rating-doc", DOC, expect=1))
    assert "非引领性 不适用于玻璃行业" in err and "A" in err
    assert listed(cli) == []
    add(cli, CODE, "耐材", "未评级")  # no grade, no document
    add(cli, GLASS, "化工", "非引领性", "--rating-doc", DOC)  # 化工 has both scales


def test_an_import_row_without_a_rating_document_imports_nothing(cli: Cli, tmp_path: Path) -> None:
    bootstrap(cli)
    head = ["统一社会信用代码", "企业名称", "所属城市", "行业", "行业细分", "现绩效等级", "评级文件文号",
            "超低排放", "超低排放公示文号", "超低排放公示日期"]
    rows = [[CODE, "许昌恒达耐材有限公司", "许昌市", "耐火材料", "", "C", DOC, "", "", ""],
            [STEEL, "许昌钢铁", "许昌市", "钢铁行业", "", "B", "", "completed", "", ""],           # line 3
            [GLASS, "许昌玻璃", "许昌市", "玻璃", "", "引领性", DOC, "", "", ""],                   # line 4
            [OTHER, "许昌焦化", "许昌市", "焦化", "", "C", DOC, "publicized", "", ""]]            # line 5
    f = write_csv(tmp_path / "e.csv", head, rows)
    r = cli("enterprise", "import", str(f), now=NOW, actor="省管理员", expect=1)
    assert "第 3 行" in r.stderr and "评级文件文号" in r.stderr
    assert "第 4 行" in r.stderr and "不适用于玻璃行业" in r.stderr
    assert "第 5 行" in r.stderr and "公示文号" in r.stderr
    assert listed(cli) == []
    rows[1][6], rows[2][5], rows[3][8:] = DOC, "B", ["豫环超低公示〔2023〕3号", "2023-11-20"]
    f = write_csv(tmp_path / "e.csv", head, rows)
    r = cli("enterprise", "import", str(f), now=NOW, actor="许昌联络员", expect=1)
    assert "第 5 行" in r.stderr and "ule_publicize" in r.stderr  # a coordinator cannot say 已公示
    cli("enterprise", "import", str(f), now=NOW, actor="省管理员")
    assert shown(cli, STEEL)["industry"] == "钢铁" and shown(cli, STEEL)["rating_doc"] == DOC
    assert (shown(cli, OTHER)["ule_ref"], shown(cli, OTHER)["ule_date"]) == ("豫环超低公示〔2023〕3号", "2023-11-20")


def test_ule_publicized_needs_its_evidence_and_a_city_reviewer_or_the_province(cli: Cli) -> None:
    bootstrap(cli)
    add(cli, STEEL, "钢铁", "B", "--rating-doc", DOC, "--ule", "completed")
    err = one_line(cli("enterprise", "update", STEEL, "--ule", "publicized", now=NOW, actor="许昌评审", expect=1))
    assert "公示文号" in err and "--ule-date" in err
    err = one_line(cli("enterprise", "update", STEEL, "--ule", "publicized", "--ule-ref", "许环公示〔2024〕5号",
                       "--ule-date", "2024-13-01", now=NOW, actor="许昌评审", expect=1))
    assert "YYYY-MM-DD" in err
    evidence = ("--ule", "publicized", "--ule-ref", "许环公示〔2024〕5号", "--ule-date", "2024-04-28")
    err = one_line(cli("enterprise", "update", STEEL, *evidence, now=NOW, actor="许昌联络员", expect=1))
    assert err.startswith("错误 Error: 权限") and "ule_publicize" in err
    err = one_line(cli("enterprise", "update", STEEL, *evidence, now=NOW, actor="郑州联络员", expect=1))
    assert "权限" in err
    assert shown(cli, STEEL)["ule"] == "completed" and audit(cli, STEEL, "enterprise_update") == []
    cli("enterprise", "update", STEEL, *evidence, now=NOW, actor="许昌评审")
    assert (shown(cli, STEEL)["ule"], shown(cli, STEEL)["ule_ref"], shown(cli, STEEL)["ule_date"]) == (
        "publicized", "许环公示〔2024〕5号", "2024-04-28")
    [entry] = audit(cli, STEEL, "enterprise_update")
    assert entry["actor"] == "许昌评审" and entry["role"] == "city_reviewer"
    assert entry["payload"] == {"ule": ["completed", "publicized"], "ule_ref": ["", "许环公示〔2024〕5号"],
                                "ule_date": [None, "2024-04-28"]}
    cli("audit", "verify", now=NOW)


def test_a_grade_never_changes_by_update_not_even_for_the_province(cli: Cli) -> None:
    bootstrap(cli)
    add(cli, CODE, "耐材", "D", "--rating-doc", DOC)
    for who in ("许昌联络员", "省管理员"):
        err = one_line(cli("enterprise", "update", CODE, "--grade", "A", now=NOW, actor=who, expect=1))
        assert "correct-grade" in err
    assert shown(cli, CODE)["grade"] == "D" and audit(cli, CODE, "enterprise_update") == []


def test_a_grade_correction_is_the_province_s_audited_act_and_never_during_the_process(cli: Cli) -> None:
    bootstrap(cli)
    add(cli, CODE, "耐材", "D", "--rating-doc", DOC)
    add(cli, STEEL, "钢铁", "B", "--rating-doc", DOC, "--ule", "completed")
    fix = ("enterprise", "correct-grade", CODE, "--grade", "C", "--reason", "录入错误，原文件为C级",
           "--rating-doc", "豫环绩效〔2023〕88号")
    err = one_line(cli(*fix, now=NOW, actor="许昌联络员", expect=1))
    assert "权限" in err and "grade_correction" in err
    cli("advance", CODE, "enroll", "--consent", "自愿-1", "--target-grade", "B", now="2024-05-20", actor="许昌联络员")
    err = one_line(cli(*fix, now="2024-05-21", actor="省管理员", expect=1))
    assert "cultivation" in err and "不得更正" in err
    cli("advance", CODE, "withdraw", "--reason", "企业自愿退出", now="2024-05-22", actor="许昌联络员")
    r = cli(*fix, now="2024-05-23", actor="省管理员")
    assert "D → C" in r.stdout
    assert (shown(cli, CODE)["grade"], shown(cli, CODE)["rating_doc"]) == ("C", "豫环绩效〔2023〕88号")
    [entry] = audit(cli, CODE, "grade_correction")
    assert entry["actor"] == "省管理员" and entry["reason"] == "录入错误，原文件为C级"
    assert entry["payload"] == {"from": "D", "to": "C", "rating_doc": "豫环绩效〔2023〕88号",
                                "previous_rating_doc": DOC}
    bad = ("--reason", "复核", "--rating-doc", "豫环绩效〔2023〕9号")
    err = one_line(cli("enterprise", "correct-grade", STEEL, "--grade", "A", *bad, now=NOW, actor="省管理员",
                       expect=1))
    assert "超低排放" in err  # rules.check_a_grade: steel needs ULE publicised for A
    err = one_line(cli("enterprise", "correct-grade", STEEL, "--grade", "引领性", *bad, now=NOW, actor="省管理员",
                       expect=1))
    assert "不适用于钢铁行业" in err
    assert shown(cli, STEEL)["grade"] == "B"
    cli("audit", "verify", now="2024-05-23")


def test_db_check_reports_rows_the_rules_would_refuse_and_changes_nothing(cli: Cli) -> None:
    bootstrap(cli)
    add(cli, CODE, "耐材", "C", "--rating-doc", DOC)
    r = cli("db", "check", now=NOW)
    assert "数据检查通过" in r.stdout
    url = cli.db if "://" in cli.db else f"sqlite:///{cli.db}"
    engine = create_engine(normalise_url(url))
    with engine.begin() as c:  # rows written before the vocabulary and the rating document
        city = c.execute(text("SELECT id FROM city WHERE name = '许昌市'")).scalar_one()
        c.execute(text("INSERT INTO enterprise (code, name, city_id, county, industry, industry_detail, grade, "
                       "rating_doc, ule, ule_ref, livelihood, version) VALUES (:code, '许昌瓷业有限公司', :city, '', "
                       "'陶瓷', '', 'C', '', '', '', false, 1)"), {"code": OTHER, "city": city})
    engine.dispose()
    r = cli("db", "check", now=NOW, expect=1)
    assert one_line(r).startswith("数据检查发现 2 处问题") and "未作任何修改" in r.stderr
    assert OTHER in r.stdout and "许昌瓷业有限公司" in r.stdout and "陶瓷" in r.stdout and CODE not in r.stdout
    data = json.loads(cli("db", "check", "--json", now=NOW, expect=1).stdout)
    kinds = {p["kind"]: p["rows"] for p in data["problems"]}
    assert set(kinds) == {"unknown_industry", "missing_rating_doc"}
    assert kinds["unknown_industry"] == [{"code": OTHER, "name": "许昌瓷业有限公司", "city": "许昌市",
                                          "industry": "陶瓷", "grade": "C"}]
    assert shown(cli, OTHER)["industry"] == "陶瓷"  # reported, never reinterpreted


def test_the_synthetic_province_imports_under_the_new_rules(cli: Cli, tmp_path: Path) -> None:
    bootstrap(cli)
    path = tmp_path / "province.csv"
    rows = list(synthetic.generate(400, seed=5))
    synthetic.write_csv(path, rows)
    assert "400" in cli("enterprise", "import", str(path), now=NOW, actor="省管理员").stdout
    assert cli("db", "check", now=NOW).exit_code == 0
    detail = next(r for r in rows if r["industry_detail"])
    assert shown(cli, detail["code"])["industry_detail"] == detail["industry_detail"]


def test_a_code_registered_outside_henan_is_accepted_with_a_warning(cli: Cli) -> None:
    bootstrap(cli)
    outside = make("91110000" + synthetic.organisation_code("MA01ABCD"))  # Beijing (11xxxx)
    r = cli("enterprise", "add", "--code", outside, "--name", "京豫联合铸造有限公司", "--city", "许昌市",
            "--industry", "铸造", "--grade", "未评级", now="2024-05-06", actor="许昌联络员")
    assert "不在河南省" in r.stderr and "已登记" in r.stdout
    henan = make("91411000" + synthetic.organisation_code("MA45C2R1"))
    r = cli("enterprise", "add", "--code", henan, "--name", "许昌本地铸造有限公司", "--city", "许昌市",
            "--industry", "铸造", "--grade", "未评级", now="2024-05-06", actor="许昌联络员")
    assert "Warning" not in r.stderr
