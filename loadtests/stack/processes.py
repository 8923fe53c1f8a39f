"""Starting a part of the stack as a child process on a free loopback port, for benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

__all__ = ["free_port", "running", "stop_process"]


def stop_process(process: subprocess.Popen[bytes], grace_s: float = 10) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``grace_s``; reaped either way."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(
    args: Sequence[str],
    health_url: str,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 90,
    log: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``python -m app ARGS`` until the block ends; wait until ``health_url`` answers.

    With ``log``, the child's output goes to that file (a process that logs while serving
    a long run would fill an unread pipe and stall); without it, only its stderr is kept,
    for the error message if it exits before answering."""
    sink = log.open("ab") if log is not None else None
    process = subprocess.Popen(
        [sys.executable, "-m", "app", *args],
        env={**os.environ, **(env or {})},
        stdout=sink if sink is not None else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if sink is not None else subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                err = process.stderr.read().decode() if process.stderr else f"(see {log})"
                raise RuntimeError(f"python -m app {' '.join(args)} exited:\n{err}")
            try:
                if httpx.get(health_url, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{health_url} did not answer in {timeout}s")
            time.sleep(0.2)
        yield process
    finally:
        stop_process(process)
        if process.stderr is not None:
            process.stderr.close()  # else it leaks (a ResourceWarning, an error under pytest)
        if sink is not None:
            sink.close()
