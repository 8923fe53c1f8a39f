"""The stack for a load run: the mocks and the integration service as child processes on
free loopback ports, state in one folder, output in log files there.

``stack`` starts both; ``mocks_service`` and ``integration_service`` start one each, so a
benchmark can run several integration setups (workers, stores) against one mocks process.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from integration.access import API_TOKEN_ENV, ensure_secrets
from loadtests.stack.processes import free_port, running

__all__ = ["CHAOS_TOKEN", "Mocks", "Stack", "integration_service", "mocks_service", "stack"]

CHAOS_TOKEN = "switchboard-chaos"  # the mocks' default, handed to the child explicitly


@dataclass(frozen=True)
class Mocks:
    url: str
    pid: int
    state: Path
    database_url: str

    @property
    def control_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {CHAOS_TOKEN}"}


@dataclass(frozen=True)
class Stack:
    mocks_url: str
    integration_url: str
    mocks_pid: int
    integration_pid: int  # with several workers, their supervisor's
    state: Path
    database_url: str
    workers: int = 1
    store_url: str | None = None
    api_token: str = ""

    @property
    def control_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {CHAOS_TOKEN}"}

    @property
    def api_headers(self) -> dict[str, str]:
        """What every client of the integration service sends: its API token."""
        return {"Authorization": f"Bearer {self.api_token}"}


@contextmanager
def mocks_service(
    state: Path, *, customers: int = 1000, seed: int = 42, announce: bool = True
) -> Iterator[Mocks]:
    state = state.resolve()
    state.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{state / 'enterprise.db'}"
    url = f"http://127.0.0.1:{free_port()}"
    env = {
        "SWITCHBOARD_STATE_DIR": str(state),
        "SWITCHBOARD_DATABASE_URL": database_url,
        "SWITCHBOARD_CHAOS_TOKEN": CHAOS_TOKEN,
    }
    args = [
        "mocks",
        "--port",
        url.rsplit(":", 1)[1],
        "--customers",
        str(customers),
        "--seed",
        str(seed),
    ]
    if announce:
        print(f"starting the mocks on {url} ({customers} customers, state {state})...")
    with running(args, f"{url}/_mock/health", env=env, log=state / "mocks.log") as process:
        yield Mocks(url, process.pid, state, database_url)


@contextmanager
def integration_service(
    mocks: Mocks,
    state: Path,
    *,
    policies: Path | None = None,
    workers: int = 1,
    store_url: str | None = None,
    announce: bool = True,
) -> Iterator[Stack]:
    """The integration service in front of ``mocks``, its state (and SQLite store) in
    ``state``; ready once all its workers answer."""
    state = state.resolve()
    url = f"http://127.0.0.1:{free_port()}"
    env = {
        "SWITCHBOARD_INTEGRATION_MOCKS_URL": mocks.url,
        "SWITCHBOARD_INTEGRATION_STATE_DIR": str(state),
        "SWITCHBOARD_INTEGRATION_DATABASE_URL": mocks.database_url,
    }
    args = ["integration", "--port", url.rsplit(":", 1)[1], "--workers", str(workers)]
    if policies is not None:
        args += ["--policies", str(policies)]
    if store_url is not None:
        args += ["--store-url", store_url]
    if announce:
        print(f"starting the integration service on {url} ({workers} worker(s))...")
    state.mkdir(parents=True, exist_ok=True)
    secrets = ensure_secrets(state)  # the service, on loopback, reads them from there too
    health = f"{url}/health"
    with running(args, health, env=env, log=state.parent / "integration.log") as process:
        _wait_for_workers(url, workers)
        yield Stack(
            mocks_url=mocks.url,
            integration_url=url,
            mocks_pid=mocks.pid,
            integration_pid=process.pid,
            state=mocks.state,
            database_url=mocks.database_url,
            workers=workers,
            store_url=store_url,
            api_token=secrets[API_TOKEN_ENV],
        )


@contextmanager
def stack(
    state: Path,
    *,
    customers: int = 1000,
    seed: int = 42,
    policies: Path | None = None,
    announce: bool = True,
    workers: int = 1,
    store_url: str | None = None,
) -> Iterator[Stack]:
    """Mocks first (the integration service reads their SQL file), then the service; both
    stopped (SIGTERM, then SIGKILL) when the block ends."""
    state = state.resolve()
    with ExitStack() as stop:
        mocks = stop.enter_context(
            mocks_service(state, customers=customers, seed=seed, announce=announce)
        )
        service = stop.enter_context(
            integration_service(
                mocks,
                state / "integration",
                policies=policies,
                workers=workers,
                store_url=store_url,
                announce=announce,
            )
        )
        yield replace(service, state=state)


def _wait_for_workers(url: str, workers: int, timeout_s: float = 60) -> None:
    gives_up = time.monotonic() + timeout_s
    with httpx.Client(timeout=5) as http:
        while time.monotonic() < gives_up:
            # A new connection each time, so each may reach another worker.
            found = http.get(f"{url}/workers", headers={"Connection": "close"})
            if found.status_code == 200 and len(found.json()["workers"]) >= workers:
                return
            time.sleep(0.2)
    raise TimeoutError(f"{workers} workers did not all start in {timeout_s:.0f} s")
