"""Delivery settings, parsed from the run's settings (`workflow.config.Settings`: the environment
layered over the config file, read once by the bootstrap; this module never reads the environment).
Secrets come from the environment or a file, never from the command line, and are never printed:
`Settings` hides the password from its repr.

CAMPAIGN_SMTP_HOST, CAMPAIGN_SMTP_PORT (587 with STARTTLS, 465 with ssl, else 25),
CAMPAIGN_SMTP_TLS (starttls | ssl | none; default starttls), CAMPAIGN_SMTP_USER,
CAMPAIGN_SMTP_PASSWORD or CAMPAIGN_SMTP_PASSWORD_FILE, CAMPAIGN_SMTP_FROM, CAMPAIGN_SMTP_TIMEOUT,
CAMPAIGN_SMTP_CAFILE (a private CA to trust for TLS, PEM),
CAMPAIGN_WEBHOOK_TIMEOUT (seconds, default 10), CAMPAIGN_TEMPLATES (override directory),
CAMPAIGN_TEMPLATE_TIMEOUT (seconds an override template may render, default 2),
CAMPAIGN_OUTBOX (default outbox/ under the campaign home), CAMPAIGN_RETRY_MAX_MINUTES (backoff cap,
default 360).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from workflow.errors import InvalidInput

TLS_MODES = ("starttls", "ssl", "none")


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    tls: str
    user: str | None
    sender: str
    timeout: float
    password: str | None = field(default=None, repr=False)
    cafile: str | None = None


@dataclass(frozen=True)
class Settings:
    outbox: Path
    templates: Path | None = None
    template_timeout: float = 2.0
    smtp: Smtp | None = None
    webhook_timeout: float = 10.0
    retry_max_minutes: int = 360


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput(f"环境变量 {name}={raw!r} 应为数字") from None
    if value <= 0:
        raise InvalidInput(f"环境变量 {name} 应大于 0")
    return value


def _smtp(env: Mapping[str, str]) -> Smtp | None:
    host = env.get("CAMPAIGN_SMTP_HOST", "").strip()
    if not host:
        stray = sorted(k for k, v in env.items() if k.startswith("CAMPAIGN_SMTP_") and v.strip())
        if stray:  # half a configuration: e-mail would be skipped silently
            raise InvalidInput(f"已设置 {', '.join(stray)} 但缺少 CAMPAIGN_SMTP_HOST (SMTP half configured)")
        return None
    tls = env.get("CAMPAIGN_SMTP_TLS", "starttls").strip().lower() or "starttls"
    aliases = {"1": "starttls", "true": "starttls", "yes": "starttls", "0": "none", "false": "none",
               "no": "none", "tls": "ssl"}
    tls = aliases.get(tls, tls)
    if tls not in TLS_MODES:
        raise InvalidInput(f"CAMPAIGN_SMTP_TLS 应为 {' | '.join(TLS_MODES)}")
    default_port = {"starttls": 587, "ssl": 465, "none": 25}[tls]
    port = _number(env, "CAMPAIGN_SMTP_PORT", default_port)
    if port != int(port) or port > 65535:
        raise InvalidInput("CAMPAIGN_SMTP_PORT 应为 1 到 65535 的整数")
    password = env.get("CAMPAIGN_SMTP_PASSWORD") or None
    pw_file = env.get("CAMPAIGN_SMTP_PASSWORD_FILE", "").strip()
    if password is None and pw_file:
        try:
            password = Path(pw_file).expanduser().read_text("utf-8").strip() or None
        except OSError as exc:
            raise InvalidInput(f"无法读取 CAMPAIGN_SMTP_PASSWORD_FILE：{exc.strerror}") from None
    user = env.get("CAMPAIGN_SMTP_USER", "").strip() or None
    if bool(user) != bool(password):  # one without the other: mail would go unauthenticated
        raise InvalidInput("CAMPAIGN_SMTP_USER 与 CAMPAIGN_SMTP_PASSWORD(_FILE) 应同时设置 (SMTP half configured)")
    sender = env.get("CAMPAIGN_SMTP_FROM", "").strip() or user or f"campaign@{host}"
    cafile = env.get("CAMPAIGN_SMTP_CAFILE", "").strip() or None
    if cafile and not Path(cafile).expanduser().is_file():
        raise InvalidInput(f"CAMPAIGN_SMTP_CAFILE {cafile} 不存在")
    return Smtp(host, int(port), tls, user, sender, _number(env, "CAMPAIGN_SMTP_TIMEOUT", 20.0), password,
                str(Path(cafile).expanduser()) if cafile else None)


def templating(env: Mapping[str, str], templates: str | Path | None = None) -> tuple[Path | None, float]:
    """The override directory (--templates wins over CAMPAIGN_TEMPLATES) and the render time limit.

    Never raises: enqueue must not fail on a bad setting (a missing directory fails the render)."""
    raw = templates or env.get("CAMPAIGN_TEMPLATES", "").strip() or None
    try:
        timeout = _number(env, "CAMPAIGN_TEMPLATE_TIMEOUT", 2.0)
    except InvalidInput:
        timeout = 2.0
    return (Path(raw).expanduser().resolve() if raw else None), min(timeout, 60.0)


def load(home: Path, env: Mapping[str, str], *, templates: str | Path | None = None) -> Settings:
    """The settings for a campaign home from `env` (the run's settings); `templates` (from
    --templates) wins over CAMPAIGN_TEMPLATES."""
    outbox = Path(env.get("CAMPAIGN_OUTBOX", "").strip() or "outbox").expanduser()
    tpath, timeout = templating(env, templates)
    if tpath is not None and not tpath.is_dir():
        raise InvalidInput(f"模板目录 {tpath} 不存在或不是目录 (templates directory not found)")
    return Settings(
        outbox=outbox if outbox.is_absolute() else home / outbox,
        templates=tpath,
        template_timeout=timeout,
        smtp=_smtp(env),
        webhook_timeout=_number(env, "CAMPAIGN_WEBHOOK_TIMEOUT", 10.0),
        # at least a minute: a failed notice is never due again within the same delivery run
        retry_max_minutes=max(1, int(_number(env, "CAMPAIGN_RETRY_MAX_MINUTES", 360))),
    )
