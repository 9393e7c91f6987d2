"""Accepting a restored backup: the province admin records, signed with a checkpoint key, that the
log was restored behind its checkpoints (rules in `workflow.domain.extension`)."""

from __future__ import annotations

from typing import TypedDict

from sqlmodel import Session

from workflow.context import Context
from workflow.domain.checkpoints import Checkpoint
from workflow.domain.extension import judge, restored_line, supersede_line
from workflow.errors import IntegrityFailure, InvalidInput
from workflow.files.keyfiles import notes, read_key, read_pubkeys, settings
from workflow.services import permissions
from workflow.services.actors import lookup
from workflow.store import ledger as chain
from workflow.store.witness import hashes, origin, parsed, restores


class RestoreAccepted(TypedDict):
    seq: int
    restored_from: int  # the last checkpointed size the log still continues
    continues_at: int
    superseded: list[int]  # sizes of the checkpoints given up
    signers: list[str]
    note: str  # the signed checkpoint note


def accept_restore(ctx: Context, reason: str, paths: list[str], keys: list[str],
                   pubkeys: list[str]) -> RestoreAccepted:
    """Record, signed by `keys`, that the database was restored from a backup: the checkpoints in
    `paths` beyond the log are superseded from here on. A province_admin act, audited."""
    reason = reason.strip()

    def work(s: Session) -> RestoreAccepted:
        actor = lookup(s, ctx.actor)
        role = permissions.authorize_role(actor, "accept_restore")
        if not reason:
            raise InvalidInput("请用 --reason 说明恢复的原因与经过 (reason required)")
        if not keys or not paths:
            raise InvalidInput("须给出 --key 签名私钥与 --checkpoint 被恢复越过的检查点 (--key and --checkpoint)")
        signers = [read_key(k) for k in keys]
        found = parsed(notes(paths), read_pubkeys(pubkeys) + [k.verifier() for k in signers])
        book = chain.Ledger(s, ctx)
        size, head = book.head()  # under the chain's lock: the entry goes right after this head
        findings = judge([(n, c) for n, c, _ in found], size, hashes(s, (c.size for _, c, _ in found)),
                         restores(s, None))
        kept = max((f.checkpoint.size for f in findings if f.status == "ok"), default=0)
        lost = [f for f in findings if f.status in ("beyond", "rewritten")]
        if not lost:
            raise InvalidInput("当前日志延续了给出的全部检查点，没有需要确认的恢复 (nothing to accept)")
        clash = next((f for f in lost if f.checkpoint.size <= kept), None)
        if clash is not None:
            raise IntegrityFailure(f"检查点 {clash.source} 与日志不符，而其后第 {kept} 条的检查点仍被延续：两个检查点"
                                   "互相矛盾，这不是备份恢复，不能确认 (conflicting checkpoints, not a restore)")
        point = Checkpoint(origin(s, settings(ctx.home, ctx.settings).origin), size, head,
                           (restored_line(kept), *(supersede_line(f.checkpoint) for f in lost)))
        note = point.text() + "\n" + "".join(k.signature(point.text()) + "\n" for k in signers)
        seq, _ = book.append(chain.Entry(event="accept_restore", actor=actor.name, role=role, reason=reason,
                                         payload={"note": note, "restored_from": kept, "continues_at": size,
                                                  "superseded": [{"size": f.checkpoint.size,
                                                                  "hash": f.checkpoint.head,
                                                                  "file": f.source} for f in lost]}))
        return {"seq": seq, "restored_from": kept, "continues_at": size,
                "superseded": [f.checkpoint.size for f in lost],
                "signers": [k.name for k in signers], "note": note}

    return chain.audited(ctx, "accept_restore", None, work)
