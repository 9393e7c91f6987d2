"""The notices events cause (公示, 认定结果, 取消评级资格), written with the event, through the CLI,
and every number in a notice taken from the data and the calendar (issue 11)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Cli
from tests.helpers import progress
from tests.helpers.progress import X1, X2, Z1, Z2

NAMES = {c: n for c, n, *_ in progress.ENTERPRISES}


def listed(cli: Cli, kind: str, now: str = "2024-09-12") -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(cli("notices", "list", "--kind", kind, "--json", now=now).stdout)
    return rows


def text_of(cli: Cli, row: dict[str, Any], now: str = "2024-09-12") -> str:
    shown: dict[str, Any] = json.loads(cli("notices", "show", str(row["id"]), "--json", now=now).stdout)
    assert shown["status"] == "pending" and not shown["error"]
    return str(shown["text"])


def by_city(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["city"]: r for r in rows}


def test_one_publicity_notice_per_command_and_city_lists_every_enterprise_with_the_period(cli: Cli) -> None:
    progress.build(cli)  # 许昌 publicises X1, X2 in one batch, 郑州 Z1, Z2 in another, on 2024-09-02
    rows = listed(cli, "publicity")
    assert sorted(r["city"] for r in rows) == ["许昌市", "郑州市"]  # one per command, not one per enterprise
    xu = by_city(rows)["许昌市"]
    assert xu["code"] is None and xu["due"] == "2024-09-09"  # the 5th working day after 09-02
    text = text_of(cli, xu)
    assert text.splitlines()[0] == "许昌市重污染天气重点行业绩效分级认定结果公示"
    assert "拟对以下2家企业" in text
    assert f"1. {NAMES[X1]}（统一社会信用代码：{X1}，所属行业：耐材），绩效等级由C级拟认定为B级；" in text
    assert f"2. {NAMES[X2]}（统一社会信用代码：{X2}，所属行业：铸造），绩效等级由B-级拟认定为B级。" in text
    assert "公示期为5个工作日（自公示次日起算），自2024年9月2日起至2024年9月9日（星期一）止" in text
    assert "请于2024年9月9日（星期一）前以书面形式向许昌市生态环境局反映" in text
    assert NAMES[Z1] not in text
    zz = text_of(cli, by_city(rows)["郑州市"])
    assert f"{NAMES[Z1]}（统一社会信用代码：{Z1}" in zz and f"{NAMES[Z2]}（统一社会信用代码：{Z2}" in zz
    assert "由未评级拟认定为A级" in zz and "由非引领性拟认定为绩效引领性" in zz


def test_certification_makes_one_result_notice_per_city_with_each_new_grade(cli: Cli) -> None:
    progress.build(cli)  # the province certifies X1, X2, Z1, Z2 in one batch on 2024-09-12
    rows = listed(cli, "certification_result")
    assert sorted(r["city"] for r in rows) == ["许昌市", "郑州市"]
    xu = text_of(cli, by_city(rows)["许昌市"])
    assert xu.splitlines()[0] == "关于许昌市2家企业绩效等级认定结果的通知"
    assert xu.splitlines()[2] == "许昌市生态环境局："
    assert "自2024年9月12日起" in xu
    assert f"{NAMES[X1]}（统一社会信用代码：{X1}），由C级认定为B级" in xu
    assert f"{NAMES[X2]}（统一社会信用代码：{X2}），由B-级认定为B级" in xu
    assert "正面清单" not in xu  # B is not on the positive list
    zz = text_of(cli, by_city(rows)["郑州市"])
    assert f"{NAMES[Z1]}（统一社会信用代码：{Z1}），由未评级认定为A级，预警期间自主采取减排措施，纳入正面清单" in zz
    assert f"{NAMES[Z2]}（统一社会信用代码：{Z2}），由非引领性认定为绩效引领性" in zz


def test_disqualification_notice_names_the_reason_and_the_grade_the_enterprise_returns_to(cli: Cli) -> None:
    progress.build(cli)
    now = "2024-10-08"
    cli("advance", X1, "disqualify", now=now, actor="省管理员", expect=1)  # no reason: refused, no notice
    assert listed(cli, "disqualified", now) == []
    cli("advance", X1, "disqualify", "--reason", "企业提供虚假监测数据", now=now, actor="省管理员")
    (row,) = listed(cli, "disqualified", now)
    assert (row["city"], row["code"]) == ("许昌市", X1)  # the kind also goes to the province's contacts
    text = text_of(cli, row, now)
    assert text.splitlines()[0] == f"关于取消{NAMES[X1]}评级资格的通知"
    assert "存在以下问题：企业提供虚假监测数据。" in text
    assert "自2024年10月8日起取消该企业本次评级资格，撤销其B级认定，其绩效等级恢复为C级" in text
    cli("notices", "deliver", now=now)
    (outbox,) = (cli.home / "outbox").glob("*-disqualified-许昌市.txt")
    assert "企业提供虚假监测数据" in outbox.read_text("utf-8")


def test_the_same_events_never_make_a_notice_twice(cli: Cli) -> None:
    from sqlalchemy import select

    from models.db import UnitOfWork, make_engine
    from models.tables import AuditEntry, table
    from workflow.clock import FixedClock, parse_instant
    from workflow.context import Context
    from workflow.services import announcements
    from workflow.store.campaigns import campaign

    progress.build(cli)
    before = listed(cli, "publicity") + listed(cli, "certification_result")
    assert len(before) == 4
    a = table(AuditEntry).c
    engine = make_engine(cli.db)
    try:
        ctx = Context(engine, clock=FixedClock(parse_instant("2024-09-12")), home=cli.home)
        with UnitOfWork(engine) as uow:
            done = [{"code": r.code, "event": r.event, "seq": r.seq, "from_state": r.from_state,
                     "to_state": r.to_state}
                    for r in uow.session.execute(select(a.code, a.event, a.seq, a.from_state, a.to_state)
                                                 .where(a.event.in_(("publicize", "certify")))
                                                 .order_by(a.seq)).all()]
            assert len(done) == 8
            announcements.emit(uow.session, ctx, campaign(uow.session, ctx), done[:2])  # 许昌's publicity
            announcements.emit(uow.session, ctx, campaign(uow.session, ctx), done[4:])  # the certification
            uow.commit()
    finally:
        engine.dispose()
    assert listed(cli, "publicity") + listed(cli, "certification_result") == before


def test_every_number_in_a_notice_comes_from_the_calendar(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from workflow.domain import plan
    from workflow.services import setup

    text = plan.default_text()
    assert "publicity_workdays = 5" in text and "request_reply_workdays = 5" in text
    custom = text.replace("publicity_workdays = 5", "publicity_workdays = 7").replace(
        "request_reply_workdays = 5", "request_reply_workdays = 7")
    monkeypatch.setattr(setup, "default_text", lambda: custom)  # `campaign init` loads this calendar
    progress.build(cli)
    (xu,) = [r for r in listed(cli, "publicity") if r["city"] == "许昌市"]
    assert xu["due"] == "2024-09-11"  # the 7th working day after 09-02
    notice = text_of(cli, xu)
    assert "公示期为7个工作日" in notice and "至2024年9月11日（星期三）止" in notice and "5个工作日" not in notice

    opened = json.loads(cli("request", "open", X1, "--subject", "申请除尘设施改造技术指导", "--json",
                            now="2024-09-12", actor="许昌联络员").stdout)
    assert opened["due"] == "2024-09-24"  # 7 working days (09-14 is a make-up Saturday, 09-16/17 holidays)
    cli("scheduler", "tick", "--no-deliver", now="2024-09-23")
    (due,) = listed(cli, "request_due", "2024-09-23")
    reminder = text_of(cli, due, "2024-09-23")
    assert "应在收到后7个工作日内、即2024年9月24日（星期二）前答复企业" in reminder
    assert "5个工作日" not in reminder
    cli("scheduler", "tick", "--no-deliver", now="2024-09-25")
    (late,) = listed(cli, "request_overdue", "2024-09-25")
    assert "应在收到后7个工作日内" in text_of(cli, late, "2024-09-25")
