"""Settings are read once, by the bootstrap: the environment over campaign.toml, carried on the
context. Nothing in workflow/ or notifications/ reads or writes the environment."""

from __future__ import annotations

import ast
import os
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from workflow import config
from workflow.files import keyfiles

ROOT = Path(__file__).parents[2]
ENVIRONMENT = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}


def environment_uses(path: Path) -> list[str]:
    """Every `os.environ`, `os.getenv`, `from os import environ` … in `path`, as file:line."""
    def uses(node: ast.AST) -> bool:
        if isinstance(node, ast.Attribute):
            return node.attr in ENVIRONMENT
        return isinstance(node, ast.ImportFrom) and node.module == "os" and any(
            a.name in ENVIRONMENT for a in node.names)
    return [f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            for node in ast.walk(ast.parse(path.read_text("utf-8"))) if uses(node)]


def test_no_module_of_workflow_or_notifications_reads_or_writes_the_environment() -> None:
    paths = sorted(p for folder in ("workflow", "notifications") for p in (ROOT / folder).rglob("*.py"))
    assert paths
    assert [use for p in paths for use in environment_uses(p)] == []


def test_the_environment_wins_over_the_file_and_is_only_read() -> None:
    env = {"CAMPAIGN_OUTBOX": "/from/env", "HOME": "/root"}
    settings = config.layered({"CAMPAIGN_OUTBOX": "/from/file", "CAMPAIGN_DB": "x.db"}, env)
    assert dict(settings) == {"CAMPAIGN_OUTBOX": "/from/env", "CAMPAIGN_DB": "x.db"}  # only CAMPAIGN_*
    assert env == {"CAMPAIGN_OUTBOX": "/from/env", "HOME": "/root"}
    with pytest.raises(TypeError):
        settings.raw["CAMPAIGN_DB"] = "other.db"  # type: ignore[index]


def test_checkpoint_settings_come_from_the_settings_given_not_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMPAIGN_CHECKPOINT_DIR", "/from/the/environment")
    conf = keyfiles.settings(tmp_path, config.Settings({"CAMPAIGN_CHECKPOINT_DIR": "cp",
                                                        "CAMPAIGN_CHECKPOINT_ORIGIN": "hnep"}))
    assert (conf.key, conf.dir, conf.origin) == (None, tmp_path / "cp", "hnep")


def test_settings_from_campaign_toml_reach_the_services_and_leave_the_environment_unchanged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cli import main
    from models.db import UnitOfWork, make_engine
    from notifications import enqueue

    for name in [k for k in os.environ if k.startswith("CAMPAIGN_")]:
        monkeypatch.delenv(name)
    templates, outbox = tmp_path / "templates", tmp_path / "elsewhere"
    templates.mkdir()
    (templates / "reminder.j2").write_text("{{ city }}的提醒函\n\n来自配置文件的模板。\n", encoding="utf-8")
    (tmp_path / "campaign.toml").write_text(
        f'database = "{tmp_path / "from-config.db"}"\noutbox = "{outbox}"\ntemplates = "{templates}"\n'
        'now = "2024-05-24"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    before = dict(os.environ)

    def campaign(*args: str) -> str:
        r = CliRunner().invoke(main, list(args), catch_exceptions=False)
        assert r.exit_code == 0, r.stderr
        return r.stdout

    campaign("init", "--simulation")
    assert (tmp_path / "from-config.db").exists()  # database
    assert campaign("notices", "preview", "reminder").endswith("来自配置文件的模板。\n")  # templates
    engine = make_engine(str(tmp_path / "from-config.db"))
    try:
        with UnitOfWork(engine) as uow:
            enqueue(uow.session, kind="reminder", key="k", city="许昌市", code=None, due=date(2024, 5, 31),
                    context={}, created_at="2024-05-24T01:00:00.000000Z")
            uow.commit()
    finally:
        engine.dispose()
    # context={} fails the packaged template (no settings given to enqueue): retry renders it again
    assert "已送达 1 条" in campaign("notices", "retry")  # … with the file's templates
    (letter,) = outbox.iterdir()  # outbox
    assert "来自配置文件的模板" in letter.read_text("utf-8")
    assert dict(os.environ) == before
