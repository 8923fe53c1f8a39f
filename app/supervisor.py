"""Running the stack's parts as child processes: start in order, wait until each answers,
stop them all together (Ctrl-C, SIGTERM, or when any one of them dies).

Each child runs in a session of its own, so a Ctrl-C at the terminal reaches the
supervisor alone: it stops the children itself, in reverse order, and says so in one line
instead of four processes each printing their own shutdown. The children's output passes
through here, each line prefixed with the part's name, until the stop begins.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO

import httpx

__all__ = ["Part", "Supervisor"]


@dataclass(frozen=True)
class Part:
    name: str
    args: tuple[str, ...]  # after ``python -m app``
    health_url: str
    ready_timeout_s: float = 120.0
    port: int | None = None  # the port it binds on 127.0.0.1, checked free before it starts


class Supervisor:
    def __init__(
        self,
        parts: Sequence[Part],
        *,
        env: dict[str, str] | None = None,
        out: Callable[[str], None] | None = None,
    ) -> None:
        self.parts = parts
        # Unbuffered, so a child's lines reach the terminal as they are written.
        self.env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self._stopping = False
        self._signal: str | None = None
        self._out = out or _print
        self._quiet = threading.Event()  # set once the stop begins: children's lines dropped
        self._relays: list[threading.Thread] = []

    def run(self, on_ready: Callable[[], None] | None = None) -> int:
        """Start every part, call ``on_ready``, then wait; 0 when stopped by a signal."""
        give_back = _take_the_terminal()
        try:
            return self._run(on_ready)
        finally:
            give_back()

    def _run(self, on_ready: Callable[[], None] | None) -> int:
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        code = 0
        try:
            self.start()
            if on_ready is not None:
                on_ready()
            code = self.wait()
        except KeyboardInterrupt:
            code = 0
        finally:
            # A second Ctrl-C while stopping must not leave children behind.
            for sig in previous:
                signal.signal(sig, signal.SIG_IGN)
            stopped = self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        why = f" ({self._signal})" if self._signal else ""
        self._out(f"[up] stopped {', '.join(stopped) or 'nothing'}{why}; exit {code}")
        return code

    def _on_signal(self, signum: int, _frame: object) -> None:
        self._stopping = True
        self._signal = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        raise KeyboardInterrupt  # unwinds a start() that is still waiting for a part

    def start(self) -> None:
        for part in self.parts:
            if part.port is not None and not _free(part.port):
                raise RuntimeError(
                    f"port {part.port} is in use, so {part.name} cannot start there "
                    "(is another stack running? stop it, or choose other ports)"
                )
            process = subprocess.Popen(
                [sys.executable, "-m", "app", *part.args],
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
            self.running[part.name] = process
            relay = threading.Thread(
                target=self._relay, args=(part.name, process.stdout), daemon=True
            )
            relay.start()
            self._relays.append(relay)
            self._wait_ready(part, process)
            origin = "/".join(part.health_url.split("/")[:3])
            self._out(f"[up] {part.name} ready at {origin}")

    def _relay(self, name: str, stream: IO[bytes] | None) -> None:
        if stream is None:
            return
        try:
            for raw in stream:
                if not self._quiet.is_set():
                    self._out(f"[{name}] {raw.decode(errors='replace').rstrip()}")
        except (ValueError, OSError):  # closed by stop() while a grandchild still held it
            return

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
                    self._out(f"[up] {name} exited ({process.returncode}); stopping the rest")
                    code = process.returncode
                    return code if code and code > 0 else 1
            time.sleep(0.2)
        return 0

    def stop(self) -> list[str]:
        """SIGTERM every running part, newest first; SIGKILL what is left after 10 s."""
        self._quiet.set()
        stopped: list[str] = []
        for name, process in reversed(list(self.running.items())):
            if process.poll() is None:
                process.terminate()
                stopped.append(name)
        for process in self.running.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for relay in self._relays:  # each ends at its pipe's end, now the child is gone
            relay.join(timeout=2)
        for process in self.running.values():
            if process.stdout is not None:
                process.stdout.close()
        return list(reversed(stopped))


_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before it runs: SIGTERM it if the supervisor dies (even by SIGKILL),
    since a session of its own no longer shares the terminal's signals. Linux only; a
    single system call, so nothing here can wait on a lock another thread held."""
    if sys.platform.startswith("linux"):
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _take_the_terminal() -> Callable[[], None]:
    """Become the terminal's foreground process group, so that Ctrl-C reaches the
    supervisor alone, and return what gives the terminal back.

    Run by `make up`, the supervisor shares make's process group, and a Ctrl-C would reach
    make too: make then waits for its recipe, and however cleanly that ends, reports it as
    an interrupt (``*** [Makefile] Interrupt``) and exits 130. A group of our own in the
    foreground lets the stop be ours: make sees its recipe exit 0, and says nothing.
    Nothing changes without a terminal, or when we are not its foreground.
    """
    try:
        fd = sys.stdin.fileno()
        if not os.isatty(fd) or os.tcgetpgrp(fd) != os.getpgrp():
            return lambda: None
        previous = os.getpgrp()
        os.setpgid(0, 0)
    except (OSError, ValueError):  # no usable stdin, or a session leader already
        return lambda: None

    def foreground(group: int) -> None:
        # A background group asking for the terminal gets SIGTTOU unless it ignores it.
        old = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        try:
            os.tcsetpgrp(fd, group)
        except OSError:
            pass
        finally:
            signal.signal(signal.SIGTTOU, old)

    foreground(os.getpgrp())
    return lambda: foreground(previous)


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers bind: a port held only by closed connections (TIME_WAIT) is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _print(line: str) -> None:
    print(line, flush=True)
