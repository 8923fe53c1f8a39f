"""The README and docs/ say only what is true of the repository: every link resolves, every
flag of the command line they name exists, every make target they name is in the
Makefile, every phone number they use is an example caller, one command form throughout,
and a README that fits on a screen or two. (Their runnable blocks run against a started
stack in tests/e2e/test_newcomer.py.)"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import typer

from app.cli import cli
from mocks.dataset import COMPANY_NUMBER, to_e164
from mocks.dataset.cast import CAST
from tests._support.runnable_docs import DOC_FILES, ROOT, runnable_blocks

README = ROOT / "README.md"
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_FENCED = re.compile(r"^```[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)
_INLINE = re.compile(r"`([^`\n]+)`")
_SWITCHBOARD = re.compile(r"(?:\.venv/bin/)?\bswitchboard((?: [a-z][\w-]*)+)([^\n|`]*)")
_MAKE = re.compile(r"(?<![\w/-])make ([a-z][\w-]*)")
_PHONE = re.compile(r"\+1[ (]?\d{3}[) .-]{0,2}\d{3}[ .-]?\d{4}\b|\(\d{3}\) \d{3}-\d{4}")


def _code(text: str) -> list[str]:
    """What a reader would type: fenced blocks and inline code spans."""
    fenced = _FENCED.findall(text)
    prose = _FENCED.sub("", text)
    return fenced + _INLINE.findall(prose)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = _FENCED.sub("", path.read_text(encoding="utf-8"))
    return {_slug(h) for h in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE)}


def test_the_readme_fits_on_a_screen_or_two() -> None:
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= 250, f"README.md has {lines} lines; move detail to docs/"


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: p.name)
def test_every_link_resolves(path: Path) -> None:
    broken = []
    for target in _LINK.findall(path.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        missing_anchor = linked.suffix == ".md" and anchor and anchor not in _anchors(linked)
        if not linked.exists() or missing_anchor:
            broken.append(target)
    assert not broken, f"{path.name}: links that lead nowhere: {broken}"


def _command(words: list[str]) -> tuple[Any, list[str]]:
    """The deepest command ``words`` name, and the words after it (a group has
    ``commands``; typer's click may not be the ``click`` package, so no isinstance)."""
    command: Any = typer.main.get_command(cli)
    rest = list(words)
    while rest and rest[0] in getattr(command, "commands", {}):
        command = command.commands[rest.pop(0)]
    return command, rest


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: p.name)
def test_every_switchboard_flag_named_exists(path: Path) -> None:
    missing = []
    for snippet in _code(path.read_text(encoding="utf-8")):
        for words, tail in _SWITCHBOARD.findall(snippet):
            command, rest = _command(words.split())
            if rest and hasattr(command, "commands"):
                missing.append(f"switchboard{words}: no command {rest[0]!r}")
                continue
            known = {opt for param in command.params for opt in param.opts + param.secondary_opts}
            known.add("--help")
            flags = re.findall(r"(?<![\w-])--[a-z][\w-]*", f"{' '.join(rest)} {tail}")
            missing += [f"switchboard{words} {flag}" for flag in flags if flag not in known]
    assert not missing, f"{path.name} names flags the command line does not have: {missing}"


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: p.name)
def test_every_make_target_named_exists(path: Path) -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, flags=re.MULTILINE))
    named = {
        t for snippet in _code(path.read_text(encoding="utf-8")) for t in _MAKE.findall(snippet)
    }
    assert named <= targets, f"{path.name} names make targets that do not exist: {named - targets}"


def test_one_command_form_throughout() -> None:
    """`.venv/bin/switchboard ...` everywhere; the README says once that the module form is
    the same program."""
    for path in DOC_FILES:
        text = path.read_text(encoding="utf-8")
        uses = re.findall(r"[\w./]*python -m app\b", text)
        allowed = 1 if path == README else 0
        assert len(uses) <= allowed, f"{path.name}: {uses}"
        assert all(use == ".venv/bin/python -m app" for use in uses), f"{path.name}: {uses}"


def _phones_in(text: str) -> set[str]:
    return {to_e164(raw) or raw for raw in _PHONE.findall(text)}


def test_every_example_phone_is_an_example_caller() -> None:
    allowed = {c.phone for c in CAST} | {COMPANY_NUMBER}
    sources = {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8") for p in DOC_FILES}
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        sources[notebook.name] = "\n".join("".join(c["source"]) for c in cells)
    for page in sorted((ROOT / "app" / "dashboard").rglob("*.py")):
        sources[page.relative_to(ROOT).as_posix()] = page.read_text(encoding="utf-8")
    strangers = {
        name: sorted(_phones_in(text) - allowed)
        for name, text in sources.items()
        if _phones_in(text) - allowed
    }
    assert not strangers, f"phone numbers that are not example callers: {strangers}"


def test_the_readme_tour_is_runnable() -> None:
    blocks = runnable_blocks(README)
    assert len(blocks) >= 6
    tour = "\n".join(b.code for b in blocks)
    for step in ("/calls", "/_chaos/systems/crm/outage", "/outbox/dead/", "scenario run"):
        assert step in tour
    assert "loadtests.journeys" in tour
