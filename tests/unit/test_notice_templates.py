"""Notice templates: the packaged ones in official style, and broken or hostile overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifications import kinds
from notifications.filters import cn_date, cn_date_week, cn_grade, fill_city
from notifications.render import RenderError, render
from notifications.settings import load
from workflow.errors import InvalidInput


def override(tmp_path: Path, kind: str, text: str) -> Path:
    (tmp_path / f"{kind}.j2").write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("kind", sorted(kinds.KINDS))
def test_every_kind_renders_its_sample_with_a_title_line_and_the_authority(kind: str) -> None:
    spec = kinds.KINDS[kind]
    r = render(kind, spec.sample)
    assert r.subject and "\n" not in r.subject
    assert "河南省生态环境厅" in r.text
    assert "{{" not in r.text and "{%" not in r.text
    assert r.template == f"packaged:{kind}.j2"


def test_dates_are_written_the_chinese_official_way_with_the_weekday() -> None:
    assert cn_date("2024-05-31") == "2024年5月31日"
    assert cn_date_week("2024-06-15") == "2024年6月15日（星期六）"
    assert cn_grade("B-") == "B-级" and cn_grade("引领性") == "绩效引领性"


def test_the_reminder_names_the_attachment_the_city_and_the_due_date_as_the_plan_does() -> None:
    text = render("reminder", kinds.KINDS["reminder"].sample).text
    assert "附件1《许昌市绩效提升企业培育清单》" in text
    assert "2024年5月31日（星期五）前" in text
    assert text.splitlines()[2] == "许昌市生态环境局："
    assert fill_city("XX市绩效提升培育验收通过企业名单", "洛阳市") == "洛阳市绩效提升培育验收通过企业名单"


@pytest.mark.parametrize("kind", ["request_due", "request_overdue"])
def test_a_request_notice_states_the_reply_limit_its_context_gives_not_a_fixed_five(kind: str) -> None:
    text = render(kind, {**kinds.KINDS[kind].sample, "reply_workdays": 7}).text
    assert "应在收到后7个工作日内、即2024年6月11日（星期二）前答复企业" in text
    assert "5个" not in text


def test_the_publicity_notice_lists_every_enterprise_its_period_and_where_objections_go() -> None:
    sample = kinds.KINDS["publicity"].sample
    text = render("publicity", {**sample, "publicity_workdays": 7, "publicity_end": "2024-09-11",
                                "objections_until": "2024-09-11"}).text
    assert "拟对以下2家企业" in text
    assert ("1. 许昌恒达耐材有限公司（统一社会信用代码：91410100MA45C2R1XL，所属行业：耐材），"
            "绩效等级由C级拟认定为B级；") in text
    assert "2. 许昌瑞丰铸造有限公司" in text and "由B-级拟认定为A级。" in text
    assert "公示期为7个工作日（自公示次日起算），自2024年9月2日起至2024年9月11日（星期三）止。" in text
    assert "请于2024年9月11日（星期三）前以书面形式向许昌市生态环境局反映" in text


def test_the_certification_result_gives_each_grade_its_control_and_the_positive_list() -> None:
    text = render("certification_result", kinds.KINDS["certification_result"].sample).text
    assert text.splitlines()[0] == "关于许昌市2家企业绩效等级认定结果的通知"
    assert "由C级认定为B级，预警期间差异化管控：降低减排要求（限产代替停产）；" in text
    assert "由B-级认定为A级，预警期间自主采取减排措施，纳入正面清单，实施“无打扰”监管。" in text


def test_the_disqualified_notice_names_the_grade_the_enterprise_returns_to() -> None:
    sample = kinds.KINDS["disqualified"].sample
    assert "撤销其B级认定，其绩效等级恢复为C级" in render("disqualified", sample).text
    text = render("disqualified", {**sample, "certified_grade": None}).text  # disqualified before certification
    assert "撤销" not in text and "其绩效等级恢复为C级" in text


def test_an_override_template_replaces_the_packaged_one(tmp_path: Path) -> None:
    d = override(tmp_path, "reminder", "{{ city }}提醒\n\n请于{{ due | cn_date }}前报送。\n")
    r = render("reminder", kinds.KINDS["reminder"].sample, templates=d)
    assert r.subject == "许昌市提醒" and r.body == "请于2024年5月31日前报送。"
    assert r.template == str(d.resolve() / "reminder.j2")


def test_a_syntax_error_names_the_template_and_the_line(tmp_path: Path) -> None:
    d = override(tmp_path, "overdue", "标题\n\n{% if city %}\n没有结束\n")
    with pytest.raises(RenderError) as err:
        render("overdue", kinds.KINDS["overdue"].sample, templates=d, timeout=1)
    assert err.value.template.endswith("overdue.j2") and err.value.line >= 3
    assert "语法错误" in str(err.value) and "overdue.j2" in str(err.value)


def test_an_undefined_variable_names_the_template_the_line_and_the_variable(tmp_path: Path) -> None:
    d = override(tmp_path, "publicity", "标题\n\n正文\n{{ no_such_key }}\n")
    with pytest.raises(RenderError) as err:
        render("publicity", kinds.KINDS["publicity"].sample, templates=d, timeout=1)
    assert err.value.line == 4 and "no_such_key" in err.value.reason


def test_attribute_access_to_python_internals_is_refused_by_the_sandbox(tmp_path: Path) -> None:
    d = override(tmp_path, "reminder", "标题\n{{ city.__class__.__mro__[1].__subclasses__() }}\n")
    with pytest.raises(RenderError) as err:
        render("reminder", kinds.KINDS["reminder"].sample, templates=d, timeout=1)
    assert err.value.line == 2 and "unsafe" in err.value.reason


def test_a_template_that_never_ends_is_stopped_at_the_time_limit_naming_the_line(tmp_path: Path) -> None:
    d = override(tmp_path, "reminder",
                 "标题\n\n{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}\n")
    with pytest.raises(RenderError) as err:
        render("reminder", kinds.KINDS["reminder"].sample, templates=d, timeout=0.3)
    assert "超时" in err.value.reason and err.value.line == 3


def test_a_huge_range_or_repetition_is_refused_before_it_runs(tmp_path: Path) -> None:
    d = override(tmp_path, "reminder", "标题\n{% for i in range(10**9) %}x{% endfor %}\n")
    with pytest.raises(RenderError) as err:
        render("reminder", kinds.KINDS["reminder"].sample, templates=d, timeout=1)
    assert err.value.line == 2
    d = override(tmp_path, "reminder", "标题\n{{ 'a' * 10**8 }}\n")
    with pytest.raises(RenderError, match="repetition too large"):
        render("reminder", kinds.KINDS["reminder"].sample, templates=d, timeout=1)


def test_output_beyond_the_size_limit_is_refused(tmp_path: Path) -> None:
    d = override(tmp_path, "reminder", "标题\n{% for i in range(50000) %}0123456789{% endfor %}\n")
    with pytest.raises(RenderError, match="上限"):
        render("reminder", kinds.KINDS["reminder"].sample, templates=d, timeout=1)


def test_an_override_may_not_include_files_outside_the_template_directories(tmp_path: Path) -> None:
    d = override(tmp_path, "reminder", "标题\n{% include '../../../etc/passwd' %}\n")
    with pytest.raises(RenderError, match="找不到模板"):
        render("reminder", kinds.KINDS["reminder"].sample, templates=d, timeout=1)


def test_smtp_password_comes_from_a_file_and_is_never_shown(tmp_path: Path) -> None:
    secret = tmp_path / "smtp.pass"
    secret.write_text("s3cret-pw\n", encoding="utf-8")
    s = load(tmp_path, {"CAMPAIGN_SMTP_HOST": "mail.example.cn", "CAMPAIGN_SMTP_USER": "u",
                        "CAMPAIGN_SMTP_PASSWORD_FILE": str(secret)})
    assert s.smtp is not None and s.smtp.password == "s3cret-pw"
    assert s.smtp.port == 587 and s.smtp.tls == "starttls"
    assert "s3cret" not in repr(s)
    assert s.outbox == tmp_path / "outbox"


@pytest.mark.parametrize("env, says", [
    ({"CAMPAIGN_SMTP_PORT": "25", "CAMPAIGN_SMTP_USER": "u"}, "缺少 CAMPAIGN_SMTP_HOST"),
    ({"CAMPAIGN_SMTP_HOST": "mail", "CAMPAIGN_SMTP_USER": "u"}, "应同时设置"),
    ({"CAMPAIGN_SMTP_HOST": "mail", "CAMPAIGN_SMTP_PASSWORD": "pw"}, "应同时设置"),
    ({"CAMPAIGN_SMTP_HOST": "mail", "CAMPAIGN_SMTP_PORT": "99999"}, "1 到 65535"),
    ({"CAMPAIGN_SMTP_HOST": "mail", "CAMPAIGN_SMTP_PORT": "25.5"}, "1 到 65535"),
])
def test_smtp_settings_set_by_half_are_refused_not_skipped_silently(
        tmp_path: Path, env: dict[str, str], says: str) -> None:
    with pytest.raises(InvalidInput, match=says) as info:
        load(tmp_path, env)
    assert "pw" not in str(info.value)


def test_a_retry_cap_below_a_minute_still_waits_a_minute(tmp_path: Path) -> None:
    assert load(tmp_path, {"CAMPAIGN_RETRY_MAX_MINUTES": "0.5"}).retry_max_minutes == 1
