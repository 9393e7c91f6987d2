"""Unified social credit code (统一社会信用代码, GB 32100-2015): pure checks."""

from __future__ import annotations

from functools import lru_cache

from workflow.errors import InvalidInput

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}


class CreditCodeError(InvalidInput):
    """The text is not a valid unified social credit code."""


def check_char(first17: str) -> str:
    """The check character (position 18) for the first 17 characters."""
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


@lru_cache(maxsize=65_536)  # pure; a batch checks each code once per event
def validate(code: str) -> str:
    """Return the normalised code, or raise CreditCodeError saying what is wrong."""
    text = code.strip().upper()
    if len(text) != 18:
        raise CreditCodeError(
            f"统一社会信用代码应为18位，'{code}' 为{len(text)}位 (credit code must have 18 characters)"
        )
    bad = sorted({ch for ch in text if ch not in _VALUE})
    if bad:
        raise CreditCodeError(
            f"统一社会信用代码 '{code}' 含非法字符 {''.join(bad)}（不使用 I、O、S、V、Z）"
        )
    expected = check_char(text[:17])
    if text[17] != expected:
        raise CreditCodeError(
            f"统一社会信用代码 '{code}' 校验位错误：应为 {expected}，实为 {text[17]} (checksum mismatch)"
        )
    return text


def is_henan(code: str) -> bool:
    """Region code (positions 3-8) in Henan (41xxxx)."""
    return code[2:4] == "41"


def region_warning(code: str) -> str | None:
    """A code registered outside Henan is accepted (registration can be provincial or national) but
    worth a second look: the warning to show, or None (docs/rules.md#master-data)."""
    if is_henan(code):
        return None
    return (f"统一社会信用代码 {code} 的登记管理机关行政区划码为 {code[2:8]}，不在河南省（41xxxx）："
            "请核对代码；省外登记的企业可以登记 (registered outside Henan)")


def make(prefix17: str) -> str:
    """Complete 17 characters with their check character (used by synthetic data and tests)."""
    return prefix17 + check_char(prefix17)
