"""Where the integration process spends its CPU: py-spy samples it during the target
phase, the samples go to a speedscope file (open it at https://www.speedscope.app), and
the functions with the most samples are printed, by own time and by total time.

``--gil``: only the thread holding the GIL is sampled. One Python process runs Python on
one core at a time, so that thread's time is what limits the calls it can serve; SQLite
waiting on its lock or on fsync in a worker thread holds no GIL and would otherwise fill
the top of the list without costing the event loop anything. ``--nonblocking``: py-spy
reads the process's memory without pausing it, so the profile costs the service almost
nothing (a sample may now and then be torn; over thousands of samples that does not move
the top entries). For a live view of the same process, ``py-spy top --pid PID
--nonblocking --gil``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["HotPath", "TopEntry", "print_top", "top_entries"]


@dataclass(frozen=True)
class TopEntry:
    function: str
    own_pct: float
    total_pct: float


def _py_spy() -> str:
    beside = Path(sys.executable).with_name("py-spy")
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if not found:
        raise RuntimeError("py-spy is not installed (pip install -r requirements-dev.txt)")
    return found


class HotPath:
    """``py-spy record`` on ``pid`` for ``seconds``, started now, read by ``finish``."""

    def __init__(self, pid: int, seconds: float, out: Path, rate_hz: int = 100) -> None:
        self.out = out
        out.parent.mkdir(parents=True, exist_ok=True)
        command = [
            _py_spy(),
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, round(seconds))),
            "--rate",
            str(rate_hz),
            "--format",
            "speedscope",
            "--output",
            str(out),
            "--nonblocking",
            "--gil",
        ]
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )

    def finish(self, top: int = 15) -> list[TopEntry]:
        try:
            _, err = self._process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self._process.kill()
            _, err = self._process.communicate()
        if self._process.returncode != 0 or not self.out.exists():
            raise RuntimeError(f"py-spy failed ({self._process.returncode}): {err.strip()}")
        return top_entries(json.loads(self.out.read_text()), top)


def _label(frame: dict[str, Any]) -> str:
    path = str(frame.get("file") or "")
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{frame.get('name', '?')} ({path})" if path else str(frame.get("name", "?"))


def top_entries(speedscope: dict[str, Any], top: int = 15) -> list[TopEntry]:
    """The ``top`` functions by own samples, each with its share of all samples by own
    time (the leaf) and total time (anywhere on the stack, counted once per sample)."""
    frames = speedscope["shared"]["frames"]
    labels = [_label(f) for f in frames]
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for profile in speedscope["profiles"]:
        for stack, weight in zip(profile["samples"], profile["weights"], strict=True):
            if not stack:
                continue
            samples += weight
            own[labels[stack[-1]]] += weight
            for label in {labels[i] for i in stack}:
                total[label] += weight
    if not samples:
        return []
    return [
        TopEntry(name, round(100 * n / samples, 1), round(100 * total[name] / samples, 1))
        for name, n in own.most_common(top)
    ]


def print_top(entries: list[TopEntry], out: Path) -> None:
    print(f"\nhot path (py-spy, integration process; flame graph: {out})")
    print(f"{'own %':>7}{'total %':>9}  function")
    for entry in entries:
        print(f"{entry.own_pct:>7.1f}{entry.total_pct:>9.1f}  {entry.function}")
