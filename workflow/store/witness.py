"""Checkpoints against the database: sign (or countersign), verify, the daily one.

The database never holds a private key: the key file is read by the process that signs.
"""

from __future__ import annotations

import json
import logging
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlmodel import Session

from models.db import UnitOfWork
from models.tables import AuditEntry, Campaign, table
from workflow.context import Context
from workflow.domain.audit import GENESIS
from workflow.domain.checkpoints import Checkpoint, Signer, Verifier, cosign, parse, signed_by, split
from workflow.domain.extension import Restore, judge, problem, restored_from
from workflow.errors import CampaignError, IntegrityFailure, InvalidInput
from workflow.files.keyfiles import notes, read_key, read_pubkeys, settings, write_atomic
from workflow.services.actors import SYSTEM
from workflow.store import chain
from workflow.store.ledger import Entry, Ledger

log = logging.getLogger("campaign.scheduler")
_AU, _C = table(AuditEntry).c, table(Campaign).c
CHECKPOINT_LOCK = 727_3002  # PostgreSQL: one daily checkpoint at a time


def origin(s: Session, configured: str | None) -> str:
    """The log's name in its checkpoints: configured, else the first campaign's authority."""
    if configured:
        return re.sub(r"[\s+]", "", configured)
    calendar = s.execute(select(_C.calendar).order_by(_C.year).limit(1)).scalar_one_or_none()
    name = str(tomllib.loads(calendar).get("campaign", {}).get("authority", "")) if calendar else ""
    return re.sub(r"[\s+]", "", f"{name}/创A晋B审计日志" if name else "创A晋B审计日志")


def hashes(s: Session, sizes: Iterable[int]) -> dict[int, str]:
    wanted = sorted({n for n in sizes if n > 0})
    found = {0: GENESIS}
    for i in range(0, len(wanted), 500):
        found.update((int(q), str(h)) for q, h in s.execute(
            select(_AU.seq, _AU.hash).where(_AU.seq.in_(wanted[i:i + 500]))).all())
    return found


def _size(s: Session) -> tuple[int, str]:
    row = s.execute(select(_AU.seq, _AU.hash).order_by(_AU.seq.desc()).limit(1)).one_or_none()
    return (int(row[0]), str(row[1])) if row else (0, GENESIS)


def restores(s: Session, known: list[Verifier] | None) -> list[Restore]:
    """The accepted restores in the chain; with `known`, only those signed by a known key."""
    out = []
    for seq, actor, reason, payload, prev in s.execute(
            select(_AU.seq, _AU.actor, _AU.reason, _AU.payload, _AU.prev_hash)
            .where(_AU.event == "accept_restore").order_by(_AU.seq)).all():
        source = f"恢复确认（审计第 {seq} 条）"
        note = json.loads(payload).get("note", "")
        body, signers = (signed_by(note, known, source, require=False) if known is not None
                         else (split(note, source)[0], []))
        point = parse(body, source)
        if (point.size, point.head) != (seq - 1, prev):
            raise IntegrityFailure(f"{source}签署的第 {point.size} 条与当前日志不符：此前的审计日志被改写 "
                                   "(log rewritten before the accepted restore)")
        if known is None or signers:
            out.append(Restore(int(seq), actor, reason, point, tuple(signers)))
    return out


def parsed(found: list[tuple[str, str]], known: list[Verifier] | None) -> list[tuple[str, Checkpoint, list[str]]]:
    out = []
    for name, note in found:
        body, signers = signed_by(note, known, name) if known is not None else (split(note, name)[0], [])
        out.append((name, parse(body, name), signers))
    return out


def sign(ctx: Context, key: str | Path, out: str | Path) -> dict[str, Any]:
    """Sign the log's size and head into `out`, or countersign the checkpoint of that size there.

    Refused (exit 3) when the chain is broken or the log does not extend a checkpoint in `out`."""
    with UnitOfWork(ctx.engine) as uow:
        return _sign(uow.session, ctx, read_key(key), Path(out))


def _sign(s: Session, ctx: Context, signer: Signer, folder: Path) -> dict[str, Any]:
    if folder.exists() and not folder.is_dir():
        raise InvalidInput(f"--out {folder} 不是目录 (not a directory)")
    verdict = chain.verify(ctx.engine)
    if verdict.broken is not None:
        broken = verdict.broken
        raise IntegrityFailure(broken.message(), seq=broken.seq, code=broken.code)
    size, head = verdict.count, verdict.head
    existing = parsed(notes([folder]) if folder.is_dir() else [], None)
    name = origin(s, settings(ctx.home, ctx.settings).origin)
    hash_at = hashes(s, (c.size for _, c, _ in existing))
    failure = problem(judge([(n, c) for n, c, _ in existing], size, hash_at, restores(s, None)), size)
    if failure is not None:
        raise IntegrityFailure(f"拒绝签名：{failure}")
    cp = Checkpoint(name, size, head)
    path = folder / f"checkpoint-{size:06d}-{head[:8]}.txt"
    if path.exists():
        note, added = cosign(path.read_text("utf-8"), signer, path.name)
        if split(note, path.name)[0] != cp.text():
            raise IntegrityFailure(f"{path.name} 与当前日志不符，不能加签 (checkpoint differs from the log)")
    else:
        note, added = cp.note(signer), True
    if added:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(path, note)
    return {"path": str(path), "origin": name, "size": size, "head": head, "key": signer.name,
            "signed": added, "countersigned": added and len(split(note, path.name)[1]) > 1, "note": note}


def verify(ctx: Context, folder: str | Path, pubkeys: Iterable[str | Path]) -> dict[str, Any]:
    """Every checkpoint in `folder` is signed by a known key and extended by the log (or superseded
    by a signed restore acceptance); IntegrityFailure otherwise."""
    known = read_pubkeys(pubkeys)
    if not known:
        raise InvalidInput("--checkpoints 须配合至少一个 --pubkey 公钥文件 (--pubkey required)")
    if not Path(folder).is_dir():
        raise InvalidInput(f"--checkpoints {folder} 不是目录 (not a directory)")
    found = parsed(notes([folder]), known)
    if not found:
        raise InvalidInput(f"目录 {folder} 中没有检查点文件 checkpoint-*.txt (no checkpoints)")
    with UnitOfWork(ctx.engine) as uow:
        s = uow.session
        size, _ = _size(s)
        name = origin(s, settings(ctx.home, ctx.settings).origin)
        done = restores(s, known)
        hash_at = hashes(s, (c.size for _, c, _ in found))
    for file, cp, _ in found:
        if cp.origin != name:
            raise IntegrityFailure(f"检查点 {file} 属于另一个日志（{cp.origin}，本日志为 {name}）(wrong origin)")
    findings = judge([(n, c) for n, c, _ in found], size, hash_at, done)
    failure = problem(findings, size)
    if failure is not None:
        raise failure
    signers = {n: sig for n, _, sig in found}
    last = max((f for f in findings if f.status == "ok"), key=lambda f: f.checkpoint.size, default=None)
    return {"checkpoints": len(found), "extended": sum(f.status == "ok" for f in findings),
            "superseded": [f.source for f in findings if f.status == "superseded"],
            "latest": None if last is None else {"file": last.source, "size": last.checkpoint.size,
                                                 "signers": signers[last.source]},
            "restores": [{"seq": r.seq, "actor": r.actor, "reason": r.reason, "continues_at": r.point.size,
                          "restored_from": restored_from(r.point), "signers": list(r.signers),
                          "text": r.describe()} for r in done]}


def _done_today(s: Session, day: str) -> bool:
    last = s.execute(select(_AU.payload).where(_AU.event == "checkpoint").order_by(_AU.seq.desc()).limit(1)
                     ).scalar_one_or_none()
    return last is not None and str(json.loads(last).get("day", "")) >= day


def daily(ctx: Context) -> dict[str, Any] | None:
    """The scheduler's checkpoint of the day, signed with the server key (CAMPAIGN_CHECKPOINT_KEY)
    into the witness directory, once a day (its audit entry `checkpoint` is the natural key).
    None when no key is configured; a failure is logged and returned, never raised."""
    conf = settings(ctx.home, ctx.settings)
    if conf.key is None:
        return None
    day = ctx.today.isoformat()
    try:
        with UnitOfWork(ctx.engine) as uow:
            s = uow.session
            if s.connection().dialect.name == "postgresql":
                s.connection().execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHECKPOINT_LOCK})
            if _done_today(s, day):
                return {"day": day, "written": False}
            made = _sign(s, ctx, read_key(conf.key), conf.dir)
            Ledger(s, ctx).append(Entry(
                event="checkpoint", actor=SYSTEM.name, role="system",
                payload={"day": day, "size": made["size"], "hash": made["head"], "file": Path(made["path"]).name,
                         "key": made["key"]}))
            uow.commit()
        return {"day": day, "written": True, "path": made["path"], "size": made["size"]}
    except (CampaignError, OSError) as exc:
        log.error("daily checkpoint failed: %s", exc)
        return {"day": day, "written": False, "error": str(exc)}
