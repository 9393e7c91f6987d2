"""Channel helpers that need no server: masking secrets, the robot message, the outbox file."""

from __future__ import annotations

import json
from pathlib import Path

from notifications.channels import Letter, mask_url, robot_payload, send_outbox


def letter(body: str = "正文") -> Letter:
    return Letter(7, "reminder", "提醒函", "许昌市", None, "2024年5月31日（星期五）", "关于……的提醒函", body,
                  "packaged:reminder.j2", "2024-05-24T01:00:00.000000Z")


def test_a_webhook_url_is_shown_without_its_key_token_or_password() -> None:
    assert mask_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123") == \
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***"
    assert mask_url("https://user:pw@oapi.dingtalk.com/robot/send?access_token=t&x=1") == \
        "https://oapi.dingtalk.com/robot/send?access_token=***&x=***"


def test_the_robot_message_is_the_group_robot_text_format() -> None:
    payload = json.loads(robot_payload(letter()))
    assert payload == {"msgtype": "text", "text": {"content": "关于……的提醒函\n\n正文"}}


def test_a_long_notice_is_cut_for_the_robot_at_a_character_boundary_saying_where_the_rest_is() -> None:
    data = robot_payload(letter("长" * 3000))
    content = json.loads(data)["text"]["content"]
    assert len(content.encode("utf-8")) <= 2000 and content.endswith("见通知 000007）")


def test_the_outbox_file_is_named_after_the_id_the_kind_and_the_city(tmp_path: Path) -> None:
    assert send_outbox(tmp_path / "outbox", letter()) is None
    (f,) = (tmp_path / "outbox").iterdir()
    assert f.name == "000007-reminder-许昌市.txt"
    assert f.read_text("utf-8").startswith("编号：000007\n类型：提醒函（reminder）\n收文单位：许昌市\n")
    blocked = tmp_path / "file"
    blocked.write_text("x")
    assert send_outbox(blocked, letter()) is not None  # an error string, not an exception
