"""Running an ASGI app with uvicorn: in the foreground for the CLI (one process, or several
workers sharing the port), or in a thread for tests and notebooks (port 0 picks a free
port; the handle says which)."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

__all__ = ["ServerHandle", "serve_factory", "serve_forever", "serve_in_thread"]


@dataclass
class ServerHandle:
    server: uvicorn.Server
    thread: threading.Thread
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)


def _config(app: Any, host: str, port: int, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        lifespan="on",
        loop="uvloop",
        http="httptools",
        access_log=False,
        timeout_graceful_shutdown=2,
    )


def serve_in_thread(
    app: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    log_level: str = "warning",
    ready_timeout: float = 30.0,
) -> ServerHandle:
    server = uvicorn.Server(_config(app, host, port, log_level))

    def run() -> None:
        asyncio.run(server.serve())

    thread = threading.Thread(target=run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + ready_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start (see its log above)")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    return ServerHandle(server=server, thread=thread, host=host, port=bound)


def serve_forever(app: Any, *, host: str, port: int, log_level: str = "info") -> None:
    uvicorn.Server(_config(app, host, port, log_level)).run()


def serve_factory(
    factory: str,
    *,
    host: str,
    port: int,
    workers: int = 1,
    metrics_dir: Path | None = None,
    log_level: str = "info",
) -> None:
    """Serve the app ``factory`` ("module:function") builds, from ``workers`` processes
    that accept on one socket. uvicorn's supervisor starts them, pings them, and starts a
    new one when one dies (a crash, a SIGKILL), so the port keeps answering.

    ``metrics_dir``: where the workers' Prometheus counters are kept, so ``/metrics`` on
    any worker adds up all of them; emptied first, or a past run's counts would linger.
    """
    if metrics_dir is not None:
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir.resolve())
    uvicorn.run(
        factory,
        factory=True,
        host=host,
        port=port,
        workers=workers if workers > 1 else None,
        log_level=log_level,
        lifespan="on",
        loop="uvloop",
        http="httptools",
        access_log=False,
        timeout_graceful_shutdown=2,
    )
