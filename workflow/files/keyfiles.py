"""Checkpoint keys and checkpoint files on disk: keygen, reading keys, the witness directory."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workflow.domain.checkpoints import Signer, Verifier, generate, read_signer, read_verifier
from workflow.errors import IntegrityFailure, InvalidInput, NotFound

PATTERN = "checkpoint-*.txt"


@dataclass(frozen=True)
class Settings:
    key: Path | None  # the server's private key (CAMPAIGN_CHECKPOINT_KEY); None: no daily checkpoint
    dir: Path  # the witness directory (CAMPAIGN_CHECKPOINT_DIR, default checkpoints/)
    origin: str | None  # CAMPAIGN_CHECKPOINT_ORIGIN; None: from the campaign's authority


def settings(home: Path, env: Mapping[str, str]) -> Settings:
    """The checkpoint settings from `env`, the run's settings (`Context.settings`)."""
    key = env.get("CAMPAIGN_CHECKPOINT_KEY", "").strip()
    out = Path(env.get("CAMPAIGN_CHECKPOINT_DIR", "").strip() or "checkpoints").expanduser()
    return Settings(Path(key).expanduser() if key else None, out if out.is_absolute() else home / out,
                    env.get("CAMPAIGN_CHECKPOINT_ORIGIN", "").strip() or None)


def _text(path: Path, what: str) -> str:
    if not path.is_file():
        raise NotFound(f"找不到{what} {path} (no such file)")
    try:
        return path.read_text("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{what} {path} 不是文本文件 (not a key file)") from None


def keygen(path: str | Path, name: str) -> dict[str, Any]:
    """A new key pair: `path` private (mode 0600, never overwritten), `path`.pub public."""
    private, public = Path(path), Path(f"{path}.pub")
    for p in (private, public):
        if p.exists() or p.is_symlink():
            raise InvalidInput(f"{p} 已存在，不会覆盖密钥 (refusing to overwrite a key file)")
    if not private.parent.is_dir():
        raise InvalidInput(f"目录 {private.parent} 不存在 (no such directory)")
    signer = generate(name)
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (signer.line() + "\n").encode())
    finally:
        os.close(fd)
    try:
        public.write_text(signer.verifier().line() + "\n", "utf-8")
    except OSError:
        private.unlink()
        raise
    v = signer.verifier()
    return {"private": str(private), "public": str(public), "name": v.name, "key_id": v.key_id.hex(),
            "verifier": v.line()}


def read_key(path: str | Path) -> Signer:
    p = Path(path)
    text = _text(p, "私钥文件")
    if p.stat().st_mode & 0o077:
        raise InvalidInput(f"私钥文件 {p} 权限过宽（{oct(p.stat().st_mode & 0o777)}），应为 0600："
                           f"chmod 600 {p} (private key readable by others)")
    return read_signer(text, str(p))


def read_pubkeys(paths: Iterable[str | Path]) -> list[Verifier]:
    return [read_verifier(_text(Path(p), "公钥文件"), str(p)) for p in paths]


def notes(paths: Iterable[str | Path]) -> list[tuple[str, str]]:
    """(file name, text) of every checkpoint: a file, or each `checkpoint-*.txt` of a directory."""
    out = []
    for given in paths:
        p = Path(given)
        if p.is_dir():
            files = sorted(p.glob(PATTERN))
        elif p.is_file():
            files = [p]
        else:
            raise NotFound(f"找不到检查点 {p} (no such file or directory)")
        for f in files:
            try:
                out.append((f.name, f.read_text("utf-8")))
            except UnicodeDecodeError:
                raise IntegrityFailure(f"检查点文件 {f.name} 不是 UTF-8 文本 (malformed checkpoint)") from None
    return out


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step (a reader sees the old file or the new one)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".checkpoint-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # a checkpoint is public
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
