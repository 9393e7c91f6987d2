"""`advance --file` holds its participation updates and evaluation inserts back and writes them with
executemany: a change by someone else since the batch read a participation still fails the batch
(naming the enterprise, nothing written), and the checks that read participation state (职责分离)
still see the batch's own earlier rows."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli, bootstrap
from workflow.domain.creditcode import make

A, B = make("91411000000000001"), make("91411000000000002")


def _file(cli: Cli, name: str, rows: list[list[str]], header: tuple[str, ...] = ("code", "event")) -> str:
    path = cli.home / name
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return str(path)


def _batch(cli: Cli, now: str, actor: str, event: str, *cols: tuple[str, str], expect: int = 0) -> Any:
    rows = [[c, event, *[v for _, v in cols]] for c in (A, B)]
    f = _file(cli, f"{event}.csv", rows, ("code", "event", *[k for k, _ in cols]))
    return cli("advance", "--file", f, now=now, actor=actor, expect=expect)


def _setup(cli: Cli) -> None:
    """Two 许昌 enterprises, 王专家 their expert, both in assistance."""
    bootstrap(cli)
    f = cli.home / "e.csv"
    f.write_text("code,name,city,industry,grade,rating_doc\n" + "".join(f"{c},企业{i},许昌市,铸造,C,豫环文{i}号\n"
                                                              for i, c in enumerate((A, B))), encoding="utf-8")
    cli("enterprise", "import", str(f), now="2024-05-10", actor="省管理员")
    for c in (A, B):
        cli("assign", c, "--expert", "王专家", now="2024-05-10", actor="省管理员")
    _batch(cli, "2024-05-20", "许昌联络员", "enroll", ("consent", "自愿"), ("target_grade", "B"))
    _batch(cli, "2024-06-03", "许昌联络员", "start_assistance")


def _show(cli: Cli, code: str) -> dict[str, Any]:
    return json.loads(cli("enterprise", "show", code, "--json", now="2024-08-05").stdout)


def _audit(cli: Cli) -> int:
    return len(json.loads(cli("audit", "log", "--json", now="2024-08-05").stdout))


@pytest.mark.postgres
@pytest.mark.parametrize("hold", [2_000, 1], ids=["flush-before-commit", "flush-mid-batch"])
def test_a_participation_changed_by_someone_else_after_the_preload_fails_the_batch(
        pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hold: int) -> None:
    from sqlalchemy import create_engine, text

    from workflow.services import lifecycle

    cli = Cli(pg_url, tmp_path)
    _setup(cli)
    before = _audit(cli)
    other = create_engine(pg_url, isolation_level="AUTOCOMMIT")

    class ChangedMeanwhile(lifecycle.Preloaded):
        """Another connection commits a change to A's participation right after the batch read it
        (the batch holds no lock on it yet: its update is held back until the flush)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            with other.connect() as c:
                c.execute(text("UPDATE participation SET version = version + 1 WHERE enterprise_id = "
                               "(SELECT id FROM enterprise WHERE code = :code)"), {"code": A})

    monkeypatch.setattr(lifecycle, "Preloaded", ChangedMeanwhile)
    monkeypatch.setattr(lifecycle, "_HOLD", hold)
    rows = [[c, "record_pre_assessment", "扬尘"] for c in (B, A)]
    f = _file(cli, "pre.csv", rows, ("code", "event", "data.findings"))
    r = cli("advance", "--file", f, now="2024-06-05", actor="王专家", expect=1)
    other.dispose()
    assert "Traceback" not in r.stderr, r.stderr
    failed = [line for line in r.stderr.splitlines() if "✗" in line]
    assert len(failed) == 1 and "第 3 行" in failed[0] and A in failed[0] and "已被他人更改" in failed[0]
    assert "整批未执行" in r.stderr
    # nothing written: no audit entry, neither participation marked pre-assessed
    assert _audit(cli) == before
    monkeypatch.undo()
    cli("audit", "verify", now="2024-06-05")
    for c in (A, B):
        assert _show(cli, c)["state"] == "assistance"
    # the same file applies once nobody interferes
    cli("advance", "--file", f, now="2024-06-05", actor="王专家")
    assert _audit(cli) == before + 2


def test_a_batch_mixing_acceptance_and_recheck_still_obeys_separation_of_duties(cli: Cli) -> None:
    _setup(cli)
    cli("actor", "add", "两级评审", "--role", "city_reviewer", "--role", "province_reviewer",
        "--city", "许昌市", now="2024-05-06", actor="省管理员")
    _batch(cli, "2024-06-05", "王专家", "record_pre_assessment", ("data.findings", "扬尘"))
    _batch(cli, "2024-06-10", "王专家", "submit_plan", ("data.summary", "s"), ("data.measures", "m"),
           ("data.completion_date", "2024-09-30"))
    _batch(cli, "2024-06-17", "许昌联络员", "begin_tracking")
    _batch(cli, "2024-07-20", "王专家", "record_evaluation", ("month", "2024-07"))
    _batch(cli, "2024-07-22", "许昌联络员", "submit_for_acceptance")
    cli("advance", A, "pass_acceptance", now="2024-07-25", actor="许昌评审")
    before = _audit(cli)
    # 两级评审 passes B's city acceptance and then may recheck A but not B, in one batch
    rows = [[B, "pass_acceptance"], [A, "pass_recheck"], [B, "pass_recheck"]]
    r = cli("advance", "--file", _file(cli, "mixed.csv", rows), now="2024-08-05", actor="两级评审", expect=1)
    failed = [line for line in r.stderr.splitlines() if "✗" in line]
    assert len(failed) == 1 and "第 4 行" in failed[0] and "职责分离" in failed[0] and B in failed[0]
    assert _audit(cli) == before
    assert _show(cli, A)["state"] == "provincial_recheck" != _show(cli, B)["state"]
    cli("audit", "verify", now="2024-08-05")
    # without the offending row the batch applies, and B's recheck stays barred for 两级评审
    cli("advance", "--file", _file(cli, "ok.csv", rows[:2]), now="2024-08-05", actor="两级评审")
    assert _show(cli, B)["state"] == "provincial_recheck" != _show(cli, A)["state"]
    r = cli("advance", B, "pass_recheck", now="2024-08-05", actor="两级评审", expect=1)
    assert r.stderr.startswith("错误 Error: 职责分离")
    # a later batch reads who passed the acceptance from the log up front, and refuses it the same way
    r = cli("advance", "--file", _file(cli, "later.csv", [[B, "pass_recheck"]]), now="2024-08-05", actor="两级评审",
            expect=1)
    assert "职责分离" in r.stderr and "市级验收（审计 #" in r.stderr
    cli("advance", B, "pass_recheck", now="2024-08-05", actor="省复核员")
    cli("audit", "verify", now="2024-08-05")
