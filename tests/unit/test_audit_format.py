"""The canonical audit form and chain verification, without a database."""

from __future__ import annotations

from workflow.domain.audit import FIELDS, FORMAT, GENESIS, entry_hash, verify_rows


def _chain(n: int) -> list[tuple]:
    rows, prev = [], GENESIS
    for seq in range(1, n + 1):
        values = (seq, prev, "91410100MA45C2R1XL", 2024, "许昌市", "enroll", None, "cultivation",
                  "许昌联络员", "city_coordinator", "a|b:c", '{"k":"值"}', "2024-05-20T01:00:00Z",
                  "2026-01-01T00:00:00Z")
        assert len(values) == len(FIELDS)
        h = entry_hash(values)
        rows.append((*values, h, FORMAT))
        prev = h
    return rows


def test_an_intact_chain_verifies_and_its_head_is_the_digest() -> None:
    rows = _chain(5)
    verdict = verify_rows(rows, digest=rows[2][-2])
    assert verdict.broken is None and verdict.count == 5 and verdict.digest_found
    assert verdict.head == rows[-1][-2]


def test_separators_inside_fields_cannot_forge_the_same_hash() -> None:
    a = entry_hash((1, GENESIS, "x|1:y", None))
    b = entry_hash((1, GENESIS, "x", "y"))
    assert a != b


def test_an_altered_entry_is_named() -> None:
    rows = _chain(4)
    bad = list(rows[2])
    bad[FIELDS.index("actor")] = "别人"
    rows[2] = tuple(bad)
    verdict = verify_rows(rows)
    assert verdict.broken is not None and verdict.broken.seq == 3


def test_a_deleted_entry_is_named() -> None:
    rows = _chain(4)
    del rows[1]
    verdict = verify_rows(rows)
    assert verdict.broken is not None and verdict.broken.seq == 2


def test_a_digest_that_is_no_longer_in_the_chain_is_reported() -> None:
    rows = _chain(4)
    digest = rows[-1][-2]
    assert not verify_rows(rows[:3], digest=digest).digest_found
