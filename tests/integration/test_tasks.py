"""我的待办 and the enterprise list (workflow.services.tasks): each person sees the participations whose
next step is theirs, in their scope, with the step's due date and urgency."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import CODE, DOC, Cli
from tests.helpers.lifecycle import ENROLL, walk_to_tracking
from tests.helpers.workspace import acting
from workflow.domain.creditcode import make
from workflow.errors import InvalidInput, Refused
from workflow.services.tasks import TaskFilter, enterprises, my_tasks

ZZ = make("91410100000000077")  # a 郑州 enterprise


def _zhengzhou(cli: Cli) -> None:
    cli("enterprise", "add", "--code", ZZ, "--name", "郑州华通耐材有限公司", "--city", "郑州市", "--industry", "耐材",
        "--grade", "C", "--rating-doc", DOC, now="2024-05-06", actor="郑州联络员")
    cli("advance", ZZ, "enroll", "--consent", "郑州-自愿-001", "--target-grade", "B", now="2024-05-20",
        actor="郑州联络员")


def _steps(cli: Cli, actor: str, now: str) -> list[tuple[str, str]]:
    with acting(cli, actor, now) as ctx:
        return [(t.code, t.step) for t in my_tasks(ctx).items]


def test_each_person_sees_the_steps_that_are_theirs_in_their_scope(campaign: Cli) -> None:
    _zhengzhou(campaign)
    campaign(*ENROLL, now="2024-05-20", actor="许昌联络员")
    assert _steps(campaign, "许昌联络员", "2024-06-03") == [(CODE, "start_assistance")]
    assert _steps(campaign, "郑州联络员", "2024-06-03") == [(ZZ, "start_assistance")]
    assert _steps(campaign, "王专家", "2024-06-03") == []  # nothing of an expert's in cultivation
    assert _steps(campaign, "省管理员", "2024-06-03") == []  # the admin stands in, but owns certify only
    for code, actor in ((CODE, "许昌联络员"), (ZZ, "郑州联络员")):
        campaign("advance", code, "start_assistance", now="2024-06-03", actor=actor)
    # both in assistance: the expert sees only the enterprise assigned to them
    assert _steps(campaign, "王专家", "2024-06-04") == [(CODE, "record_pre_assessment")]
    assert _steps(campaign, "许昌联络员", "2024-06-04") == []  # begin_tracking waits for the plan
    campaign("advance", CODE, "record_pre_assessment", "--data", "findings=除尘不足", now="2024-06-05", actor="王专家")
    assert _steps(campaign, "王专家", "2024-06-05") == [(CODE, "submit_plan")]
    campaign("advance", CODE, "submit_plan", "--data", "summary=提标", "--data", "measures=换除尘器",
             "--data", "completion_date=2024-09-30", now="2024-06-10", actor="王专家")
    assert _steps(campaign, "王专家", "2024-06-10") == []
    assert _steps(campaign, "许昌联络员", "2024-06-17") == [(CODE, "begin_tracking")]
    campaign("advance", CODE, "begin_tracking", now="2024-06-17", actor="许昌联络员")
    assert _steps(campaign, "王专家", "2024-07-20") == [(CODE, "record_evaluation")]
    assert _steps(campaign, "许昌联络员", "2024-07-20") == []  # no evaluation yet: nothing to submit
    campaign("advance", CODE, "record_evaluation", "--month", "2024-07", now="2024-07-20", actor="王专家")
    assert _steps(campaign, "王专家", "2024-07-20") == []  # July's is done
    assert _steps(campaign, "王专家", "2024-08-01") == [(CODE, "record_evaluation")]  # August's is owed
    assert _steps(campaign, "许昌联络员", "2024-07-22") == [(CODE, "submit_for_acceptance")]
    campaign("advance", CODE, "submit_for_acceptance", now="2024-07-22", actor="许昌联络员")
    assert _steps(campaign, "许昌评审", "2024-07-25") == [(CODE, "pass_acceptance")]
    assert _steps(campaign, "省复核员", "2024-07-25") == []
    campaign("advance", CODE, "pass_acceptance", now="2024-07-25", actor="许昌评审")
    with acting(campaign, "省复核员", "2024-08-05") as ctx:
        page = my_tasks(ctx)
    assert [(t.code, t.step, t.state_label, t.step_label) for t in page.items] == [
        (CODE, "pass_recheck", "省级复核", "省级复核")]
    assert page.items[0].due == date(2024, 12, 15) and page.items[0].days_left == 132
    assert page.items[0].urgency == "green" and page.counts == {"red": 0, "yellow": 0, "green": 1, "all": 1}
    assert _steps(campaign, "许昌评审", "2024-08-05") == []


def test_due_dates_colour_the_tasks_and_filters_narrow_them(campaign: Cli) -> None:
    _zhengzhou(campaign)
    campaign(*ENROLL, now="2024-05-20", actor="许昌联络员")
    with acting(campaign, "省管理员", "2024-05-21") as ctx:  # the admin holds the coordinator's steps too,
        assert my_tasks(ctx).total == 0  # but they are the coordinators' tasks
    with acting(campaign, "许昌联络员", "2024-11-12") as ctx:
        (task,) = my_tasks(ctx).items
    assert (task.step_label, task.due, task.days_left, task.urgency) == ("开始帮扶", date(2024, 11, 15), 3, "yellow")
    with acting(campaign, "许昌联络员", "2024-11-16") as ctx:
        page = my_tasks(ctx, TaskFilter(overdue_only=True))
        assert [(t.code, t.days_left, t.urgency) for t in page.items] == [(CODE, -1, "red")]
        assert page.counts["red"] == 1
        assert my_tasks(ctx, TaskFilter(q="恒达")).total == 1
        assert my_tasks(ctx, TaskFilter(q=CODE[-6:].lower())).total == 1
        assert my_tasks(ctx, TaskFilter(q="华通")).total == 0  # 郑州's: not in scope
        assert my_tasks(ctx, TaskFilter(state="tracking")).total == 0
        assert my_tasks(ctx, TaskFilter(industry="钢铁")).total == 0
        with pytest.raises(InvalidInput):
            my_tasks(ctx, TaskFilter(state="nonsense"))


def test_a_conflict_or_separation_of_duties_keeps_a_task_off_the_list(campaign: Cli) -> None:
    walk_to_tracking(campaign)
    campaign("advance", CODE, "record_evaluation", "--month", "2024-07", now="2024-07-20", actor="王专家")
    # the reviewer who submitted it for acceptance may not review it
    campaign("actor", "add", "许昌双岗", "--role", "city_coordinator", "--role", "city_reviewer", "--city", "许昌市",
             now="2024-07-20", actor="省管理员")
    assert _steps(campaign, "许昌双岗", "2024-07-22") == [(CODE, "submit_for_acceptance")]
    campaign("advance", CODE, "submit_for_acceptance", now="2024-07-22", actor="许昌双岗")
    assert _steps(campaign, "许昌双岗", "2024-07-23") == []
    assert _steps(campaign, "许昌评审", "2024-07-23") == [(CODE, "pass_acceptance")]
    campaign("actor", "declare-conflict", "许昌评审", CODE, "--reason", "配偶任该企业环保负责人", now="2024-07-23",
             actor="许昌评审")
    assert _steps(campaign, "许昌评审", "2024-07-23") == []


def test_an_unknown_person_is_refused(campaign: Cli) -> None:
    with acting(campaign, "无名氏", "2024-06-03") as ctx, pytest.raises(Refused):
        my_tasks(ctx)


def test_the_enterprise_list_shows_the_scope_with_state_and_days_left(campaign: Cli) -> None:
    _zhengzhou(campaign)
    other = make("91411000000000011")
    campaign("enterprise", "add", "--code", other, "--name", "许昌新材料有限公司", "--city", "许昌市",
             "--industry", "耐材", "--grade", "C", "--rating-doc", DOC, now="2024-05-06", actor="许昌联络员")
    campaign(*ENROLL, now="2024-05-20", actor="许昌联络员")
    with acting(campaign, "许昌联络员", "2024-11-12") as ctx:
        page = enterprises(ctx)
        assert [(r.code, r.state, r.state_label, r.days_left) for r in page.items] == sorted([
            (CODE, "cultivation", "培育", 3), (other, None, "未纳入", None)])
        assert page.total == 2 and page.sort == "code"
        assert [r.code for r in enterprises(ctx, sort="-name").items] == [other, CODE]  # 许昌新… > 许昌恒…
        assert [r.code for r in enterprises(ctx, sort="days_left").items] == [CODE, other]
        assert [r.code for r in enterprises(ctx, state="unenrolled").items] == [other]
        assert [r.code for r in enterprises(ctx, q="恒达").items] == [CODE]
        two = enterprises(ctx, per_page=1, page=2)
        assert two.total == 2 and len(two.items) == 1 and two.page == 2
        with pytest.raises(InvalidInput):
            enterprises(ctx, sort="nonsense")
    with acting(campaign, "王专家", "2024-11-12") as ctx:
        assert [r.code for r in enterprises(ctx).items] == [CODE]
    with acting(campaign, "省复核员", "2024-11-12") as ctx:
        assert {r.code for r in enterprises(ctx).items} == {CODE, other, ZZ}
        assert [r.code for r in enterprises(ctx, city="郑州").items] == [ZZ]
