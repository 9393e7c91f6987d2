"""The CLI reference (docs/cli.md), generated from the commands' own help: `python -m commands.reference`."""

from __future__ import annotations

import importlib

import click

from commands import COMMANDS


def _commands() -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = []

    def walk(cmd: click.Command, path: str) -> None:
        out.append((path, cmd))
        if isinstance(cmd, click.Group):
            for name in sorted(cmd.commands):
                walk(cmd.commands[name], f"{path} {name}")

    for name, ref in COMMANDS.items():
        module, attr = ref.split(":")
        walk(getattr(importlib.import_module(module), attr), name)
    return out


def commands() -> list[tuple[str, click.Command]]:
    """Every command and subcommand, as `campaign PATH` would name it."""
    return _commands()


def markdown() -> str:
    """One section per command: its help text as `campaign PATH --help` prints it."""
    parts = ["# CLI reference", "", "Generated from `--help` by `python -m commands.reference > docs/cli.md`;",
             "a test fails when it is out of date.", ""]
    for path, cmd in commands():
        with click.Context(cmd, info_name=f"campaign {path}", terminal_width=100, max_content_width=100,
                           help_option_names=["-h", "--help"]) as ctx:  # as the click root sets them
            parts += [f"## campaign {path}", "", "```", cmd.get_help(ctx).rstrip(), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    print(markdown(), end="")
