"""Delivery for real: a local SMTP server and local HTTP group-robot servers started by the test."""

from __future__ import annotations

import json
import shutil
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli
from tests.helpers.notices import NOW, enqueue_notice


class Robot(ThreadingHTTPServer):
    """A WeCom/DingTalk-like group robot: answers each POST with the next status code (then 200)."""

    daemon_threads = True

    def __init__(self, codes: list[int]) -> None:
        super().__init__(("127.0.0.1", 0), _RobotHandler)
        self.codes = codes
        self.received: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/cgi-bin/webhook/send?key=ROBOT-KEY"


class _RobotHandler(BaseHTTPRequestHandler):
    server: Robot

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(json.loads(body))
        code = self.server.codes.pop(0) if self.server.codes else 200
        answer = json.dumps({"errcode": 0 if code == 200 else 500, "errmsg": "ok"}).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


def start_robot(codes: list[int]) -> Iterator[Robot]:
    server = Robot(codes)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def robot() -> Iterator[Robot]:
    yield from start_robot([])


@pytest.fixture
def flaky_robot() -> Iterator[Robot]:
    yield from start_robot([500, 503])


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections (the kernel does) but never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/robot/send?access_token=TOKEN"
    finally:
        sock.close()


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, list[Any]]]:
    from aiosmtpd.controller import Controller

    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope)
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, ready_timeout=2)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


def attempts(cli: Cli, nid: int) -> list[dict[str, Any]]:
    shown = json.loads(cli("notices", "show", str(nid), "--json", now=NOW).stdout)
    return list(shown["delivery"])


def test_a_notice_goes_by_email_and_webhook_to_the_citys_contacts(
        campaign: Cli, smtp_server: tuple[int, list[Any]], robot: Robot) -> None:
    port, mails = smtp_server
    campaign.env.update(CAMPAIGN_SMTP_HOST="127.0.0.1", CAMPAIGN_SMTP_PORT=str(port), CAMPAIGN_SMTP_TLS="none",
                        CAMPAIGN_SMTP_FROM="hbt@hnep.gov.cn", CAMPAIGN_WEBHOOK_TIMEOUT="2")
    campaign("contact", "add", "--city", "许昌市", "--email", "dqk@xuchang.gov.cn", "--webhook", robot.url,
             now=NOW, actor="许昌联络员")
    campaign("contact", "add", "--city", "郑州市", "--email", "dqk@zhengzhou.gov.cn", now=NOW, actor="省管理员")
    nid = enqueue_notice(campaign)
    assert nid is not None
    assert "已送达 1 条" in campaign("notices", "deliver", now=NOW).stdout
    (mail,) = mails
    assert mail.rcpt_tos == ["dqk@xuchang.gov.cn"] and mail.mail_from == "hbt@hnep.gov.cn"
    message = mail.content.decode("utf-8")
    assert "Subject: =?utf-8?" in message  # the Chinese subject, encoded
    (posted,) = robot.received
    assert posted["msgtype"] == "text"
    assert posted["text"]["content"].startswith("关于按时报送附件1《许昌市绩效提升企业培育清单》的提醒函")
    tries = attempts(campaign, nid)
    assert [(a["channel"], a["ok"]) for a in tries] == [("outbox", True), ("email", True), ("webhook", True)]
    assert all("ROBOT-KEY" not in a["target"] for a in tries)


def test_a_webhook_that_fails_twice_is_retried_until_delivered(campaign: Cli, flaky_robot: Robot) -> None:
    campaign("contact", "add", "--city", "许昌市", "--webhook", flaky_robot.url, now=NOW, actor="许昌联络员")
    nid = enqueue_notice(campaign)
    assert nid is not None
    assert "失败 1 条" in campaign("notices", "deliver", now=NOW).stdout
    failed = json.loads(campaign("notices", "list", "--json", "--status", "failed", now=NOW).stdout)
    assert failed[0]["id"] == nid and "HTTP 500" in failed[0]["error"]
    assert "失败 1 条" in campaign("notices", "deliver", now="2024-05-24T09:05").stdout  # due again
    assert "已送达 1 条" in campaign("notices", "retry", str(nid), now="2024-05-24T09:06").stdout
    tries = attempts(campaign, nid)
    webhook = [a for a in tries if a["channel"] == "webhook"]
    assert [(a["round"], a["ok"]) for a in webhook] == [(1, False), (2, False), (3, True)]
    assert [a["channel"] for a in tries].count("outbox") == 1  # what succeeded is not sent again
    assert len(flaky_robot.received) == 3
    assert json.loads(campaign("notices", "list", "--json", now=NOW).stdout)[0]["status"] == "delivered"


def test_a_webhook_that_never_answers_times_out_and_the_notice_waits_for_its_retry(
        campaign: Cli, silent_server: str) -> None:
    campaign.env["CAMPAIGN_WEBHOOK_TIMEOUT"] = "0.5"
    campaign("contact", "add", "--city", "许昌市", "--webhook", silent_server, now=NOW, actor="许昌联络员")
    nid = enqueue_notice(campaign)
    assert nid is not None
    assert "失败 1 条" in campaign("notices", "deliver", now=NOW).stdout
    (row,) = json.loads(campaign("notices", "list", "--json", now=NOW).stdout)
    assert row["status"] == "failed" and "timed out" in row["error"]
    assert row["next_attempt_at"] == "2024-05-24T01:02:00.000000Z"  # 09:00 Shanghai + 2 minutes
    assert "投递尝试 0 次" in campaign("notices", "deliver", now=NOW).stdout  # not due yet
    campaign("notices", "deliver", now="2024-05-24T09:03")
    webhook = [a for a in attempts(campaign, nid) if a["channel"] == "webhook"]
    assert [a["ok"] for a in webhook] == [False, False]
    assert all("TOKEN" not in a["target"] and "timed out" in a["error"] for a in webhook)


@pytest.fixture
def tls_smtp_server(tmp_path: Path) -> Iterator[tuple[int, Path, list[Any], list[tuple[bytes, bytes]]]]:
    """An SMTP server that requires STARTTLS (self-signed certificate for 127.0.0.1) and AUTH."""
    import ssl
    import subprocess

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-keyout", str(key), "-out", str(cert), "-days", "1", "-nodes", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=10)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    received: list[Any] = []
    logins: list[tuple[bytes, bytes]] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope)
            return "250 OK"

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret-pw")

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, ready_timeout=2, tls_context=context,
                            require_starttls=True, authenticator=authenticate, auth_required=True)
    controller.start()
    try:
        yield port, cert, received, logins
    finally:
        controller.stop()


def test_email_goes_over_starttls_with_credentials_read_from_a_file(
        campaign: Cli, tmp_path: Path, tls_smtp_server: tuple[int, Path, list[Any], list[Any]]) -> None:
    port, cert, mails, logins = tls_smtp_server
    secret = tmp_path / "smtp.pass"
    secret.write_text("s3cret-pw\n", encoding="utf-8")
    campaign.env.update(CAMPAIGN_SMTP_HOST="127.0.0.1", CAMPAIGN_SMTP_PORT=str(port), CAMPAIGN_SMTP_TLS="starttls",
                        CAMPAIGN_SMTP_USER="hbt", CAMPAIGN_SMTP_PASSWORD_FILE=str(secret),
                        CAMPAIGN_SMTP_CAFILE=str(cert), CAMPAIGN_SMTP_TIMEOUT="2")
    campaign("contact", "add", "--city", "许昌市", "--email", "dqk@xuchang.gov.cn", now=NOW, actor="许昌联络员")
    enqueue_notice(campaign)
    out = campaign("notices", "deliver", now=NOW).stdout
    assert "已送达 1 条" in out and "s3cret" not in out
    assert logins == [(b"hbt", b"s3cret-pw")]
    assert mails[0].rcpt_tos == ["dqk@xuchang.gov.cn"] and mails[0].mail_from == "hbt"
