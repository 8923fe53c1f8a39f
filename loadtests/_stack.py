"""Starting a part of the stack as a child process on a free loopback port, for benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import httpx

__all__ = ["free_port", "running"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(
    args: Sequence[str], health_url: str, *, env: dict[str, str] | None = None, timeout: float = 90
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``python -m app ARGS`` until the block ends; wait until ``health_url`` answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "app", *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                err = process.stderr.read().decode() if process.stderr else ""
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
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        if process.stderr is not None:
            process.stderr.close()  # else it leaks (a ResourceWarning, an error under pytest)
