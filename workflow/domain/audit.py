"""Audit entries as canonical, versioned data; hashing and chain verification (pure).

Format 1: each field is written as `<length>:<text>` (None as `-`), joined by
`|`, after the literal `v1`. Length-prefixing makes the form unambiguous
without escaping, and the payload is stored already as canonical JSON, so
verifying never re-serialises anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from workflow.text import canonical_json as _canonical

FORMAT = 1
GENESIS = "0" * 64
# Order matters: it is part of the format.
FIELDS = ("seq", "prev_hash", "code", "campaign_year", "city", "event", "from_state",
          "to_state", "actor", "role", "reason", "payload", "effective_at", "recorded_at")


_SHA256 = hashlib.sha256


def canonical_json(payload: Any) -> str:
    return _canonical(payload)


def _part(value: object) -> str:
    if value is None:
        return "-"
    s = str(value)
    return f"{len(s)}:{s}"


def entry_hash(values: Sequence[object]) -> str:
    """SHA-256 over the canonical form of the values, in FIELDS order (the hot path of append and
    verify: strings, the most of them, are written in place)."""
    body = "v1|" + "|".join([f"{len(v)}:{v}" if v.__class__ is str else "-" if v is None else _part(v)
                             for v in values])
    return _SHA256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Break:
    seq: int
    code: str | None
    problem: str

    def message(self) -> str:
        who = f"企业 {self.code} " if self.code else ""
        return f"审计链断裂于第 {self.seq} 条（{who}seq {self.seq}）：{self.problem} (audit chain broken)"


@dataclass(frozen=True)
class Verdict:
    count: int
    head: str
    broken: Break | None
    digest_found: bool


def verify_rows(rows: Iterable[Sequence[Any]], digest: str | None = None, *, start: int = 1,
                prev: str = GENESIS) -> Verdict:
    """Walk rows of (FIELDS..., hash, format) in seq order, from seq `start` after the hash `prev`.

    The digest of a log is the hash of its last entry; an earlier digest must
    still be some entry's hash, or history was cut off or rewritten since.
    """
    expected_seq, count = start, 0
    found = digest is None or digest == GENESIS
    for row in rows:
        values, stored, fmt = row[:-2], row[-2], row[-1]
        seq = values[0]
        if fmt != FORMAT:
            return Verdict(count, prev, Break(seq, values[2], f"未知格式版本 {fmt}"), found)
        if seq != expected_seq:
            what = "缺失（被删除）" if seq > expected_seq else "顺序错乱（插入）"
            problem = f"序号应为 {expected_seq}，实为 {seq}，{what}"
            return Verdict(count, prev, Break(expected_seq, values[2], problem), found)
        if values[1] != prev:
            return Verdict(count, prev, Break(seq, values[2], "prev_hash 与上一条不符（被插入或改写）"), found)
        if entry_hash(values) != stored:
            return Verdict(count, prev, Break(seq, values[2], "内容与哈希不符（被改写）"), found)
        prev = stored
        if stored == digest:
            found = True
        expected_seq += 1
        count += 1
    return Verdict(count, prev, None, found)
