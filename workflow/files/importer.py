"""Read enterprise rows from CSV or XLSX with Chinese or English headers (pure, streaming)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from workflow.errors import InvalidInput

HEADERS = {
    "统一社会信用代码": "code", "code": "code", "企业名称": "name", "name": "name",
    "所属城市": "city", "城市": "city", "city": "city", "区县": "county", "county": "county",
    "行业": "industry", "industry": "industry", "行业细分": "industry_detail", "细分行业": "industry_detail",
    "industry_detail": "industry_detail", "现绩效等级": "grade", "绩效等级": "grade", "grade": "grade",
    "评级文件文号": "rating_doc", "评级文号": "rating_doc", "rating_doc": "rating_doc",
    "超低排放": "ule", "超低排放状态": "ule", "ule": "ule", "超低排放公示文号": "ule_ref", "ule_ref": "ule_ref",
    "超低排放公示日期": "ule_date", "ule_date": "ule_date", "民生保障": "livelihood", "livelihood": "livelihood",
}
REQUIRED = ("code", "name", "city", "industry", "grade")

Row = tuple[int, dict[str, str]]


def _map_headers(raw: list[str], path: Path) -> list[str | None]:
    keys = [(h or "").strip() for h in raw]
    mapped = [HEADERS.get(k) or HEADERS.get(k.lower()) for k in keys]
    missing = [k for k in REQUIRED if k not in mapped]
    if missing:
        raise InvalidInput(f"{path.name} 缺少列：{', '.join(missing)}（可用中文表头如 统一社会信用代码、"
                           f"企业名称、所属城市、行业、现绩效等级；"
                           "另有 行业细分、评级文件文号、超低排放、超低排放公示文号、超低排放公示日期）"
                           "(missing columns)")
    return mapped


def _rows(header: list[str | None], lines: Iterator[tuple[int, list[object]]]) -> Iterator[Row]:
    for line, values in lines:
        if not any(v not in (None, "") for v in values):
            continue
        row = {k: ("" if v is None else str(v).strip()) for k, v in zip(header, values, strict=False) if k}
        yield line, row


def read(path: str | Path) -> Iterator[Row]:
    """Yield (line number, row dict); raise InvalidInput for an unreadable file."""
    p = Path(path)
    if not p.is_file():
        raise InvalidInput(f"找不到文件 {p} (file not found)")
    suffix = p.suffix.lower()
    if suffix == ".csv":
        return _read_csv(p)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(p)
    raise InvalidInput(f"不支持的文件类型 {p.suffix}，请用 .csv 或 .xlsx (unsupported file type)")


def _read_csv(p: Path) -> Iterator[Row]:
    try:
        f = p.open(encoding="utf-8-sig", newline="")
        reader = csv.reader(f)
        header = _map_headers(next(reader, []), p)
    except UnicodeDecodeError:
        raise InvalidInput(f"{p.name} 不是 UTF-8 编码的 CSV，请另存为 UTF-8 (encoding)") from None

    def lines() -> Iterator[tuple[int, list[object]]]:
        with f:
            try:
                for values in reader:
                    yield reader.line_num, list(values)
            except (UnicodeDecodeError, csv.Error) as exc:
                raise InvalidInput(f"{p.name} 第 {reader.line_num} 行无法读取：{exc}") from None

    return _rows(header, lines())


def _read_xlsx(p: Path) -> Iterator[Row]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(p, read_only=True, data_only=True)
    except Exception as exc:
        raise InvalidInput(f"{p.name} 不是有效的 XLSX 文件：{type(exc).__name__} (malformed spreadsheet)") from None
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    first = next(it, None)
    header = _map_headers([str(h) if h is not None else "" for h in (first or [])], p)

    def lines() -> Iterator[tuple[int, list[object]]]:
        try:
            for i, values in enumerate(it, start=2):
                yield i, list(values)
        finally:
            wb.close()

    return _rows(header, lines())
