"""Signed checkpoints: the chain is held to a key the database never sees (issue 12, item 5), and a
restored backup is named and accepted (issue 12, existing databases)."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sqlite3
import stat
from pathlib import Path

from tests.conftest import CODE, DOC, Cli, bootstrap
from tests.helpers.scheduling import tick

NOW = "2024-05-06"
SECOND = "91410100MA9XUQ5R02"


def _keys(cli: Cli, *names: str) -> None:
    for name in names:
        cli("audit", "keygen", str(cli.home / f"{name}.key"))


def _checkpoint(cli: Cli, key: str = "server", out: str = "witness") -> str:
    r = cli("audit", "checkpoint", "--key", str(cli.home / f"{key}.key"), "--out", str(cli.home / out), now=NOW)
    return r.stdout


def _verify(cli: Cli, *pubkeys: str, expect: int = 0, out: str = "witness") -> str:
    args = [a for k in pubkeys for a in ("--pubkey", str(cli.home / f"{k}.key.pub"))]
    r = cli("audit", "verify", "--checkpoints", str(cli.home / out), *args, now=NOW, expect=expect)
    return r.stdout + r.stderr


def _files(cli: Cli, out: str = "witness") -> list[Path]:
    return sorted((cli.home / out).glob("checkpoint-*.txt"))


def _enterprise(cli: Cli, code: str = CODE, name: str = "许昌恒达耐材有限公司") -> None:
    cli("enterprise", "add", "--code", code, "--name", name, "--city", "许昌市", "--industry", "耐材",
        "--grade", "C", "--rating-doc", DOC, now=NOW, actor="许昌联络员")


def _entries(cli: Cli) -> int:
    return int(json.loads(cli("audit", "digest", "--json", now=NOW).stdout)["entries"])


def _rechain(db: str, rows_from: int, change: dict[str, str] | None = None) -> None:
    """What a database administrator can do without the key: drop the append-only triggers, rewrite
    (or delete) entries and recompute every later hash, so that the chain checks out again."""
    from workflow.domain.audit import FIELDS, entry_hash

    con = sqlite3.connect(db)
    con.execute("DROP TRIGGER IF EXISTS audit_entry_no_update")
    con.execute("DROP TRIGGER IF EXISTS audit_entry_no_delete")
    if change:
        for column, value in change.items():
            con.execute(f"UPDATE audit_entry SET {column} = ? WHERE seq = ?", (value, rows_from))
    cols = ", ".join(FIELDS)
    prev = con.execute("SELECT hash FROM audit_entry WHERE seq = ?", (rows_from - 1,)).fetchone()[0]
    for row in con.execute(f"SELECT {cols} FROM audit_entry WHERE seq >= ? ORDER BY seq", (rows_from,)).fetchall():
        values = (row[0], prev, *row[2:])
        prev = entry_hash(values)
        con.execute("UPDATE audit_entry SET prev_hash = ?, hash = ? WHERE seq = ?", (values[1], prev, row[0]))
    con.commit()
    con.close()


def _append_forged(db: str, reason: str) -> None:
    """Append an entry with a correct hash after the current head (province admin's name, made up)."""
    from workflow.domain.audit import FIELDS, entry_hash

    con = sqlite3.connect(db)
    seq, prev, recorded = con.execute("SELECT seq, hash, recorded_at FROM audit_entry ORDER BY seq DESC LIMIT 1"
                                      ).fetchone()
    values = (seq + 1, prev, None, None, None, "note", None, None, "省管理员", "province_admin", reason, "{}",
              recorded, recorded)
    con.execute(f"INSERT INTO audit_entry ({', '.join(FIELDS)}, hash, format) VALUES "
                f"({', '.join('?' * len(FIELDS))}, ?, 1)", (*values, entry_hash(values)))
    con.commit()
    con.close()


def test_keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites_one(sqlite_cli: Cli) -> None:
    cli = sqlite_cli
    out = cli("audit", "keygen", str(cli.home / "province.key"), "--name", "河南省生态环境厅/省级").stdout
    private, public = cli.home / "province.key", cli.home / "province.key.pub"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_text().startswith("PRIVATE+KEY+河南省生态环境厅/省级+")
    assert public.read_text().startswith("河南省生态环境厅/省级+") and public.read_text().strip() in out
    before = private.read_bytes()
    again = cli("audit", "keygen", str(private), expect=1)
    assert "已存在" in again.stderr and private.read_bytes() == before
    public.unlink()  # the public half alone is gone: still no overwrite of the private key
    assert "已存在" in cli("audit", "keygen", str(private), expect=1).stderr
    assert not (cli.home / "campaign.db").exists()  # no database involved


def test_a_checkpoint_is_a_signed_note_anyone_can_check_and_a_second_key_countersigns_it(cli: Cli) -> None:
    bootstrap(cli)
    _enterprise(cli)
    _keys(cli, "server", "province")
    out = _checkpoint(cli)
    [path] = _files(cli)
    size = _entries(cli)
    assert str(path) in out and path.name.startswith(f"checkpoint-{size:06d}-")
    text, _, sigs = path.read_text("utf-8").rpartition("\n\n")
    origin, n, root = text.split("\n")
    assert (origin, n) == ("河南省生态环境厅/创A晋B审计日志", str(size)) and text in out
    head = json.loads(cli("audit", "digest", "--json", now=NOW).stdout)["digest"]
    assert base64.b64decode(root).hex() == head
    # checked without our code: C2SP signed note, Ed25519, key ID = SHA-256(name \n 0x01 key)[:4]
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    name, key_id, blob = (cli.home / "server.key.pub").read_text().strip().split("+", 2)
    raw_key = base64.b64decode(blob)[1:]
    assert hashlib.sha256(name.encode() + b"\n\x01" + raw_key).digest()[:4].hex() == key_id
    dash, signer, sig = sigs.strip().split(" ")
    assert (dash, signer) == ("\u2014", name)
    Ed25519PublicKey.from_public_bytes(raw_key).verify(base64.b64decode(sig)[4:], (text + "\n").encode())

    assert "签名有效" in _verify(cli, "server")
    assert "已加签" in _checkpoint(cli, "province")  # the province countersigns the same checkpoint
    assert _files(cli) == [path] and path.read_text("utf-8").count("\u2014 ") == 2
    assert "已有此密钥的签名" in _checkpoint(cli, "province")
    assert "province" in _verify(cli, "province")  # against the province's key alone


def test_a_rewritten_entry_with_every_later_hash_recomputed_passes_plain_verify_but_not_its_checkpoint(
        sqlite_cli: Cli) -> None:
    cli = sqlite_cli
    bootstrap(cli)
    _enterprise(cli)
    _keys(cli, "server")
    _checkpoint(cli)
    _rechain(cli.db, 3, {"reason": "事后改写"})
    cli("audit", "verify", now=NOW)  # the chain alone cannot tell
    err = _verify(cli, "server", expect=3)
    assert "不符" in err and "log rewritten since the checkpoint" in err
    assert "拒绝签名" in cli("audit", "checkpoint", "--key", str(cli.home / "server.key"), "--out",
                            str(cli.home / "witness"), now=NOW, expect=3).stderr
    # a rewrite is not a restore: with a later checkpoint of the rewritten log, the two contradict
    _enterprise(cli, SECOND, "许昌瑞丰铸造有限公司")
    _checkpoint(cli, out="elsewhere")
    err = cli("audit", "accept-restore", "--reason", "掩盖", "--checkpoint", str(cli.home / "witness"),
              "--checkpoint", str(cli.home / "elsewhere"), "--key", str(cli.home / "server.key"),
              now=NOW, actor="省管理员", expect=3).stderr
    assert "互相矛盾" in err
    assert "accept_restore" not in cli("audit", "log", "--json", now=NOW).stdout


def test_entries_cut_off_and_forged_ones_appended_are_caught(sqlite_cli: Cli) -> None:
    cli = sqlite_cli
    bootstrap(cli)
    _append_forged(cli.db, "第一条")  # two entries that leave no row behind (nothing else explains a cut)
    _append_forged(cli.db, "第二条")
    _keys(cli, "server")
    _checkpoint(cli)
    size = _entries(cli)
    con = sqlite3.connect(cli.db)
    con.execute("DROP TRIGGER IF EXISTS audit_entry_no_delete")
    con.execute("DELETE FROM audit_entry WHERE seq >= ?", (size - 1,))
    con.commit()
    con.close()
    _append_forged(cli.db, "伪造一")
    cli("audit", "verify", now=NOW)  # the chain alone cannot tell
    assert f"审计日志止于第 {size - 1} 条，检查点在第 {size} 条" in _verify(cli, "server", expect=3)
    _append_forged(cli.db, "伪造二")  # as long as before, but not the same history
    cli("audit", "verify", now=NOW)
    assert "log rewritten since the checkpoint" in _verify(cli, "server", expect=3)


def test_a_checkpoint_with_a_tampered_signature_or_body_is_rejected(cli: Cli) -> None:
    bootstrap(cli)
    _keys(cli, "server")
    _checkpoint(cli)
    [path] = _files(cli)
    good = path.read_text("utf-8")
    text, _, line = good.rstrip("\n").rpartition("\n")
    raw = bytearray(base64.b64decode(line.split(" ")[2]))
    raw[10] ^= 1
    path.write_text(f"{text}\n\u2014 server {base64.b64encode(bytes(raw)).decode()}\n", "utf-8")
    assert "签名无效" in _verify(cli, "server", expect=3)
    lines = good.split("\n")
    lines[1] = str(int(lines[1]) - 1)  # a smaller size under the same signature
    path.write_text("\n".join(lines), "utf-8")
    assert "签名无效" in _verify(cli, "server", expect=3)
    path.write_text(good, "utf-8")
    _keys(cli, "other")
    assert "没有已知公钥的签名" in _verify(cli, "other", expect=3)


def test_a_restored_backup_is_named_and_then_accepted_by_a_province_admin(sqlite_cli: Cli) -> None:
    cli = sqlite_cli
    bootstrap(cli)
    _keys(cli, "server", "province")
    _checkpoint(cli)
    backup = cli.home / "backup.db"
    shutil.copy(cli.db, backup)
    restored = _entries(cli)
    _enterprise(cli)
    _enterprise(cli, SECOND, "许昌瑞丰铸造有限公司")
    _checkpoint(cli)
    lost = _entries(cli)
    shutil.copy(backup, cli.db)  # the server is rebuilt from last night's backup

    err = _verify(cli, "server", expect=3)
    assert f"审计日志止于第 {restored} 条，检查点在第 {lost} 条" in err
    assert f"log ends at {restored}, checkpoint at {lost}" in err
    assert "拒绝签名" in cli("audit", "checkpoint", "--key", str(cli.home / "server.key"), "--out",
                            str(cli.home / "witness"), now=NOW, expect=3).stderr

    accept = ("audit", "accept-restore", "--reason", "服务器磁盘损坏，由 5 月 6 日备份恢复",
              "--checkpoint", str(cli.home / "witness"), "--key", str(cli.home / "province.key"),
              "--pubkey", str(cli.home / "server.key.pub"))
    assert "省级管理员" in cli(*accept, now=NOW, actor="许昌联络员", expect=1).stderr
    with sqlite3.connect(cli.db) as con:  # the refused attempt is on record
        assert con.execute("SELECT actor FROM refusal WHERE event = 'accept_restore'").fetchall() == [("许昌联络员",)]
    out = cli(*accept, now=NOW, actor="省管理员").stdout
    assert f"第 {restored} 条之后的历史被替换" in out and str(lost) in out

    ok = _verify(cli, "server", "province")
    assert f"确认由备份恢复，第 {restored} 条之后的历史被替换" in ok and "服务器磁盘损坏" in ok
    assert "没有已知公钥" not in ok
    # only the province key signed the acceptance: who does not know that key still sees the gap
    assert "log ends at" in _verify(cli, "server", expect=3)
    # the work goes on, and later checkpoints continue from the accepted restore
    _enterprise(cli)
    _checkpoint(cli)
    _verify(cli, "server", "province")
    log = json.loads(cli("audit", "log", "--event", "accept_restore", "--json", now=NOW).stdout)
    assert [(r["actor"], r["reason"]) for r in log] == [("省管理员", "服务器磁盘损坏，由 5 月 6 日备份恢复")]
    # the acceptance excuses only what lies beyond the restored point: a rewrite before it is still caught
    _rechain(cli.db, 3, {"reason": "事后改写"})
    assert "log rewritten before the accepted restore" in _verify(cli, "server", "province", expect=3)


def test_a_restore_is_still_accepted_after_work_went_on_but_never_one_that_contradicts_a_kept_checkpoint(
        sqlite_cli: Cli) -> None:
    cli = sqlite_cli
    bootstrap(cli)
    _keys(cli, "server", "province")
    _checkpoint(cli)
    kept = _entries(cli)
    backup = cli.home / "backup.db"
    shutil.copy(cli.db, backup)
    _enterprise(cli)
    _checkpoint(cli)
    shutil.copy(backup, cli.db)
    _enterprise(cli, SECOND, "许昌瑞丰铸造有限公司")  # the scheduler and the cities carried on
    _append_forged(cli.db, "恢复后的工作")
    assert "log rewritten since the checkpoint" in _verify(cli, "server", expect=3)
    accept = ("audit", "accept-restore", "--reason", "由备份恢复", "--checkpoint", str(cli.home / "witness"),
              "--key", str(cli.home / "province.key"), "--key", str(cli.home / "server.key"))
    assert f"第 {kept} 条之后的历史被替换" in cli(*accept, now=NOW, actor="省管理员").stdout
    _verify(cli, "server")  # signed with both keys: who knows only the server's key accepts it too
    assert "没有需要确认的恢复" in cli(*accept, now=NOW, actor="省管理员", expect=1).stderr


def test_the_daily_tick_writes_one_checkpoint_a_day_with_the_server_key(cli: Cli) -> None:
    bootstrap(cli)
    assert tick(cli, "2024-05-07")["checkpoint"] is None  # no key configured: nothing, no error
    _keys(cli, "server")
    cli.env.update(CAMPAIGN_CHECKPOINT_KEY=str(cli.home / "server.key"),
                   CAMPAIGN_CHECKPOINT_DIR=str(cli.home / "witness"))
    first = tick(cli, "2024-05-07")["checkpoint"]
    assert first["written"] and Path(first["path"]).exists()
    assert tick(cli, "2024-05-07")["checkpoint"]["written"] is False  # once a day
    _enterprise(cli)
    assert tick(cli, "2024-05-08")["checkpoint"]["written"]
    assert tick(cli, "2024-05-08")["checkpoint"]["written"] is False
    assert len(_files(cli)) == 2
    assert "签名有效" in _verify(cli, "server")
    log = json.loads(cli("audit", "log", "--event", "checkpoint", "--json", now=NOW).stdout)
    assert [r["actor"] for r in log] == ["system", "system"]
