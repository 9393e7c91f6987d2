"""The enterprise page (workflow.services.dossier): only in scope, the events the person may try now
with the fields each needs, the history with every entry's hash checked, the last full verify, and
the optimistic version a submitted form carries."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from models.db import make_engine
from tests.conftest import CODE, DOC, Cli
from tests.helpers.audit import drop_triggers, execute
from tests.helpers.lifecycle import ENROLL
from tests.helpers.workspace import acting
from workflow import api
from workflow.domain.creditcode import make
from workflow.errors import ConcurrentChange, InvalidInput, NotFound
from workflow.services.dossier import FieldSpec, dossier, request_from_form

ZZ = make("91410100000000077")  # a 郑州 enterprise


def _events(cli: Cli, actor: str, now: str) -> list[str]:
    with acting(cli, actor, now) as ctx:
        return [a.event for a in dossier(ctx, CODE).actions]


def _fill(fields: tuple[FieldSpec, ...], **given: str) -> dict[str, str]:
    return {f.name: given.get(f.name, "x") for f in fields}


def _count(db: str, sql: str) -> object:
    engine = make_engine(db)
    try:
        with engine.connect() as c:
            return c.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()


def test_an_enterprise_outside_the_scope_is_not_found_like_an_unknown_one(campaign: Cli) -> None:
    campaign("enterprise", "add", "--code", ZZ, "--name", "郑州华通耐材有限公司", "--city", "郑州市",
             "--industry", "耐材", "--grade", "C", "--rating-doc", DOC, now="2024-05-06", actor="郑州联络员")
    unknown = make("91410100000000093")
    for actor in ("许昌联络员", "许昌评审", "王专家"):
        with acting(campaign, actor, "2024-05-20") as ctx:
            with pytest.raises(NotFound) as outside:
                dossier(ctx, ZZ)
            with pytest.raises(NotFound) as nowhere:
                dossier(ctx, unknown)
        assert type(outside.value) is type(nowhere.value)
        assert str(outside.value) == str(nowhere.value).replace(unknown, ZZ)
    with acting(campaign, "郑州联络员", "2024-05-20") as ctx:
        assert dossier(ctx, ZZ).city == "郑州市"
        with pytest.raises(NotFound):
            dossier(ctx, CODE)
    with acting(campaign, "省复核员", "2024-05-20") as ctx:
        assert dossier(ctx, ZZ).name == "郑州华通耐材有限公司"  # province roles see the province


def test_the_actions_follow_the_state_the_role_and_the_window(campaign: Cli) -> None:
    with acting(campaign, "许昌联络员", "2024-05-20") as ctx:
        page = dossier(ctx, CODE)
    assert page.state is None and page.state_label == "未纳入" and page.version is None
    assert [p.status for p in page.phases] == ["todo"] * 6
    (enroll,) = page.actions
    assert enroll.event == "enroll" and enroll.label == "纳入培育清单"
    assert [(f.name, f.kind, f.required) for f in enroll.fields] == [
        ("consent", "text", True), ("target_grade", "select", True)]
    assert enroll.fields[1].choices == ("B-", "B", "A")  # above the current C
    assert _events(campaign, "王专家", "2024-05-20") == []
    with acting(campaign, "郑州联络员", "2024-05-20") as ctx, pytest.raises(NotFound):
        dossier(ctx, CODE)
    campaign(*ENROLL, now="2024-05-20", actor="许昌联络员")
    # start_assistance opens 06-01: not offered before; withdraw has no window
    assert _events(campaign, "许昌联络员", "2024-05-25") == ["withdraw"]
    assert _events(campaign, "许昌联络员", "2024-06-03") == ["start_assistance", "withdraw"]
    assert _events(campaign, "省管理员", "2024-06-03") == ["start_assistance", "withdraw", "disqualify"]
    assert _events(campaign, "王专家", "2024-06-03") == []
    campaign("advance", CODE, "start_assistance", now="2024-06-03", actor="许昌联络员")
    assert _events(campaign, "王专家", "2024-06-04") == ["record_pre_assessment", "submit_plan"]
    assert _events(campaign, "许昌联络员", "2024-06-04") == ["withdraw"]  # begin_tracking opens 06-15
    assert _events(campaign, "许昌联络员", "2024-06-15") == ["begin_tracking", "withdraw"]
    with acting(campaign, "许昌联络员", "2024-06-15") as ctx:
        page = dossier(ctx, CODE)
    assert (page.state, page.state_label, page.version, page.cycle) == ("assistance", "帮扶服务", 2, 1)
    assert [p.status for p in page.phases] == ["done", "current", "todo", "todo", "todo", "todo"]
    assert [p.label for p in page.phases] == ["培育", "帮扶服务", "跟踪评估", "验收", "省级复核", "认定"]
    withdraw = next(a for a in page.actions if a.event == "withdraw")
    assert [(f.name, f.required) for f in withdraw.fields] == [("reason", True)]
    with acting(campaign, "王专家", "2024-11-16") as ctx:  # the window closed 11-15
        assert [a.event for a in dossier(ctx, CODE).actions] == []


def test_every_step_can_be_taken_with_the_fields_its_form_asks_for(campaign: Cli) -> None:
    steps = [("许昌联络员", "2024-05-20", "enroll", {"target_grade": "B"}),
             ("许昌联络员", "2024-06-03", "start_assistance", {}),
             ("王专家", "2024-06-05", "record_pre_assessment", {}),
             ("王专家", "2024-06-10", "submit_plan", {"data:completion_date": "2024-09-30"}),
             ("许昌联络员", "2024-06-17", "begin_tracking", {}),
             ("王专家", "2024-07-20", "record_evaluation", {"month": "2024-07"}),
             ("许昌联络员", "2024-07-22", "submit_for_acceptance", {}),
             ("许昌评审", "2024-07-25", "pass_acceptance", {}),
             ("省复核员", "2024-08-05", "waive_recheck", {}),
             ("许昌联络员", "2024-09-02", "publicize", {}),
             ("省管理员", "2024-09-12", "certify", {"grade": "B", "data:rating_doc": "豫环认定〔2024〕1号"})]
    for actor, now, event, given in steps:
        with acting(campaign, actor, now) as ctx:
            page = dossier(ctx, CODE)
            action = next(a for a in page.actions if a.event == event)
            form = {**_fill(action.fields, **given), "version": "" if page.version is None else str(page.version)}
            api.advance(ctx, request_from_form(event, form, CODE))
    with acting(campaign, "许昌联络员", "2024-09-12") as ctx:
        page = dossier(ctx, CODE)
    assert page.state == "certified" and page.achieved_grade == "B" and page.grade == "B"
    assert [p.status for p in page.phases] == ["done"] * 6 and page.actions == ()
    assert [h.event for h in page.history if h.to_state] == [s[2] for s in steps]
    history = json.loads(campaign("history", CODE, "--json").stdout)
    assert [h["seq"] for h in history] == [h.seq for h in page.history if h.to_state]
    assert page.chain_ok and all(h.ok for h in page.history)
    assert page.history[0].event == "enterprise_add" and page.history[0].event_label == "登记企业"


def test_a_tampered_entry_is_marked_and_the_last_verify_is_shown(campaign: Cli) -> None:
    campaign(*ENROLL, now="2024-05-20", actor="许昌联络员")
    with acting(campaign, "许昌联络员", "2024-05-21") as ctx:
        page = dossier(ctx, CODE)
    assert page.chain_ok and page.last_verify is None
    enroll = next(h for h in page.history if h.event == "enroll")
    assert enroll.at == "2024-05-20 09:00" and enroll.actor == "许昌联络员" and len(enroll.hash) == 64
    campaign("audit", "verify", now="2024-05-21")
    with acting(campaign, "许昌联络员", "2024-05-21") as ctx:
        last = dossier(ctx, CODE).last_verify
    assert last is not None and last[1] is True and len(last[0]) == 16
    execute(campaign.db, *drop_triggers(campaign.db),
            f"UPDATE audit_entry SET reason = '改过' WHERE seq = {enroll.seq}")
    with acting(campaign, "许昌联络员", "2024-05-21") as ctx:
        page = dossier(ctx, CODE)
    assert not page.chain_ok
    assert [h.seq for h in page.history if not h.ok] == [enroll.seq]
    campaign("audit", "verify", now="2024-05-21", expect=3)
    with acting(campaign, "许昌联络员", "2024-05-21") as ctx:
        assert dossier(ctx, CODE).last_verify[1] is False  # type: ignore[index]


def test_a_form_from_a_page_someone_else_has_changed_since_is_refused_and_writes_nothing(campaign: Cli) -> None:
    campaign(*ENROLL, now="2024-05-20", actor="许昌联络员")
    with acting(campaign, "许昌联络员", "2024-06-03") as ctx:
        seen = dossier(ctx, CODE)
    campaign("advance", CODE, "withdraw", "--reason", "企业自愿退出", now="2024-06-03", actor="省管理员")
    before = (_count(campaign.db, "SELECT count(*) FROM audit_entry"),
              _count(campaign.db, "SELECT version FROM participation"))
    with acting(campaign, "许昌联络员", "2024-06-03") as ctx:
        req = request_from_form("enroll", {"consent": "c-2", "target_grade": "B", "version": str(seen.version)}, CODE)
        assert req.expected_version == seen.version == 1
        with pytest.raises(ConcurrentChange) as info:
            api.advance(ctx, req)
    assert "他人更改" in str(info.value) and "刷新" in str(info.value)
    after = (_count(campaign.db, "SELECT count(*) FROM audit_entry"),
             _count(campaign.db, "SELECT version FROM participation"))
    assert after == before
    with acting(campaign, "许昌联络员", "2024-06-03") as ctx:  # from the page as it is now, it goes through
        fresh = dossier(ctx, CODE)
        assert fresh.state == "withdrawn" and [p.status for p in fresh.phases] == ["todo"] * 6
        api.advance(ctx, request_from_form("enroll", {"consent": "c-2", "target_grade": "B",
                                                      "version": str(fresh.version)}, CODE))


def test_a_form_missing_a_required_field_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="理由"):
        request_from_form("withdraw", {"reason": "  ", "version": "3"}, CODE)
    with pytest.raises(InvalidInput, match="评估月份"):
        request_from_form("record_evaluation", {"month": "2024/07"}, CODE)
    with pytest.raises(InvalidInput, match="版本"):
        request_from_form("start_assistance", {"version": "abc"}, CODE)
    req = request_from_form("submit_plan", {"data:summary": "提标", "data:measures": "换除尘器",
                                            "data:completion_date": "2024-09-30", "reason": "ignored",
                                            "csrf": "t", "version": "4"}, CODE.lower())
    assert req.code == CODE and req.reason == "" and req.expected_version == 4
    assert req.data == {"summary": "提标", "measures": "换除尘器", "completion_date": "2024-09-30"}
