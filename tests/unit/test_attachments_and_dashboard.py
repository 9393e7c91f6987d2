"""Pure pieces of the attachments and the dashboard: titles, kinds, periods, page markup."""

from __future__ import annotations

from datetime import date

import pytest

from workflow.domain.plan import default_text, parse
from workflow.errors import InvalidInput
from workflow.reports.dashboard import pct, render
from workflow.reports.exports import normalise_kind, scope
from workflow.reports.sheets import city_title
from workflow.reports.writers import check_out, text_width
from workflow.store.campaigns import CampaignRef

CAMP = CampaignRef(1, 2024, parse(default_text()))


def test_the_plan_titles_take_the_city_in_place_of_xx() -> None:
    assert city_title("XX市（区）绩效提升企业培育清单", "许昌市") == "许昌市绩效提升企业培育清单"
    assert city_title("XX市绩效提升培育验收通过企业名单", "郑州航空港经济综合实验区") == \
        "郑州航空港经济综合实验区绩效提升培育验收通过企业名单"
    assert city_title("XX企业绩效提升跟踪评估情况", "许昌市") == "许昌市企业绩效提升跟踪评估情况"
    assert city_title("开展设备更新企业名单", "许昌市") == "开展设备更新企业名单"


def test_attachments_are_named_in_several_ways_and_unknown_ones_are_refused() -> None:
    assert normalise_kind("attachment3") == normalise_kind("3") == normalise_kind("附件3") == "attachment3"
    with pytest.raises(InvalidInput, match="attachment1"):
        normalise_kind("attachment6")


def test_the_accepted_list_of_october_covers_august_to_october() -> None:
    sc = scope(CAMP, "attachment5", "2024-10", date(2024, 10, 31))
    assert (sc.after, sc.until) == (date(2024, 7, 31), date(2024, 10, 31))
    first = scope(CAMP, "attachment5", "2024-07", date(2024, 7, 31))
    assert (first.after, first.until) == (None, date(2024, 7, 31))
    with pytest.raises(InvalidInput, match="2024-07"):
        scope(CAMP, "attachment5", "2024-08", date(2024, 8, 31))


def test_the_tracking_evaluation_defaults_to_this_month_within_the_campaign() -> None:
    assert scope(CAMP, "attachment4", None, date(2024, 8, 15)).period == "2024-08"
    with pytest.raises(InvalidInput, match="--period"):
        scope(CAMP, "attachment4", None, date(2025, 2, 1))
    with pytest.raises(InvalidInput, match="YYYY-MM"):
        scope(CAMP, "attachment4", "2024-8", date(2024, 8, 15))


def test_only_xlsx_and_csv_outputs_are_accepted(tmp_path: object) -> None:
    with pytest.raises(InvalidInput, match=r"\.xlsx"):
        check_out("清单.docx")
    with pytest.raises(InvalidInput, match="不存在"):
        check_out("/no/such/dir/清单.xlsx")


def test_cjk_text_is_twice_as_wide_and_small_progress_keeps_a_decimal() -> None:
    assert text_width("许昌市A") == 7
    assert (pct(None), pct(0.005), pct(0.0), pct(1.13)) == ("—", "0.5%", "0%", "113%")


def _line(city: str, target: int, achieved: int) -> dict[str, object]:
    return {"city": city, "target": target, "achieved": achieved, "in_pipeline": 2, "gap": target - achieved,
            "progress": achieved / target, "participations": 5, "by_state": {}}


def test_the_page_is_self_contained_and_escapes_what_it_shows() -> None:
    province = {**_line("全省", 600, 3), "city_targets": 630}
    targets = {"name": "创A晋B<行动>", "as_of": "2024-09-20", "province": province,
               "cities": [_line("许昌市", 35, 1)]}
    funnel = {"stages": [{"state": "cultivation", "zh": "培育", "count": 1, "reached": 3}],
              "exits": {"withdrawn": 1}, "transitions": []}
    overdue = {"deliverables": [{"kind": "attachment1", "label": "附件1", "title": "培育清单"}],
               "matrix": [{"city": "许昌市", "cells": {"attachment1": {"overdue": 1}}}], "enterprises": []}
    phases = [{"title": "谋划部署阶段", "opens": date(2024, 5, 1), "closes": date(2024, 5, 31)},
              {"title": "认定应用阶段", "opens": date(2024, 9, 1), "closes": date(2024, 12, 31)}]
    html = render(targets, funnel, overdue, phases, [{"label": "附件1", "due": date(2024, 5, 31)}],
                  date(2024, 9, 20))
    assert "创A晋B&lt;行动&gt;" in html and "<行动>" not in html
    assert 'data-city="许昌市"' in html and '<td data-field="achieved">1</td>' in html
    assert "<script" not in html and "http" not in html
    assert "逾期1" in html and "今天 2024-09-20" in html and "附件1：5月31日" in html
