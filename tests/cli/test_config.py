"""The configuration file: database URL and settings, under the environment; no secrets in it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from tests.conftest import Cli
from workflow import config
from workflow.errors import InvalidInput


def test_settings_map_to_the_environment_names_the_code_reads(tmp_path: Path) -> None:
    (tmp_path / "campaign.toml").write_text(
        'database = "x.db"\noutbox = "/srv/outbox"\n[smtp]\nhost = "mail"\nport = 587\ntls = true\n'
        'password_file = "/etc/p"\n', encoding="utf-8")
    settings = config.load(None, cwd=tmp_path)
    assert settings == {"CAMPAIGN_DB": "x.db", "CAMPAIGN_OUTBOX": "/srv/outbox", "CAMPAIGN_SMTP_HOST": "mail",
                        "CAMPAIGN_SMTP_PORT": "587", "CAMPAIGN_SMTP_TLS": "1",
                        "CAMPAIGN_SMTP_PASSWORD_FILE": "/etc/p"}
    env = {"CAMPAIGN_SMTP_HOST": "from-env"}
    layered = config.layered(settings, env)
    assert layered["CAMPAIGN_SMTP_HOST"] == "from-env" and layered["CAMPAIGN_DB"] == "x.db"
    assert env == {"CAMPAIGN_SMTP_HOST": "from-env"}  # the environment is read, never written


def test_a_password_written_in_the_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "campaign.toml").write_text('[smtp]\npassword = "hunter2"\n', encoding="utf-8")
    with pytest.raises(InvalidInput) as info:
        config.load(None, cwd=tmp_path)
    assert "password_file" in str(info.value) and "hunter2" not in str(info.value)


def test_the_cli_uses_the_database_named_in_campaign_toml(tmp_path: Path) -> None:
    (tmp_path / "campaign.toml").write_text(f'database = "{tmp_path / "from-config.db"}"\n', encoding="utf-8")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        env = {k: None for k in ("CAMPAIGN_DB",)}
        r = CliRunner().invoke(main, ["init"], env=env, catch_exceptions=False)
        r2 = CliRunner().invoke(main, ["calendar", "show", "--json"], env=env, catch_exceptions=False)
    finally:
        os.chdir(cwd)
        os.environ.pop("CAMPAIGN_DB", None)
    assert r.exit_code == 0, r.stderr
    assert (tmp_path / "from-config.db").exists()
    assert json.loads(r2.stdout)["year"] == 2024


def test_a_broken_config_file_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text("database = \n", encoding="utf-8")
    cli = Cli(str(tmp_path / "c.db"), tmp_path)
    r = cli("--config", str(tmp_path / "bad.toml"), "status", expect=1)
    assert "bad.toml" in r.stderr and "Traceback" not in r.stderr
