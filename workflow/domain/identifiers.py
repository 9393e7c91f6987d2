"""Identifiers people type (actor names, months, vocabulary terms): one normal form, nothing invisible.

Pure: the standard library only. `clean_identifier` NFKC-normalises and strips the text, then refuses
what would let two different strings look the same or smuggle a line break into a record: control
characters (category Cc, e.g. a newline inside the text), format characters (Cf: zero-width space and
joiners, the byte-order mark, soft hyphen, bidirectional controls), line and paragraph separators,
surrogates, private-use and unassigned code points.
"""

from __future__ import annotations

import unicodedata

from workflow.errors import InvalidInput

_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def invisible_characters(text: str) -> list[str]:
    """The code points of `text` that `clean_identifier` refuses, as 'U+200B' strings, in order."""
    return [f"U+{ord(ch):04X}" for ch in text if unicodedata.category(ch) in _REFUSED_CATEGORIES]


def clean_identifier(text: str, what: str) -> str:
    """`text` in NFKC form without surrounding whitespace; InvalidInput (naming `what`) if it is empty
    or holds a control or zero-width character. `what` is the Chinese name of the field, e.g. '操作人名称'."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if not cleaned:
        raise InvalidInput(f"{what}不能为空 (empty)")
    bad = invisible_characters(cleaned)
    if bad:
        shown = "、".join(dict.fromkeys(bad))
        raise InvalidInput(f"{what}含有不可见字符或控制字符 {shown}，请删除后重试 "
                           f"(zero-width or control character)")
    return cleaned
