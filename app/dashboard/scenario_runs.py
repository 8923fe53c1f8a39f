"""Starting and stopping a scenario from the dashboard.

A scenario is the same ``python -m app scenario run NAME`` a person would type, run as a
child of the dashboard process: one at a time for the whole dashboard (every viewer sees
the same run), stopped with SIGINT so the runner puts the mocks back as it found them.
Its scorecard reaches the Scorecards page through the integration service, like any run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ScenarioLauncher", "ScenarioStatus"]


@dataclass(frozen=True)
class ScenarioStatus:
    name: str | None
    running: bool
    elapsed_s: float
    exit_code: int | None
    output_tail: str


class ScenarioLauncher:
    def __init__(self, integration_url: str, mocks_url: str, api_token: str = "") -> None:
        self.integration_url = integration_url
        self.mocks_url = mocks_url
        self._api_token = api_token
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._name: str | None = None
        self._started = 0.0
        self._log = Path(tempfile.gettempdir()) / f"switchboard-scenario-{id(self)}.log"

    def start(self, name: str, speed: float) -> None:
        """Start ``name``; refused (RuntimeError) while another scenario is running."""
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                raise RuntimeError(f"scenario {self._name!r} is still running; stop it first")
            args = [
                sys.executable,
                "-m",
                "app",
                "scenario",
                "run",
                name,
                "--speed",
                str(speed),
                "--integration-url",
                self.integration_url,
                "--mocks-url",
                self.mocks_url,
            ]
            env = dict(os.environ)
            if self._api_token:  # by the environment, so it is not on the command line
                env["SWITCHBOARD_INTEGRATION_API_TOKEN"] = self._api_token
            with self._log.open("wb") as out:
                self._process = subprocess.Popen(
                    args, stdout=out, stderr=subprocess.STDOUT, env=env
                )
            self._name, self._started = name, time.monotonic()

    def stop(self, timeout_s: float = 15.0) -> bool:
        """Interrupt the running scenario (it clears its faults); False if none was running."""
        with self._lock:
            process = self._process
            if process is None or process.poll() is not None:
                return False
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            return True

    def status(self) -> ScenarioStatus:
        process = self._process
        if process is None:
            return ScenarioStatus(None, False, 0.0, None, "")
        code = process.poll()
        try:
            tail = self._log.read_text(errors="replace")[-2000:]
        except OSError:
            tail = ""
        return ScenarioStatus(
            self._name, code is None, time.monotonic() - self._started, code, tail
        )
