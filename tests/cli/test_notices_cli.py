"""`campaign notices …` and `campaign contact …` through the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pytest

from notifications import enqueue
from tests.conftest import Cli
from tests.helpers import notices as notices_helper
from tests.helpers.notices import NOW, enqueue_notice, listing, query


def test_a_reminder_is_listed_shown_and_written_to_the_outbox(campaign: Cli) -> None:
    nid = enqueue_notice(campaign)
    assert enqueue_notice(campaign) is None  # same key: not twice
    (row,) = listing(campaign)
    assert {k: row[k] for k in ("id", "kind", "city", "code", "due", "created_at", "status")} == {
        "id": nid, "kind": "reminder", "city": "许昌市", "code": None, "due": "2024-05-31",
        "created_at": "2024-05-24T01:00:00.000000Z", "status": "pending"}
    shown = campaign("notices", "show", str(nid), now=NOW).stdout
    assert shown.startswith("关于按时报送附件1《许昌市绩效提升企业培育清单》的提醒函\n")
    assert "2024年5月31日（星期五）前" in shown
    assert "已送达 1 条" in campaign("notices", "deliver", now=NOW).stdout
    outbox = campaign.home / "outbox" / f"{nid:06d}-reminder-许昌市.txt"
    assert "截止日期：2024年5月31日（星期五）" in outbox.read_text("utf-8")
    assert listing(campaign, "--status", "delivered")[0]["id"] == nid
    assert listing(campaign, "--status", "pending") == []
    r = campaign("notices", "show", "999", now=NOW, expect=1)
    assert "999" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_the_list_resolves_its_city_as_contact_does_and_refuses_an_unknown_one(campaign: Cli) -> None:
    nid = enqueue_notice(campaign)
    provincial = enqueue_notice(campaign, key="p", city=None)
    assert [r["id"] for r in listing(campaign, "--city", "许昌")] == [nid]
    assert [r["id"] for r in listing(campaign, "--city", "省级")] == [provincial]
    r = campaign("notices", "list", "--city", "火星", now=NOW, expect=1)
    assert "未知城市 '火星'" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_contacts_are_validated_audited_and_their_webhook_key_is_never_shown(campaign: Cli) -> None:
    hook = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRET-KEY-123"
    out = campaign("contact", "add", "--city", "许昌", "--email", "dqk@xuchang.gov.cn", "--webhook", hook,
                   "--name", "大气科", now=NOW, actor="许昌联络员").stdout
    assert "SECRET" not in out and "key=***" in out
    r = campaign("contact", "add", "--city", "郑州市", "--email", "a@zz.gov.cn", now=NOW,
                 actor="许昌联络员", expect=1)
    assert "城市范围" in r.stderr  # the permission matrix's rule, as for every other write
    r = campaign("contact", "add", "--city", "许昌市", "--email", "a@xc.gov.cn", now=NOW, actor="王专家", expect=1)
    assert "权限" in r.stderr and "city_coordinator" in r.stderr
    assert "格式不正确" in campaign("contact", "add", "--city", "许昌市", "--email", "not-an-address",
                                     now=NOW, actor="许昌联络员", expect=1).stderr
    assert "--email" in campaign("contact", "add", "--city", "许昌市", now=NOW, actor="许昌联络员",
                                 expect=1).stderr
    assert "未知城市" in campaign("contact", "add", "--city", "火星市", "--email", "a@b.cn", now=NOW,
                                  actor="省管理员", expect=1).stderr
    campaign("contact", "add", "--city", "省级", "--email", "dqc@hnep.gov.cn", now=NOW, actor="省管理员")
    rows = json.loads(campaign("contact", "list", "--json", now=NOW).stdout)
    assert [(r["city"], r["email"]) for r in rows] == [("许昌市", "dqk@xuchang.gov.cn"), (None, "dqc@hnep.gov.cn")]
    assert rows[0]["webhook"] == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***"
    payloads = [r[0] for r in query(campaign, "SELECT payload FROM audit_entry WHERE event = 'contact_add'")]
    assert len(payloads) == 2 and not any("SECRET" in p for p in payloads)
    assert "城市范围" in campaign("contact", "remove", str(rows[1]["id"]), now=NOW, actor="许昌联络员",
                                  expect=1).stderr
    campaign("contact", "remove", str(rows[0]["id"]), now=NOW, actor="许昌联络员")
    assert [r["city"] for r in json.loads(campaign("contact", "list", "--json", now=NOW).stdout)] == [None]
    assert len(json.loads(campaign("contact", "list", "--all", "--json", now=NOW).stdout)) == 2
    campaign("audit", "verify", now=NOW)


def test_a_notice_whose_template_is_broken_is_kept_failed_and_retried_after_the_fix(
        campaign: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tdir = tmp_path / "templates"
    tdir.mkdir()
    (tdir / "reminder.j2").write_text("{{ city }}提醒函\n\n请于{{ deadline }}前报送。\n", encoding="utf-8")
    # what the scheduler's context carries to enqueue: the run's settings, not the environment
    monkeypatch.setattr(notices_helper, "enqueue", partial(enqueue, settings={"CAMPAIGN_TEMPLATES": str(tdir)}))
    campaign.env["CAMPAIGN_TEMPLATES"] = str(tdir)
    nid = enqueue_notice(campaign)
    (row,) = listing(campaign, "--status", "failed")
    assert row["id"] == nid and "reminder.j2 第 3 行" in row["error"] and "deadline" in row["error"]
    assert "通知未能生成" in campaign("notices", "show", str(nid), now=NOW).stdout
    assert "失败 1 条" in campaign("notices", "retry", str(nid), now=NOW).stdout  # still broken
    (tdir / "reminder.j2").write_text("{{ city }}提醒函\n\n请于{{ due | cn_date }}前报送。\n", encoding="utf-8")
    assert "已送达 1 条" in campaign("notices", "retry", now=NOW).stdout
    shown = campaign("notices", "show", str(nid), now=NOW).stdout
    assert shown.startswith("许昌市提醒函\n\n请于2024年5月31日前报送。\n")
    assert "已送达 0 条" in campaign("notices", "retry", now=NOW).stdout  # nothing left to retry
    assert "已送达" in campaign("notices", "retry", str(nid), now=NOW, expect=1).stderr


def test_preview_renders_every_kind_and_names_the_line_of_a_hostile_template(
        sqlite_cli: Cli, tmp_path: Path) -> None:
    from notifications.kinds import KINDS

    for kind, spec in KINDS.items():
        out = sqlite_cli("notices", "preview", kind).stdout
        assert out.splitlines()[0] and "河南省生态环境厅" in out, kind
        assert spec.title
    tdir = tmp_path / "hostile"
    tdir.mkdir()
    (tdir / "overdue.j2").write_text("催办\n\n{% for i in range(99999) %}{% for j in range(99999) %}"
                                     "{% endfor %}{% endfor %}\n", encoding="utf-8")
    (tdir / "publicity.j2").write_text("公示\n{{ ''.__class__.__mro__ }}\n", encoding="utf-8")
    sqlite_cli.env["CAMPAIGN_TEMPLATE_TIMEOUT"] = "0.3"
    r = sqlite_cli("notices", "preview", "overdue", "--templates", str(tdir), expect=1)
    assert "overdue.j2 第 3 行" in r.stderr and "超时" in r.stderr
    r = sqlite_cli("notices", "preview", "publicity", "--templates", str(tdir), expect=1)
    assert "publicity.j2 第 2 行" in r.stderr and "unsafe" in r.stderr
    assert "许昌市" in sqlite_cli("notices", "preview", "reminder", "--templates", str(tdir)).stdout
    assert "未知通知类型" in sqlite_cli("notices", "preview", "nosuch", expect=1).stderr
    kinds = json.loads(sqlite_cli("notices", "kinds", "--json").stdout)
    assert {k["kind"] for k in kinds} >= {"reminder", "overdue", "evaluation_missing", "request_due",
                                          "request_overdue", "ready_to_certify", "publicity",
                                          "certification_result", "disqualified"}
