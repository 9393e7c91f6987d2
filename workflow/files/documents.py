"""The campaign's document store: submitted files, content-addressed, under the campaign home."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from workflow.errors import InvalidInput

ROOT = "documents"


@dataclass(frozen=True)
class Stored:
    name: str  # the file's original name
    sha256: str
    path: str  # relative to the campaign home, e.g. documents/2024/许昌市/attachment1-2024-05-1a2b3c4d.xlsx
    created: bool = False  # this call wrote the file (it was not in the store yet)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_private(dest: Path, src: BinaryIO) -> None:
    """Write `src` to `dest` atomically (a temporary file beside it, then rename), mode 0600."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")  # threads of one server too
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
            os.fchmod(out.fileno(), 0o600)
            shutil.copyfileobj(src, out)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def store(home: Path, year: int, city: str, stem: str, source: Path) -> Stored:
    """Copy `source` into documents/YEAR/CITY/STEM-<sha8><suffix> (once per content; mode 0600).
    The caller records it in the same transaction and calls `discard` if that fails."""
    if source.is_dir():
        raise InvalidInput(f"--file {source} 是目录，请给出文件 (a directory, not a file)")
    if not source.is_file():
        raise InvalidInput(f"找不到文件 {source} (file not found)")
    created = False
    try:
        sha = sha256_of(source)
        rel = Path(ROOT) / str(year) / city / f"{stem}-{sha[:8]}{source.suffix.lower()}"
        dest = home / rel
        if not (dest.is_file() and sha256_of(dest) == sha):
            with source.open("rb") as src:
                write_private(dest, src)
            created = True
    except OSError as exc:
        raise InvalidInput(f"无法保存文件 {source.name} 到文档库：{exc.strerror or exc}") from None
    return Stored(source.name, sha, rel.as_posix(), created)


def discard(home: Path, doc: Stored) -> None:
    """Undo `store` after the submission failed: remove the file if this submission wrote it, and
    the folders that are empty then (nothing is left of a submission that was not recorded)."""
    if not doc.created:
        return
    path = home / doc.path
    path.unlink(missing_ok=True)
    for folder in path.parents:
        if folder == home or not folder.is_relative_to(home / ROOT):
            break
        try:
            folder.rmdir()
        except OSError:
            break
