"""The settings of one run: the environment layered over the configuration file (pure).

Each setting of the file (`campaign.toml`) maps to the name of its environment variable: a
top-level key `database` → CAMPAIGN_DB, `[smtp] host` → CAMPAIGN_SMTP_HOST, and so on. The
environment always wins. Secrets may not be written in the file: name a file that holds them
(`password_file = "/etc/campaign/smtp.pass"`) or use the environment.

The bootstrap (`commands.common.context`) builds one `Settings` and carries it on the context;
nothing in `workflow/` or `notifications/` reads or writes the environment.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from workflow.errors import InvalidInput

DEFAULT_NAME = "campaign.toml"
_SECRET_WORDS = ("password", "secret", "token")
_ALIASES = {"CAMPAIGN_DATABASE": "CAMPAIGN_DB"}
PREFIX = "CAMPAIGN_"


@dataclass(frozen=True)
class Settings(Mapping[str, str]):
    """Every CAMPAIGN_* setting of one run as text, read once by the bootstrap (read-only).

    The kernel's own settings are typed here; each other part parses its own from the same values
    when it needs them (`notifications.settings.load`, `workflow.files.keyfiles.settings`), so a
    bad delivery setting refuses delivery, not every command."""

    raw: Mapping[str, str] = field(default_factory=dict)  # CAMPAIGN_* name → text

    def __post_init__(self) -> None:
        object.__setattr__(self, "raw", MappingProxyType(dict(self.raw)))

    def __getitem__(self, name: str) -> str:
        return self.raw[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.raw)

    def __len__(self) -> int:
        return len(self.raw)

    @property
    def now(self) -> str | None:
        """CAMPAIGN_NOW: the campaign clock's fixed instant (None: real time)."""
        return self.raw.get("CAMPAIGN_NOW") or None


def layered(file: Mapping[str, str], env: Mapping[str, str]) -> Settings:
    """The file's settings under the environment's CAMPAIGN_* variables: variables already set win."""
    return Settings({**file, **{k: v for k, v in env.items() if k.startswith(PREFIX)}})


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

