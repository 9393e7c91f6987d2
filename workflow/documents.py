"""The campaign's document store: submitted files, content-addressed, under the campaign home."""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidInput

ROOT = "documents"


@dataclass(frozen=True)
class Stored:
    name: str  # the file's original name
    sha256: str
    path: str  # relative to the campaign home, e.g. documents/2024/许昌市/attachment1-2024-05-1a2b3c4d.xlsx


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def store(home: Path, year: int, city: str, stem: str, source: Path) -> Stored:
    """Copy `source` into documents/YEAR/CITY/STEM-<sha8><suffix> (once per content)."""
    if not source.is_file():
        raise InvalidInput(f"找不到文件 {source} (file not found)")
    try:
        sha = sha256_of(source)
        rel = Path(ROOT) / str(year) / city / f"{stem}-{sha[:8]}{source.suffix.lower()}"
        dest = home / rel
        if not (dest.is_file() and sha256_of(dest) == sha):
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
            shutil.copyfile(source, tmp)
            os.replace(tmp, dest)
    except OSError as exc:
        raise InvalidInput(f"无法保存文件 {source.name} 到文档库：{exc.strerror or exc}") from None
    return Stored(source.name, sha, rel.as_posix())
