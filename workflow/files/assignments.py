"""Read a file of expert assignments for `campaign assign --file` (pure): CSV or the first sheet of an
XLSX, with English or Chinese headers."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from workflow.errors import InvalidInput

_HEADERS = {"code": "code", "统一社会信用代码": "code", "企业代码": "code", "expert": "expert", "专家": "expert",
            "专家姓名": "expert", "remove": "remove", "解除": "remove", "操作": "action", "action": "action"}
_ACTIONS = {"": False, "assign": False, "指派": False, "remove": True, "unassign": True, "解除": True,
            "解除指派": True}
_FLAGS = {"": False, "0": False, "false": False, "no": False, "否": False,
          "1": True, "true": True, "yes": True, "是": True, "y": True, "x": True, "✓": True, "√": True}


def read_assignments(path: str | Path) -> list[tuple[int, str, str, bool]]:
    """The rows of an assignment file (CSV or XLSX): (line, code, expert, remove); a file that cannot
    be read, lacks the columns or has an unknown 操作/remove value raises InvalidInput naming the line."""
    p = Path(path)
    out: list[tuple[int, str, str, bool]] = []
    lines = _lines(p)
    header = [_HEADERS.get(str(h or "").strip()) or _HEADERS.get(str(h or "").strip().lower())
              for h in next(lines, (0, []))[1]]
    if not {"code", "expert"} <= set(header):
        raise InvalidInput(f"{p.name} 须有 code 与 expert 两列（或 统一社会信用代码、专家）(missing columns)")
    for line, values in lines:
        row = {k: "" if v is None else str(v).strip() for k, v in zip(header, values, strict=False) if k}
        if not any(row.values()):
            continue
        flag, table_ = (row["action"], _ACTIONS) if "action" in row else (row.get("remove", ""), _FLAGS)
        if flag.lower() not in table_:
            raise InvalidInput(f"{p.name} 第 {line} 行：操作应为 指派 或 解除，收到 '{flag}' (assign or remove)")
        out.append((line, row["code"], row["expert"], table_[flag.lower()]))
    if not out:
        raise InvalidInput(f"{p.name} 中没有指派数据行 (no rows)")
    return out


def _lines(p: Path) -> Iterator[tuple[int, list[object]]]:
    """(line number, cells) of a CSV or the first sheet of an XLSX, the header first."""
    if not p.is_file():
        raise InvalidInput(f"找不到文件 {p} (file not found)")
    suffix = p.suffix.lower()
    if suffix == ".csv":
        try:
            with p.open(encoding="utf-8-sig", newline="") as f:
                reader = csv.reader(f)
                rows = [(reader.line_num, list[object](values)) for values in reader]
        except (UnicodeDecodeError, csv.Error) as exc:
            raise InvalidInput(f"{p.name} 无法读取（请另存为 UTF-8 编码的 CSV）：{exc}") from None
        yield from rows
    elif suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(p, read_only=True, data_only=True)
        except Exception as exc:
            raise InvalidInput(f"{p.name} 不是有效的 XLSX 文件：{type(exc).__name__} (malformed spreadsheet)") from None
        try:
            yield from enumerate((list(v) for v in wb.worksheets[0].iter_rows(values_only=True)), start=1)
        finally:
            wb.close()
    else:
        raise InvalidInput(f"不支持的文件类型 {p.suffix}，请用 .csv 或 .xlsx (unsupported file type)")
