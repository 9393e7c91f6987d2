"""Does the log extend its checkpoints? And which checkpoints a signed restore acceptance supersedes (pure).

A log extends a checkpoint (size M, hash H) when it has at least M entries and entry #M has hash H:
nothing at or before M was rewritten, removed or inserted since it was signed. A restored backup
ends before the checkpoints signed after the backup was taken. A province admin accepts the restore
with `audit accept-restore`: its audit entry (at seq s) carries a note signed with a checkpoint key,
itself a checkpoint of the log it continues (size s-1, the head before it) with the extension lines
`restored <p>` (the last checkpoint the restored log still extends: history after it was replaced)
and `supersedes <size> <base64 hash>` for each checkpoint the restore discarded. A checkpoint is
excused only by such a line and only beyond p, so an acceptance never excuses a change to history
that a checkpoint still vouches for.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from workflow.domain.checkpoints import Checkpoint
from workflow.errors import IntegrityFailure

SUPERSEDES, RESTORED = "supersedes", "restored"


def supersede_line(cp: Checkpoint) -> str:
    return f"{SUPERSEDES} {cp.size} {base64.b64encode(bytes.fromhex(cp.head)).decode()}"


def restored_line(size: int) -> str:
    return f"{RESTORED} {size}"


def restored_from(point: Checkpoint) -> int:
    for line in point.extensions:
        word, _, size = line.partition(" ")
        if word == RESTORED and size.isdigit():
            return int(size)
    return point.size


def superseded(point: Checkpoint) -> set[tuple[int, str]]:
    out = set()
    for line in point.extensions:
        word, _, rest = line.partition(" ")
        size, _, head = rest.partition(" ")
        if word == SUPERSEDES and size.isdigit():
            out.add((int(size), base64.b64decode(head).hex()))
    return out


@dataclass(frozen=True)
class Restore:
    """An accepted restore, as recorded in the chain at `seq` and signed by `signers`."""

    seq: int
    actor: str
    reason: str
    point: Checkpoint
    signers: tuple[str, ...]

    def covers(self, cp: Checkpoint) -> bool:
        return cp.size > restored_from(self.point) and (cp.size, cp.head) in superseded(self.point)

    def describe(self) -> str:
        lost = sorted(s for s, _ in superseded(self.point))
        return (f"第 {self.seq} 条：{self.actor} 确认由备份恢复，第 {restored_from(self.point)} 条之后的历史被替换"
                f"（取代第 {', '.join(map(str, lost))} 条的检查点；签名 {', '.join(self.signers)}；"
                f"理由：{self.reason}）")


@dataclass(frozen=True)
class Finding:
    source: str
    checkpoint: Checkpoint
    status: str  # ok | superseded | beyond | rewritten
    restore: Restore | None = None


def judge(found: Iterable[tuple[str, Checkpoint]], size: int, hash_at: Mapping[int, str],
          restores: Iterable[Restore]) -> list[Finding]:
    """Each checkpoint against the log of `size` entries (`hash_at`: the hash of entry #n, 0 the genesis)."""
    restores = list(restores)
    out = []
    for source, cp in sorted(found, key=lambda f: (f[1].size, f[0])):
        by = next((r for r in restores if r.covers(cp)), None)
        if by is not None:
            out.append(Finding(source, cp, "superseded", by))
        elif cp.size > size:
            out.append(Finding(source, cp, "beyond"))
        else:
            out.append(Finding(source, cp, "ok" if hash_at.get(cp.size) == cp.head else "rewritten"))
    return out


def problem(findings: list[Finding], size: int) -> IntegrityFailure | None:
    """The failure to report: a log behind its last checkpoint, else the first rewritten position."""
    beyond = [f for f in findings if f.status == "beyond"]
    if beyond:
        last = beyond[-1]
        return IntegrityFailure(
            f"审计日志止于第 {size} 条，检查点在第 {last.checkpoint.size} 条（{last.source}）：数据库由备份恢复，"
            f"或其后条目被删除；若确为备份恢复，由省级管理员执行 campaign audit accept-restore "
            f"(log ends at {size}, checkpoint at {last.checkpoint.size})")
    rewritten = [f for f in findings if f.status == "rewritten"]
    if rewritten:
        first = rewritten[0]
        return IntegrityFailure(
            f"第 {first.checkpoint.size} 条的哈希与检查点 {first.source} 不符：签名之后审计日志被改写 "
            f"(log rewritten since the checkpoint at {first.checkpoint.size})")
    return None
