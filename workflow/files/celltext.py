"""User text in spreadsheet cells stays text (pure): no formula injection through an export.

An enterprise name, a reason or a payload starting with `=`, `+`, `-`, `@`, a tab or a carriage
return would be read as a formula by Excel or LibreOffice (CSV injection, OWASP). In XLSX such a
value is written as a string cell with the quote-prefix style (Excel shows the value as typed and
keeps it text when the cell is edited); in CSV it gets a leading `'`, the OWASP recommendation.
Numbers stay numbers: only `str` values are touched.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 cannot hold (openpyxl refuses them): written escaped, e.g. \x07, not dropped.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def formula_like(value: Any) -> bool:
    """True for text a spreadsheet would evaluate."""
    return isinstance(value, str) and value.startswith(FORMULA_START)


def csv_value(value: Any) -> Any:
    """A CSV field: None as empty, formula-like text with a leading quote, anything else as is."""
    if value is None:
        return ""
    return f"'{value}" if formula_like(value) else value


def xlsx_value(value: Any) -> Any:
    """A value openpyxl can store: text without XML-illegal control characters (escaped instead)."""
    if isinstance(value, str) and _ILLEGAL_XML.search(value):
        return _ILLEGAL_XML.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), value)
    return value


def put(cell: Any, value: Any, style: str | None = None) -> Any:
    """Set an openpyxl cell (and its named style); formula-like text becomes a quote-prefixed string
    cell, never a formula."""
    cell.value = xlsx_value(value)
    if style is not None:
        cell.style = style
    if formula_like(cell.value):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell
