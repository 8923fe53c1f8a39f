"""The shell blocks the README and docs/ mark runnable, and how the suite runs them.

A block is runnable when its fence says so: ```` ```bash runnable ````. The blocks of one
page run in order in one bash session (a block may use what an earlier one set), from the
repository's folder, against a stack started by the test. The docs name the stack's
default ports (8000, 8100, 8501); the test's stack listens on free ports, and those three
are the only words changed before a block runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DOC_FILES", "ROOT", "Block", "on_ports", "runnable_blocks"]

ROOT = Path(__file__).resolve().parents[2]
_FENCE = re.compile(r"^```bash runnable\n(.*?)^```", re.DOTALL | re.MULTILINE)
DEFAULT_PORTS = {"integration": 8000, "mocks": 8100, "dashboard": 8501}


def doc_files(root: Path = ROOT) -> list[Path]:
    """README.md, then every page of docs/ in name order."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


DOC_FILES = doc_files()


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    code: str

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line}"


def runnable_blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    return [
        Block(path, text.count("\n", 0, match.start()) + 1, match.group(1))
        for match in _FENCE.finditer(text)
    ]


def on_ports(code: str, ports: dict[str, int]) -> str:
    """``code`` with the default ports replaced by the test stack's."""
    for name, default in DEFAULT_PORTS.items():
        for host in ("127.0.0.1", "localhost"):
            code = re.sub(rf"\b{host}:{default}\b", f"127.0.0.1:{ports[name]}", code)
    return code
