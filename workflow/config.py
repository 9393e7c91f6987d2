"""The configuration file (`campaign.toml`), layered under the environment (pure).

Each setting maps to the environment variable the code reads: a top-level key
`database` → CAMPAIGN_DB, `[smtp] host` → CAMPAIGN_SMTP_HOST, and so on. The
environment always wins. Secrets may not be written in the file: name a file
that holds them (`password_file = "/etc/campaign/smtp.pass"`) or use the
environment.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workflow.errors import InvalidInput

DEFAULT_NAME = "campaign.toml"
_SECRET_WORDS = ("password", "secret", "token")
_ALIASES = {"CAMPAIGN_DATABASE": "CAMPAIGN_DB"}


def _flatten(raw: Mapping[str, Any], prefix: str, out: dict[str, str], source: str) -> None:
    for key, value in raw.items():
        name = f"{prefix}_{key}".upper().replace("-", "_")
        if isinstance(value, Mapping):
            _flatten(value, name, out, source)
            continue
        if any(w in key.lower() for w in _SECRET_WORDS) and not key.lower().endswith("_file"):
            raise InvalidInput(
                f"配置文件 {source} 不能直接写入密钥 '{key}'：请改用 {key}_file 指向密钥文件，"
                f"或设置环境变量 {name} (secrets only from the environment or a file)")
        if isinstance(value, bool):
            text = "1" if value else "0"
        elif isinstance(value, list):
            text = ",".join(map(str, value))
        else:
            text = str(value)
        out[_ALIASES.get(name, name)] = text


def load(path: str | Path | None, *, cwd: Path) -> dict[str, str]:
    """Settings from the file as environment-variable names → values ({} when absent)."""
    p = Path(path) if path else cwd / DEFAULT_NAME
    if not p.is_file():
        if path:
            raise InvalidInput(f"找不到配置文件 {p} (config file not found)")
        return {}
    try:
        raw = tomllib.loads(p.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"配置文件 {p} 格式错误：{exc}") from None
    out: dict[str, str] = {}
    _flatten(raw, "CAMPAIGN", out, str(p))
    return out


def apply(settings: Mapping[str, str], environ: dict[str, str]) -> dict[str, str]:
    """Put file settings under the environment: variables already set win."""
    applied = {k: v for k, v in settings.items() if k not in environ}
    environ.update(applied)
    return applied
