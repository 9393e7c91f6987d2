"""The synthetic province: deterministic, valid codes, plausible distributions."""

from __future__ import annotations

import csv
import inspect
from collections import Counter
from datetime import date
from itertools import islice
from pathlib import Path

import pytest

from workflow.demo.synthetic import (
    CITIES,
    COUNTIES,
    COUNTY_CODES,
    FIELDS,
    HEADERS_ZH,
    INDUSTRIES,
    KEY_INDUSTRIES,
    LEADING_SCALE_INDUSTRIES,
    OTHER_SECTORS,
    REGION_CODES,
    ULE_INDUSTRIES,
    ULE_STATUSES,
    generate,
    organisation_code,
    write_csv,
)
from workflow.domain.creditcode import validate
from workflow.domain.plan import default_text, parse

ROWS = list(generate(20_000, seed=11))


def test_the_tables_cover_the_19_reporting_units_and_12_key_industries() -> None:
    assert len(CITIES) == 19 and len(set(CITIES)) == 19
    assert CITIES[0] == "郑州市" and CITIES[-1] == "郑州航空港经济综合实验区"
    assert REGION_CODES["郑州市"] == "410100" and REGION_CODES["济源市"] == "419001"
    assert REGION_CODES["郑州航空港经济综合实验区"] == "410173"
    assert all(len(code) == 6 and code.startswith("41") for code in REGION_CODES.values())
    assert "巩义市" in COUNTIES["郑州市"]
    assert all(COUNTIES[city] for city in CITIES)
    assert len(KEY_INDUSTRIES) == 12 and set(KEY_INDUSTRIES) < set(INDUSTRIES)


def test_the_same_seed_gives_the_same_rows() -> None:
    assert list(generate(500, seed=7)) == list(generate(500, seed=7))


def test_a_different_seed_gives_different_rows() -> None:
    first, second = list(generate(500, seed=7)), list(generate(500, seed=8))
    assert first != second
    assert not {r["code"] for r in first} & {r["code"] for r in second}


def test_every_row_has_exactly_the_header_keys() -> None:
    assert all(tuple(row) == FIELDS for row in ROWS[:100])
    assert set(FIELDS) == set(HEADERS_ZH)


def test_every_generated_code_is_unique_and_passes_the_checksum() -> None:
    codes = [row["code"] for row in ROWS]
    assert len(set(codes)) == len(codes)
    assert all(validate(code) == code for code in codes)
    assert all(code.startswith("9141") or code.startswith("914190") for code in codes)


def test_the_organisation_part_carries_its_own_gb11714_check() -> None:
    assert organisation_code("MA45C2R1") == "MA45C2R1X"  # from 91410100MA45C2R1XL
    assert all(organisation_code(row["code"][8:16]) == row["code"][8:17] for row in ROWS)


def test_the_region_code_is_that_of_the_county() -> None:
    assert all(row["code"][2:8] == COUNTY_CODES[row["city"]][row["county"]] for row in ROWS)


def test_every_city_is_a_reporting_unit_and_every_county_belongs_to_its_city() -> None:
    assert {row["city"] for row in ROWS} == set(CITIES)
    assert all(row["county"] in COUNTIES[row["city"]] for row in ROWS)


def test_bigger_cities_get_more_enterprises_than_the_airport_zone_and_jiyuan() -> None:
    per_city = Counter(row["city"] for row in ROWS)
    assert per_city["郑州市"] > per_city["济源市"] > per_city["郑州航空港经济综合实验区"]
    assert per_city.most_common(1)[0][0] == "郑州市"


def test_generation_can_be_restricted_to_some_cities() -> None:
    rows = list(generate(300, cities=("济源市", "鹤壁市")))
    assert {row["city"] for row in rows} == {"济源市", "鹤壁市"}


def test_an_unknown_city_or_a_negative_count_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match="unknown"):
        generate(10, cities=("北京市",))
    with pytest.raises(ValueError):
        generate(-1)


def test_most_grades_are_below_b_and_a_is_rare() -> None:
    grades = Counter(row["grade"] for row in ROWS)
    n = len(ROWS)
    below_b = grades["未评级"] + grades["D"] + grades["C"] + grades["非引领性"]
    assert below_b / n > 0.8
    assert 0.06 < (grades["B"] + grades["B-"]) / n < 0.14
    assert 0.01 < grades["A"] / n < 0.04
    assert set(grades) <= {"未评级", "D", "C", "B-", "B", "A", "非引领性", "引领性"}


def test_every_industry_is_in_the_calendar_vocabulary_and_other_sectors_keep_their_wording() -> None:
    vocabulary = parse(default_text()).industries
    assert set(INDUSTRIES) == set(vocabulary.industries)
    assert all(vocabulary.normalise(row["industry"]) == row["industry"] for row in ROWS)
    assert OTHER_SECTORS == {"砖瓦窑": "其他", "陶瓷": "其他", "家具制造": "其他", "制药": "化工", "农药": "化工"}
    details = Counter((r["industry"], r["industry_detail"]) for r in ROWS if r["industry_detail"])
    assert set(details) == {(ind, sector) for sector, ind in OTHER_SECTORS.items()}
    assert all(r["industry_detail"] for r in ROWS if r["industry"] == "其他")


def test_grades_lie_on_the_industry_scale_and_only_chemicals_use_the_leading_scale() -> None:
    vocabulary = parse(default_text()).industries
    assert {"化工"} == LEADING_SCALE_INDUSTRIES
    for row in ROWS:
        assert row["grade"] in vocabulary.grades_for(row["industry"])
        if row["industry"] not in LEADING_SCALE_INDUSTRIES:
            assert row["grade"] in {"未评级", "D", "C", "B-", "B", "A"}
    leading = Counter(r["grade"] for r in ROWS if r["industry_detail"] == "制药")
    assert leading.most_common(1)[0][0] == "非引领性"


def test_every_rated_enterprise_has_its_rating_document_and_publicized_ule_its_evidence() -> None:
    for row in ROWS:
        assert bool(row["rating_doc"]) == (row["grade"] != "未评级")
        published = row["ule"] == "publicized"
        assert bool(row["ule_ref"]) == published and bool(row["ule_date"]) == published
        if published:
            assert date.fromisoformat(row["ule_date"]) < date(2024, 1, 1)
    docs = [r["rating_doc"] for r in ROWS if r["rating_doc"]]
    assert all(d.startswith("豫环绩效〔") and d.endswith("号") for d in docs)


def test_ule_is_set_exactly_for_steel_cement_and_coking() -> None:
    assert {"钢铁", "水泥", "焦化"} == ULE_INDUSTRIES == parse(default_text()).ule_industries
    for row in ROWS:
        if row["industry"] in ULE_INDUSTRIES:
            assert row["ule"] in ULE_STATUSES
        else:
            assert row["ule"] == ""
    assert {r["ule"] for r in ROWS if r["industry"] in ULE_INDUSTRIES} == set(ULE_STATUSES)


def test_an_a_grade_ule_plant_has_completed_its_retrofit() -> None:
    a_grade = [r for r in ROWS if r["industry"] in ULE_INDUSTRIES and r["grade"] == "A"]
    assert a_grade and all(r["ule"] in {"completed", "publicized"} for r in a_grade)


def test_a_few_percent_are_livelihood_enterprises() -> None:
    share = sum(row["livelihood"] == "1" for row in ROWS) / len(ROWS)
    assert {row["livelihood"] for row in ROWS} == {"0", "1"}
    assert 0.015 < share < 0.05


def test_names_are_plausible_and_mostly_unique() -> None:
    names = [row["name"] for row in ROWS]
    assert all(name.endswith("公司") and len(name) >= 8 for name in names)
    assert len(set(names)) / len(names) > 0.98


def test_generate_streams_instead_of_building_a_list() -> None:
    rows = generate(10**8)
    assert inspect.isgenerator(rows)
    assert len(list(islice(rows, 3))) == 3


def test_write_csv_round_trips_through_dictreader_with_chinese_headers(tmp_path: Path) -> None:
    path = tmp_path / "enterprises.csv"
    assert write_csv(path, generate(200, seed=3)) == 200
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM so Excel reads UTF-8
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == [HEADERS_ZH[f] for f in FIELDS]
        back = [{key: row[HEADERS_ZH[key]] for key in FIELDS} for row in reader]
    assert back == list(generate(200, seed=3))


def test_write_csv_can_use_the_english_keys_as_headers(tmp_path: Path) -> None:
    path = tmp_path / "enterprises.csv"
    assert write_csv(path, generate(5), chinese_headers=False) == 5
    with path.open(encoding="utf-8-sig", newline="") as fh:
        assert list(csv.DictReader(fh)) == list(generate(5))
