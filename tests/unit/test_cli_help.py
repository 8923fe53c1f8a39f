"""Every command's help says what its options do: the help is rendered with rich, which
reads ``[...]`` as markup and drops it, so a "[default: 1000]" once showed as " .". No
option's help may hold a bracket, and each renders whole in ``--help``."""

from __future__ import annotations

import re
from typing import Any

import typer
from typer.testing import CliRunner

from app.cli import cli


def commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command's path below ``group`` (typer's click objects, walked by their
    ``commands``: typer carries its own copy of click)."""
    found = [path]
    for name, sub in getattr(group, "commands", {}).items():
        found += commands(sub, (*path, name))
    return found


def test_no_option_help_is_eaten_as_markup() -> None:
    root = typer.main.get_command(cli)
    paths = commands(root)
    assert ("bench", "lookup") in paths and ("scenario", "run") in paths and ("up",) in paths
    for path in paths:
        command = root
        for name in path:
            command = command.commands[name]
        rendered = CliRunner().invoke(cli, [*path, "--help"], env={"COLUMNS": "240"})
        assert rendered.exit_code == 0, (path, rendered.output)
        flat = " ".join(re.sub(r"[│╭╮╰╯─]", " ", rendered.output).split())
        for param in command.params:
            text = getattr(param, "help", None)
            if not text:
                continue
            assert "[" not in text, (path, param.name, text)
            assert " ".join(text.split()) in flat, (path, param.name, text)
