"""Evidence files (佐证材料) on disk: their type judged from the content, never from the name; the
size limit; the name cleaned; stored content-addressed in the document store under
documents/evidence/<sha[:2]>/<sha> (the same bytes once, however often they are uploaded), mode 0600.
No database here: workflow.services.evidence records them with the event they support."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from workflow.domain.decide import Evidence
from workflow.errors import InvalidInput
from workflow.files.documents import ROOT, Stored, discard, sha256_of, write_private

FOLDER = "evidence"
MAX_SETTING = "CAMPAIGN_EVIDENCE_MAX_MB"
DEFAULT_MAX_MB = 20
MB = 1024 * 1024
NAME_MAX = 120  # characters of a cleaned file name, its extension included
PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What each accepted type is called and the extensions its name may keep (the first is added otherwise).
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    PDF: ("PDF", (".pdf",)), JPEG: ("JPEG", (".jpg", ".jpeg")), PNG: ("PNG", (".png",)),
    DOCX: ("Word (DOCX)", (".docx",)), XLSX: ("Excel (XLSX)", (".xlsx",)),
}
ALLOWED = "PDF、JPEG、PNG、DOCX、XLSX"
_SHA = re.compile(r"[0-9a-f]{64}")
_UNSAFE = re.compile(r'[<>:"|?*]')  # not in a file name on Windows: a download must save anywhere


@dataclass(frozen=True)
class Checked:
    """An upload that passed every check, with its bytes (not stored yet)."""

    name: str  # cleaned
    sha256: str
    size: int
    media_type: str
    content: bytes

    @property
    def evidence(self) -> Evidence:
        return Evidence(sha256=self.sha256, name=self.name, size=self.size, media_type=self.media_type)


def max_bytes(settings: Mapping[str, str]) -> int:
    """The largest file accepted: CAMPAIGN_EVIDENCE_MAX_MB megabytes (MiB; default 20)."""
    raw = (settings.get(MAX_SETTING) or "").strip()
    if not raw:
        return DEFAULT_MAX_MB * MB
    try:
        mb = float(raw)
    except ValueError:
        mb = 0.0
    if not 0 < mb <= 1024:
        raise InvalidInput(f"{MAX_SETTING} 应为 0 到 1024 之间的数（兆字节），现为 '{raw}'")
    return int(mb * MB)


def in_mb(limit: int) -> str:
    """A limit in bytes as the megabytes a person set ("20", "0.5")."""
    return f"{round(limit / MB, 3):g}"


def detect(content: bytes) -> str | None:
    """The media type the content is (PDF, JPEG, PNG, DOCX, XLSX), or None for anything else."""
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"PK\x03\x04"):
        try:  # only the directory is read: nothing is decompressed
            with zipfile.ZipFile(io.BytesIO(content)) as z:
                names = set(z.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        if "[Content_Types].xml" in names:
            if "word/document.xml" in names:
                return DOCX
            if "xl/workbook.xml" in names:
                return XLSX
    return None


def clean_name(name: str, media_type: str) -> str:
    """The file's own name only (no folders), without control or direction characters or characters
    a file system refuses, at most NAME_MAX characters, ending in an extension of its detected type."""
    base = re.split(r"[/\\]", name or "")[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base)
                   if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))
    base = _UNSAFE.sub("_", base).strip().lstrip(".").strip()
    exts = KINDS[media_type][1]
    stem, dot, ext = base.rpartition(".")
    if not dot or f".{ext.lower()}" not in exts:
        stem, ext = base, exts[0][1:]
    stem = stem.strip() or "佐证材料"
    return f"{stem[:NAME_MAX - len(ext) - 1].rstrip()}.{ext.lower()}"


def check(name: str, content: bytes, limit: int) -> Checked:
    """The upload judged: InvalidInput (one line, Chinese) when it is too large, empty or not one of
    the accepted types by its content (an HTML page or a script renamed `.pdf` is refused)."""
    shown = re.split(r"[/\\]", name or "")[-1][:NAME_MAX] or "（无名文件）"
    if len(content) > limit:
        raise InvalidInput(f"文件 {shown} 超过大小上限 {in_mb(limit)} MB，未保存；请压缩或拆分后重新上传 "
                           "(file too large)")
    if not content:
        raise InvalidInput(f"文件 {shown} 是空文件，未保存；请选择正确的文件 (empty file)")
    media = detect(content)
    if media is None:
        raise InvalidInput(f"文件 {shown} 的内容不是 {ALLOWED} 之一（按文件内容判断，与扩展名无关），未保存；"
                           "请上传原始文件 (file type not allowed)")
    return Checked(clean_name(name, media), hashlib.sha256(content).hexdigest(), len(content), media, content)


def read(path: str | Path, limit: int) -> tuple[str, bytes]:
    """A file given on the command line: (its name, its bytes), read at most limit + 1 bytes."""
    p = Path(path)
    if p.is_dir():
        raise InvalidInput(f"--evidence {p} 是目录，请给出文件 (a directory, not a file)")
    try:
        with p.open("rb") as f:
            return p.name, f.read(limit + 1)
    except FileNotFoundError:
        raise InvalidInput(f"找不到文件 {p} (file not found)") from None
    except OSError as exc:
        raise InvalidInput(f"无法读取文件 {p}：{exc.strerror or exc}") from None


def relpath(sha256: str) -> str:
    """Where the file of this content lives, relative to the campaign home."""
    if not _SHA.fullmatch(sha256):
        raise InvalidInput(f"不是 SHA-256 摘要：'{sha256[:80]}'")
    return str(PurePosixPath(ROOT, FOLDER, sha256[:2], sha256))


def is_sha256(text: str) -> bool:
    return bool(_SHA.fullmatch(text))


def store(home: Path, f: Checked) -> Stored:
    """Write the file under its hash unless that content is there already (then nothing is written).
    The caller records it in the same transaction and calls `discard` if that fails."""
    rel = relpath(f.sha256)
    dest = home / rel
    try:
        if dest.is_file() and sha256_of(dest) == f.sha256:
            return Stored(f.name, f.sha256, rel, False)
        write_private(dest, io.BytesIO(f.content))
    except OSError as exc:
        raise InvalidInput(f"无法保存文件 {f.name} 到文档库：{exc.strerror or exc}") from None
    return Stored(f.name, f.sha256, rel, True)


def unstore(home: Path, doc: Stored) -> None:
    """Undo `store` after the event was not recorded: remove what this call wrote."""
    discard(home, doc)


def state(path: Path, sha256: str) -> str:
    """"ok", "missing" or "altered": the stored file against the hash its audit entry names."""
    if not path.is_file():
        return "missing"
    try:
        return "ok" if sha256_of(path) == sha256 else "altered"
    except OSError:
        return "missing"
