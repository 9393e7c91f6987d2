"""A small province mid-campaign, built fast with `enterprise import` and `advance --file`.

许昌市: X1 certified C→B (counts), X2 certified B-→B (does not count: one class), X3 tracking
(evaluated for July only), X4 withdrawn, X5 cultivation.
郑州市: Z1 certified 未评级→A, Z2 (化工) certified 非引领性→引领性 (both count), Z3 in acceptance.
"""

from __future__ import annotations

from tests.conftest import DOC, Cli, bootstrap
from tests.helpers.spreadsheets import HEAD_ZH, write_csv
from workflow.domain.creditcode import make

X1, X2, X3, X4, X5 = (make(f"9141100{i:010d}") for i in range(1, 6))
Z1, Z2, Z3 = (make(f"9141010{i:010d}") for i in range(1, 4))
XU = (X1, X2, X3, X4, X5)
ZZ = (Z1, Z2, Z3)
ENTERPRISES = [  # code, name, city, industry, grade, target
    (X1, "许昌恒达耐材有限公司", "许昌市", "耐材", "C", "B"),
    (X2, "许昌瑞丰铸造有限公司", "许昌市", "铸造", "B-", "B"),
    (X3, "许昌金源化工有限公司", "许昌市", "化工", "C", "B"),
    (X4, "许昌宏泰包装印刷厂", "许昌市", "包装印刷", "D", "C"),
    (X5, "许昌远大磨料磨具有限公司", "许昌市", "磨料磨具", "C", "B"),
    (Z1, "郑州中原铸造有限公司", "郑州市", "铸造", "未评级", "A"),
    (Z2, "郑州绿源化工有限公司", "郑州市", "化工", "非引领性", "引领性"),
    (Z3, "郑州恒通工业涂装有限公司", "郑州市", "工业涂装", "C", "B"),
]
TARGET = {e[0]: e[5] for e in ENTERPRISES}


def _coordinator(code: str) -> str:
    return "许昌联络员" if code in XU else "郑州联络员"


def _batch(cli: Cli, now: str, actor: str, event: str, codes: tuple[str, ...], **cols: str) -> None:
    rows = [[c, event, *[v.format(code=c, target=TARGET[c]) for v in cols.values()]] for c in codes]
    f = write_csv(cli.home / f"{event}-{actor}.csv", ["code", "event", *[k.replace("__", ".") for k in cols]], rows)
    cli("advance", "--file", str(f), now=now, actor=actor)


def _by_city(cli: Cli, now: str, event: str, codes: tuple[str, ...], **cols: str) -> None:
    for city in (XU, ZZ):
        mine = tuple(c for c in codes if c in city)
        if mine:
            _batch(cli, now, _coordinator(mine[0]), event, mine, **cols)


def build(cli: Cli) -> None:
    bootstrap(cli)
    cli("actor", "add", "郑州评审", "--role", "city_reviewer", "--city", "郑州市", now="2024-05-06",
        actor="省管理员")
    f = write_csv(cli.home / "enterprises.csv", HEAD_ZH,
                  [[c, n, city, "", ind, g, "", "" if g == "未评级" else DOC] for c, n, city, ind, g, _ in ENTERPRISES])
    cli("enterprise", "import", str(f), now="2024-05-10", actor="省管理员")
    _by_city(cli, "2024-05-20", "enroll", XU + ZZ, consent="自愿-{code}", target_grade="{target}")
    active = (X1, X2, X3, Z1, Z2, Z3)
    _by_city(cli, "2024-06-03", "start_assistance", active)
    _batch(cli, "2024-06-05", "许昌联络员", "withdraw", (X4,), reason="企业自愿退出")
    for code in active:  # experts act only on the enterprises they are assigned to
        cli("assign", code, "--expert", "王专家", now="2024-06-05", actor=_coordinator(code))
    _batch(cli, "2024-06-07", "王专家", "record_pre_assessment", active, data__findings="对标A级差距分析")
    _batch(cli, "2024-06-10", "王专家", "submit_plan", active, data__summary="提标改造",
           data__measures="更换除尘器", data__completion_date="2024-09-30")
    _by_city(cli, "2024-06-17", "begin_tracking", active)
    _batch(cli, "2024-07-20", "王专家", "record_evaluation", active, month="2024-07")
    _by_city(cli, "2024-07-22", "submit_for_acceptance", (X1, X2, Z1, Z2, Z3))
    _batch(cli, "2024-07-25", "许昌评审", "pass_acceptance", (X1, X2))
    _batch(cli, "2024-07-25", "郑州评审", "pass_acceptance", (Z1, Z2))
    _batch(cli, "2024-08-05", "省复核员", "waive_recheck", (X1, X2, Z1, Z2))
    _by_city(cli, "2024-09-02", "publicize", (X1, X2, Z1, Z2))
    _batch(cli, "2024-09-12", "省管理员", "certify", (X1, X2, Z1, Z2), grade="{target}")
