"""The three channels: the outbox directory, SMTP e-mail and an HTTP webhook (group robot).

Each `send_*` returns None on success or a one-line error; none raises, none prints a secret.
"""

from __future__ import annotations

import json
import os
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .settings import Smtp

MAX_ERROR = 300
ROBOT_LIMIT = 2000  # bytes of text in one group-robot message (WeCom allows 2048)


@dataclass(frozen=True)
class Letter:
    """What every channel sends: one notice, already rendered."""

    id: int
    kind: str
    title: str  # the kind's title, e.g. 提醒函
    city: str | None
    code: str | None
    due: str | None  # as printed, e.g. 2024年5月31日（星期五）
    subject: str
    body: str
    template: str
    created_at: str

    @property
    def text(self) -> str:
        return f"{self.subject}\n\n{self.body}\n"


def mask_url(url: str) -> str:
    """A webhook URL fit to show or record: no credentials, no query values (robot keys, tokens)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    query = "&".join(f"{p.split('=', 1)[0]}=***" for p in parts.query.split("&") if p)
    return urlunsplit((parts.scheme, host, parts.path, query, ""))


def _short(exc: BaseException | str) -> str:
    text = exc if isinstance(exc, str) else (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    return " ".join(text.split())[:MAX_ERROR]


def outbox_path(outbox: Path, letter: Letter) -> Path:
    unit = (letter.city or "省级").replace("/", "_").replace(os.sep, "_")
    return outbox / f"{letter.id:06d}-{letter.kind}-{unit}.txt"


def send_outbox(outbox: Path, letter: Letter) -> str | None:
    """Write the notice as one file, atomically (a reader never sees half a notice)."""
    path = outbox_path(outbox, letter)
    head = [f"编号：{letter.id:06d}", f"类型：{letter.title}（{letter.kind}）",
            f"收文单位：{letter.city or '省级'}"]
    if letter.code:
        head.append(f"企业：{letter.code}")
    if letter.due:
        head.append(f"截止日期：{letter.due}")
    head += [f"生成时间：{letter.created_at}", f"模板：{letter.template}"]
    data = ("\n".join(head) + "\n\n" + letter.text).encode("utf-8")
    tmp = path.with_suffix(".tmp")
    try:
        try:
            tmp.write_bytes(data)
        except FileNotFoundError:  # the outbox is made on the first notice, not checked on every one
            outbox.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        return _short(exc)
    return None


def send_email(smtp: Smtp, to: str, letter: Letter, now: datetime) -> str | None:
    msg = EmailMessage()
    msg["Subject"] = letter.subject
    msg["From"] = smtp.sender
    msg["To"] = to
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(f"notice{letter.id}")
    msg["X-Campaign-Notice"] = f"{letter.id} {letter.kind}"
    msg.set_content(letter.text)
    try:
        tls = ssl.create_default_context(cafile=smtp.cafile) if smtp.tls != "none" else None
        if smtp.tls == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=tls)
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        with client:
            if smtp.tls == "starttls":
                client.starttls(context=tls)
            if smtp.user and smtp.password:
                client.login(smtp.user, smtp.password)
            client.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        return _short(exc)
    return None


def robot_payload(letter: Letter, limit: int = ROBOT_LIMIT) -> bytes:
    """The text message WeCom (企业微信) and DingTalk (钉钉) group robots accept.

    WeCom takes at most 2048 bytes of text: a longer notice is cut at a character boundary and says
    where the full text is (the outbox file and the e-mail have it all)."""
    content = letter.text.strip()
    if len(content.encode("utf-8")) > limit:
        tail = f"……（全文共 {len(content)} 字，见通知 {letter.id:06d}）"
        room = limit - len(tail.encode("utf-8"))
        content = content.encode("utf-8")[:room].decode("utf-8", errors="ignore") + tail
    return json.dumps({"msgtype": "text", "text": {"content": content}}, ensure_ascii=False).encode("utf-8")


def send_webhook(url: str, letter: Letter, timeout: float) -> str | None:
    if urlsplit(url).scheme not in ("http", "https"):
        return "只支持 http/https 地址"
    request = urllib.request.Request(url, data=robot_payload(letter), method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read(65536)
    except urllib.error.HTTPError as exc:
        return _short(f"HTTP {exc.code} {exc.reason}")
    except urllib.error.URLError as exc:
        return _short(f"连接失败：{exc.reason}")
    except (OSError, ValueError) as exc:  # timeouts while reading are plain OSErrors
        return _short(exc)
    try:  # the robots answer 200 with {"errcode": N, "errmsg": …}; N != 0 is a failure
        answer = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except ValueError:
        return None
    if isinstance(answer, dict) and answer.get("errcode") not in (None, 0):
        return _short(f"errcode {answer.get('errcode')}: {answer.get('errmsg', '')}")
    return None
