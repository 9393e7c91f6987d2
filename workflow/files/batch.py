"""Read a CSV of events for `advance --file` (pure)."""

from __future__ import annotations

import csv
from pathlib import Path

from workflow.domain.decide import Request
from workflow.errors import InvalidInput

_KNOWN = {"code", "event", "reason", "target_grade", "consent", "month", "grade", "effective"}


def read_events(path: str | Path) -> list[tuple[int, Request]]:
    p = Path(path)
    try:
        with p.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            if not reader.fieldnames or not {"code", "event"} <= set(reader.fieldnames):
                raise InvalidInput(f"{p.name} 须有 code 与 event 两列 (missing columns)")
            out = []
            for row in reader:
                data = {k[5:]: v for k, v in row.items() if k and k.startswith("data.") and v}
                def opt(key: str, row: dict[str, str] = row) -> str | None:
                    return (row.get(key) or "").strip() or None

                out.append((reader.line_num, Request(
                    code=(row.get("code") or "").strip(), event=(row.get("event") or "").strip(),
                    reason=row.get("reason") or "", data=data, target_grade=opt("target_grade"),
                    consent=opt("consent"), month=opt("month"), grade=opt("grade"),
                    effective=opt("effective"))))  # a backlog: the day each decision took effect
            return out
    except FileNotFoundError:
        raise InvalidInput(f"找不到文件 {p}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInput(f"{p.name} 无法读取：{exc}") from None
