"""Write the CSV files the tests import, and read the XLSX files the exports write."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

HEAD_ZH = ["统一社会信用代码", "企业名称", "所属城市", "区县", "行业", "现绩效等级", "超低排放", "评级文件文号"]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def sheet(path: Path, name: str | None = None) -> Any:
    wb = load_workbook(path)
    return wb[name] if name else wb.worksheets[0]


def header(ws: Any) -> list[str]:
    """The column titles of an exported attachment (row 4, under the title block)."""
    return [c.value for c in ws[4] if c.value is not None]


def body(ws: Any) -> list[list[Any]]:
    """The numbered rows of an exported attachment."""
    return [list(r) for r in ws.iter_rows(min_row=5, max_col=len(header(ws)), values_only=True)
            if isinstance(r[0], int)]
