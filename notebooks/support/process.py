"""The integration service as a child process a notebook may kill (SIGKILL) and restart.

It runs ``python -m app integration`` on a fixed port with the notebook stack's settings,
so a restart comes back at the same address with the same outbox file, as a supervisor
restarting a crashed service would bring it back.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from integration.settings import IntegrationSettings
from loadtests.stack import stop_process

__all__ = ["IntegrationProcess"]

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class IntegrationProcess:
    def __init__(self, settings: IntegrationSettings, *, log: Path) -> None:
        self.settings = settings
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.popen: subprocess.Popen[bytes] | None = None
        self.kills = 0

    def _env(self) -> dict[str, str]:
        s = self.settings
        return {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "SWITCHBOARD_INTEGRATION_MOCKS_URL": s.mocks_url,
            "SWITCHBOARD_INTEGRATION_STATE_DIR": str(s.state_dir),
            "SWITCHBOARD_INTEGRATION_DATABASE_URL": s.database_url,
            "SWITCHBOARD_INTEGRATION_SEED": str(s.seed),
        }

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen is not None else None

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def start(self, timeout_s: float = 60) -> float:
        """Start it and wait until it answers ``/health``; answers how long that took."""
        if self.alive():
            raise RuntimeError("the integration process is already running")
        began = time.monotonic()
        command = [
            sys.executable,
            "-m",
            "app",
            "integration",
            "--port",
            str(self.port),
            "--policies",
            str(self.settings.policies_file),
        ]
        with self.log.open("ab") as sink:
            self.popen = subprocess.Popen(
                command, cwd=ROOT, env=self._env(), stdout=sink, stderr=subprocess.STDOUT
            )
        # Reap it the moment it exits, whoever ends it: a Jupyter kernel shutting down
        # terminates its children and waits until none is left, and an unreaped zombie
        # would make it wait out its whole grace period and be killed before atexit runs.
        threading.Thread(target=self.popen.wait, name="integration-reaper", daemon=True).start()
        while time.monotonic() - began < timeout_s:
            if self.popen.poll() is not None:
                raise RuntimeError(f"the integration process exited; see {self.log}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return time.monotonic() - began
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"the integration process did not answer in {timeout_s:g} s")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, nothing is flushed, leases stay taken."""
        if self.popen is None or not self.alive():
            raise RuntimeError("the integration process is not running")
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait()
        self.kills += 1

    def stop(self) -> None:
        if self.popen is not None:
            stop_process(self.popen)
