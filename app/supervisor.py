"""Running the stack's parts as child processes: start in order, wait until each answers,
stop them all together (Ctrl-C, or when any one of them dies)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

__all__ = ["Part", "Supervisor"]


@dataclass(frozen=True)
class Part:
    name: str
    args: tuple[str, ...]  # after ``python -m app``
    health_url: str
    ready_timeout_s: float = 120.0


class Supervisor:
    def __init__(self, parts: Sequence[Part], *, env: dict[str, str] | None = None) -> None:
        self.parts = parts
        self.env = {**os.environ, **(env or {})}
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self._stopping = False

    def run(self) -> int:
        """Start every part, then wait; a SIGTERM at any moment stops them all."""
        signal.signal(signal.SIGTERM, self._on_sigterm)
        try:
            self.start()
            return self.wait()
        except KeyboardInterrupt:
            return 0
        finally:
            self.stop()

    def _on_sigterm(self, *_: object) -> None:
        self._stopping = True
        raise KeyboardInterrupt  # unwinds a start() that is still waiting for a part

    def start(self) -> None:
        for part in self.parts:
            process = subprocess.Popen([sys.executable, "-m", "app", *part.args], env=self.env)
            self.running[part.name] = process
            self._wait_ready(part, process)
            origin = "/".join(part.health_url.split("/")[:3])
            print(f"[up] {part.name} ready at {origin}", flush=True)

    def _wait_ready(self, part: Part, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + part.ready_timeout_s
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{part.name} exited with {process.returncode} while starting")
            try:
                if httpx.get(part.health_url, timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{part.name} did not answer {part.health_url} in time")

    def wait(self) -> int:
        """Block until Ctrl-C/SIGTERM or a part dies; the exit code says which."""
        while not self._stopping:
            for name, process in self.running.items():
                if process.poll() is not None:
                    print(f"[up] {name} exited ({process.returncode}); stopping", flush=True)
                    return process.returncode or 1
            time.sleep(0.5)
        return 0

    def stop(self) -> None:
        for process in reversed(list(self.running.values())):
            if process.poll() is None:
                process.terminate()
        for process in self.running.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
