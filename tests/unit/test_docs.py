"""Docs that are tested (as sqlite-utils does): the CLI reference is current, every option says what
it is for, and the README names every command a user can type."""

from __future__ import annotations

from pathlib import Path

import click

from commands.reference import commands, markdown

ROOT = Path(__file__).parents[2]


def test_the_cli_reference_is_generated_from_the_current_help() -> None:
    assert (ROOT / "docs" / "cli.md").read_text("utf-8") == markdown(), (
        "docs/cli.md is out of date: run `python -m commands.reference > docs/cli.md`")


def test_every_option_of_every_command_has_help_text() -> None:
    silent = [f"campaign {path} {'/'.join(p.opts)}" for path, cmd in commands() for p in cmd.params
              if isinstance(p, click.Option) and not p.hidden and not p.help]
    assert silent == []


def test_every_command_has_help_and_every_top_level_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert [path for path, cmd in commands() if not (cmd.help or "").strip()] == []
    top = {path.split()[0] for path, _ in commands()}
    assert sorted(c for c in top if f"campaign {c}" not in readme and f"`{c}`" not in readme) == []
