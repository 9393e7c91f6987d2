"""Write `Sheet` values as a printable XLSX workbook or a CSV file (atomically, mode 0600; user text
stays text, see `celltext`)."""

from __future__ import annotations

import csv
import math
import os
import tempfile
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workflow.errors import InvalidInput
from workflow.files.celltext import csv_value, put
from workflow.reports.sheets import Sheet

SUFFIXES = (".xlsx", ".csv")
_BODY, _HEAD = "宋体", "黑体"


def check_out(path: str | Path, option: str = "--out") -> Path:
    """The output file must end in .xlsx or .csv and sit in an existing directory."""
    p = Path(path)
    if p.is_dir():
        raise InvalidInput(f"{option} {p} 是目录：请给出 .xlsx 或 .csv 文件名 (a directory, not a file)")
    if p.suffix.lower() not in SUFFIXES:
        raise InvalidInput(f"{option} {p.name} 须以 .xlsx 或 .csv 结尾 (unsupported file type)")
    if not p.parent.is_dir():
        raise InvalidInput(f"{option} 的目录 {p.parent} 不存在")
    return p


def write(sheets: list[Sheet], path: str | Path, *, simulation: bool = False) -> Path:
    """Write the sheets as XLSX or CSV (by the suffix); a simulation's says so under the title (模拟)."""
    if simulation:
        from dataclasses import replace

        from workflow.context import SIMULATION_MARK as MARK

        sheets = [replace(sh, subtitle=f"{MARK}{sh.subtitle}") for sh in sheets]
    p = check_out(path)
    writer = _xlsx if p.suffix.lower() == ".xlsx" else _csv
    atomic(p, lambda tmp: writer(sheets, tmp))
    return p


def atomic(p: Path, produce: Callable[[Path], object]) -> None:
    """Let `produce` write a temporary file beside `p`, then move it into place; on any
    failure the temporary file goes and `p` is left as it was. The file is readable by its owner
    only (0600), whatever the umask: exports hold enterprises' data."""
    fd, name = tempfile.mkstemp(prefix=f".{p.stem}.", suffix=p.suffix, dir=p.parent)
    os.fchmod(fd, 0o600)
    os.close(fd)
    try:
        produce(Path(name))
        os.replace(name, p)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def _csv(sheets: list[Sheet], path: Path) -> None:
    many = len(sheets) > 1
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow([csv_value(v) for v in (["城市"] if many else []) + sheets[0].headers])
        for sh in sheets:
            for row in sh.rows:
                w.writerow([csv_value(v) for v in ([sh.name] if many else []) + list(row)])


def text_width(value: Any) -> int:
    """Display width: CJK and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(value))


def _styles(wb: Any) -> None:
    """Named styles, registered once per workbook: assigning them is cheap, building fonts per cell is not."""
    from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side

    thin = Side(style="thin", color="000000")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    specs = {
        "att_head": (Font(name=_HEAD, size=11, bold=True), Alignment("center", "center", wrap_text=True), True),
        "att_text": (Font(name=_BODY, size=10), Alignment(vertical="center", wrap_text=True), False),
        "att_seq": (Font(name=_BODY, size=10), Alignment("center", "center"), False),
        "att_num": (Font(name=_BODY, size=10), Alignment("right", "center"), False),
    }
    for name, (font, align, fill) in specs.items():
        style = NamedStyle(name=name, font=font, alignment=align, border=box)
        if fill:
            style.fill = PatternFill("solid", fgColor="D9E1F2")
        wb.add_named_style(style)


def _xlsx(sheets: list[Sheet], path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    first = wb.active
    if first is not None:
        wb.remove(first)
    _styles(wb)
    for sh in sheets:
        _sheet(wb.create_sheet(sh.name[:31]), sh)
    wb.save(path)


def _sheet(ws: Any, sh: Sheet) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    n = len(sh.columns)
    last = get_column_letter(n)
    put(ws["A1"], sh.label)
    ws["A1"].font = Font(name=_HEAD, size=12, bold=True)
    ws.merge_cells(f"A2:{last}2")
    put(ws["A2"], sh.title)
    ws["A2"].font = Font(name=_HEAD, size=16, bold=True)
    ws["A2"].alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.row_dimensions[2].height = 36
    ws.merge_cells(f"A3:{last}3")
    put(ws["A3"], sh.subtitle)
    ws["A3"].font = Font(name=_BODY, size=10)
    for i, col in enumerate(sh.columns, 1):
        put(ws.cell(row=4, column=i), col.header, "att_head")
        ws.column_dimensions[get_column_letter(i)].width = col.width
    ws.row_dimensions[4].height = 30
    kinds = ["att_seq", *("att_num" if c.number else "att_text" for c in sh.columns[1:])]
    r = 5
    for r, row in enumerate(sh.rows, 5):
        lines = 1
        for i, (col, value) in enumerate(zip(sh.columns, row, strict=True), 1):
            put(ws.cell(row=r, column=i), value, kinds[i - 1])
            if value is not None and not col.number:
                lines = max(lines, math.ceil(text_width(value) / max(col.width - 1, 1)))
        ws.row_dimensions[r].height = max(20, 15 * lines + 4)
    if not sh.rows:
        ws.merge_cells(f"A5:{last}5")
        ws["A5"] = "（本期无数据）"
        ws["A5"].alignment = Alignment(horizontal="center", vertical="center")
        ws["A5"].font = Font(name=_BODY, size=10)
    if sh.footer:
        _footer(ws, sh, r + 2)
    _print_setup(ws, last)


def _footer(ws: Any, sh: Sheet, row: int) -> None:
    """The 盖章签字 block under the table, spread over the width of the page."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    n, parts = len(sh.columns), len(sh.footer)
    bounds = [round(k * n / parts) for k in range(parts + 1)]
    for k, text in enumerate(sh.footer):
        a, b = get_column_letter(bounds[k] + 1), get_column_letter(max(bounds[k + 1], bounds[k] + 1))
        if a != b:
            ws.merge_cells(f"{a}{row}:{b}{row}")
        put(ws[f"{a}{row}"], text)
        ws[f"{a}{row}"].font = Font(name=_BODY, size=11)
        ws[f"{a}{row}"].alignment = Alignment(horizontal="left", vertical="bottom")
    ws.row_dimensions[row].height = 48


def _print_setup(ws: Any, last: str) -> None:
    ws.print_title_rows = "4:4"
    ws.freeze_panes = "A5"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.print_area = f"A1:{last}{ws.max_row}"
