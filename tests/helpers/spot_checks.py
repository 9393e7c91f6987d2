"""Eight enterprises through city acceptance, waiting for the provincial spot check."""

from __future__ import annotations

import csv

from tests.conftest import Cli, bootstrap
from workflow.domain.creditcode import make

XU = [make(f"9141100{i:010d}") for i in range(1, 7)]  # six 许昌 enterprises
ZZ = [make(f"9141010{i:010d}") for i in range(1, 3)]  # two 郑州 enterprises


def _batch(cli: Cli, now: str, actor: str, event: str, codes: list[str], **cols: str) -> None:
    f = cli.home / f"{event}-{actor}.csv"
    with f.open("w", encoding="utf-8", newline="") as out:
        w = csv.writer(out)
        w.writerow(["code", "event", *[k.replace("__", ".") for k in cols]])
        w.writerows([[c, event, *cols.values()] for c in codes])
    cli("advance", "--file", str(f), now=now, actor=actor)


def awaiting_recheck(cli: Cli) -> None:
    """Six 许昌 and two 郑州 enterprises through city acceptance, waiting for the provincial recheck."""
    bootstrap(cli)
    cli("actor", "add", "郑州评审", "--role", "city_reviewer", "--city", "郑州市", now="2024-05-06", actor="省管理员")
    f = cli.home / "e.csv"
    f.write_text("code,name,city,industry,grade,评级文件文号\n" + "".join(
        f"{c},企业{i},{'许昌市' if c in XU else '郑州市'},铸造,C,豫环文〔2023〕{i}号\n" for i, c in enumerate(XU + ZZ)),
        encoding="utf-8")
    cli("enterprise", "import", str(f), now="2024-05-10", actor="省管理员")
    for c in XU + ZZ:
        cli("assign", c, "--expert", "王专家", now="2024-05-10", actor="省管理员")
    for codes, coordinator, reviewer in ((XU, "许昌联络员", "许昌评审"), (ZZ, "郑州联络员", "郑州评审")):
        _batch(cli, "2024-05-20", coordinator, "enroll", codes, consent="自愿", target_grade="B")
        _batch(cli, "2024-06-03", coordinator, "start_assistance", codes)
        _batch(cli, "2024-06-05", "王专家", "record_pre_assessment", codes, data__findings="无组织排放管控不足")
        _batch(cli, "2024-06-10", "王专家", "submit_plan", codes, data__summary="s", data__measures="m",
               data__completion_date="2024-09-30")
        _batch(cli, "2024-06-17", coordinator, "begin_tracking", codes)
        _batch(cli, "2024-07-20", "王专家", "record_evaluation", codes, month="2024-07")
        _batch(cli, "2024-07-22", coordinator, "submit_for_acceptance", codes)
        _batch(cli, "2024-07-25", reviewer, "pass_acceptance", codes)
