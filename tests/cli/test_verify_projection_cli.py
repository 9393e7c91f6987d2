"""`audit verify` replays the chain and compares every audited row with what it implies: an edit
behind the log (raw SQL as the database owner) is named by table, key and column, exit 3; an old
database is brought under the log with `audit baseline`."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert, select, text

from models.db import make_engine
from models.tables import Participation, table
from tests.conftest import Cli
from tests.helpers.progress import X1, X3, X5, build

NOW = "2024-09-20"


def _exec(db: str, *statements: str, **params: Any) -> None:
    engine = make_engine(db)
    try:
        with engine.begin() as conn:
            for s in statements:
                conn.execute(text(s), params)
    finally:
        engine.dispose()


def _one(db: str, sql: str) -> Any:
    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()


def _pid(code: str) -> str:
    return f"(SELECT id FROM enterprise WHERE code = '{code}')"


def _part(code: str) -> str:
    return f"(SELECT p.id FROM participation p JOIN enterprise e ON e.id = p.enterprise_id WHERE e.code = '{code}')"


EDITS = [  # (what, table, column, new value, which row, words the first line of the failure must hold)
    ("publicity end", "participation", "publicity_end", "'2024-09-20'", f"enterprise_id = {_pid(X1)}",
     ["participation", X1, "2024", "publicity_end", "2024-09-20"]),
    ("target grade", "participation", "target_grade", "'A'", f"enterprise_id = {_pid(X3)}",
     ["participation", X3, "target_grade", "库中 A，审计链推得 B"]),
    ("failure count", "participation", "failures", "2", f"enterprise_id = {_pid(X3)}",
     ["participation", X3, "failures", "库中 2，审计链推得 0"]),
    ("consent", "participation", "consent_ref", "'伪造同意书'", f"enterprise_id = {_pid(X3)}",
     ["participation", X3, "consent_ref", "伪造同意书", f"自愿-{X3}"]),
    ("enterprise city", "enterprise", "city_id", "(SELECT id FROM city WHERE name = '郑州市')", f"code = '{X1}'",
     ["enterprise", X1, "city", "库中 郑州市，审计链推得 许昌市"]),
    ("enterprise grade", "enterprise", "grade", "'A'", f"code = '{X5}'",
     ["enterprise", X5, "grade", "库中 A，审计链推得 C"]),
    ("actor roles", "actor", "roles", "'city_coordinator,province_admin'", "name = '许昌联络员'",
     ["actor", "许昌联络员", "roles"]),
    ("assignment ended", "expert_assignment", "removed_at", "'2024-09-01T00:00:00.000000Z'",
     f"enterprise_id = {_pid(X3)}", ["expert_assignment", X3, "王专家", "removed"]),
]


def _check(cli: Cli, words: list[str]) -> None:
    r = cli("audit", "verify", now=NOW, expect=3)
    first = r.stderr.splitlines()[0]
    for w in words:
        assert w in first, (w, r.stderr)
    assert "Traceback" not in r.stderr


def test_an_untouched_campaign_verifies_clean_with_every_table_replayed(cli: Cli) -> None:
    build(cli)
    r = cli("audit", "verify", "--json", now=NOW)
    assert json.loads(r.stdout)["ok"] is True and json.loads(r.stdout)["baselines"] == 0


def test_each_edit_behind_the_log_is_named_by_table_key_and_column(cli: Cli) -> None:
    build(cli)
    for what, tbl, column, value, where, words in EDITS:
        old = _one(cli.db, f"SELECT {column} FROM {tbl} WHERE {where}")
        _exec(cli.db, f"UPDATE {tbl} SET {column} = {value} WHERE {where}")
        _check(cli, words)
        _exec(cli.db, f"UPDATE {tbl} SET {column} = :v WHERE {where}", v=old)
        assert cli("audit", "verify", now=NOW).exit_code == 0, what  # undone: clean again


def test_rows_inserted_or_deleted_behind_the_log_are_named(cli: Cli) -> None:
    build(cli)
    _exec(cli.db, "INSERT INTO evaluation (participation_id, cycle, month, recorded_at, audit_seq) "
                  f"VALUES ({_part(X3)}, 1, '2024-08', '2024-08-20T01:00:00.000000Z', 1)")
    _check(cli, ["evaluation", X3, "2024-08", "审计链中没有"])
    _exec(cli.db, "DELETE FROM evaluation WHERE month = '2024-08'")
    _exec(cli.db, "INSERT INTO contact (city, name, email, active, created_at) "
                  "VALUES ('郑州市', '冒名', 'x@example.cn', TRUE, '2024-09-01T00:00:00Z')")
    _check(cli, ["contact", "审计链中没有"])
    _exec(cli.db, "DELETE FROM contact")
    cli("audit", "verify", now=NOW)
    engine = make_engine(cli.db)  # a participation row deleted: its enterprise silently left `status`
    with engine.begin() as conn:
        row = dict(conn.execute(select(table(Participation)).where(
            table(Participation).c.enterprise_id == select(text("id")).select_from(text("enterprise"))
            .where(text(f"code = '{X5}'")).scalar_subquery())).one()._mapping)
        conn.execute(table(Participation).delete().where(table(Participation).c.id == row["id"]))
    engine.dispose()
    _check(cli, ["participation", X5, "2024", "库中没有"])
    _exec(cli.db, "DELETE FROM evaluation WHERE 1 = 0")  # nothing else changed
    engine = make_engine(cli.db)
    with engine.begin() as conn:
        conn.execute(insert(table(Participation)).values(**row))
    engine.dispose()
    cli("audit", "verify", now=NOW)


def test_verify_names_the_first_difference_in_one_line_and_counts_the_rest(cli: Cli) -> None:
    build(cli)
    _exec(cli.db, f"UPDATE participation SET failures = 3 WHERE enterprise_id IN ({_pid(X1)}, {_pid(X3)})")
    r = cli("audit", "verify", now=NOW, expect=3)
    assert len(r.stderr.strip().splitlines()) == 1
    assert "列 failures：库中 3，审计链推得 0" in r.stderr and "另有 1 处不符" in r.stderr


def test_a_baseline_brings_rows_the_log_cannot_explain_under_it(cli: Cli) -> None:
    build(cli)
    # an old row: ULE publicised before the evidence was required, written straight into the table
    _exec(cli.db, f"UPDATE enterprise SET ule = 'publicized' WHERE code = '{X5}'")
    _check(cli, ["enterprise", X5, "ule", "publicized"])
    r = cli("audit", "baseline", "--reason", "升级前存量数据", now=NOW, actor="许昌联络员", expect=1)
    assert "province_admin" in r.stderr
    cli("audit", "baseline", "--reason", " ", now=NOW, actor="省管理员", expect=1)
    r = cli("audit", "baseline", "--reason", "升级前存量数据", now=NOW, actor="省管理员")
    assert "已写入 1 条基线记录（enterprise 1）" in r.stdout and "含 1 条基线记录" in r.stdout
    assert json.loads(cli("audit", "verify", "--json", now=NOW).stdout)["baselines"] == 1
    entry = json.loads(cli("audit", "log", "--event", "baseline", "--json", now=NOW).stdout)
    assert [e["actor"] for e in entry] == ["省管理员"] and entry[0]["reason"] == "升级前存量数据"
    # the log carries on from the baseline: a later change is replayed over it
    cli("enterprise", "update", X5, "--county", "魏都区", now=NOW, actor="许昌联络员")
    cli("audit", "verify", now=NOW)
    r = cli("audit", "baseline", "--reason", "再次", now=NOW, actor="省管理员")
    assert "无需基线" in r.stdout
    _exec(cli.db, f"UPDATE enterprise SET ule = 'completed' WHERE code = '{X5}'")  # and an edit after it is caught
    _check(cli, ["enterprise", X5, "ule", "库中 completed，审计链推得 publicized"])
