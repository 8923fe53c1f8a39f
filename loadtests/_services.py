"""The stack for a load run: the mocks and the integration service as child processes on
free loopback ports, state in one folder, output in log files there."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from loadtests._stack import free_port, running

__all__ = ["CHAOS_TOKEN", "Stack", "stack"]

CHAOS_TOKEN = "switchboard-chaos"  # the mocks' default, handed to the child explicitly


@dataclass(frozen=True)
class Stack:
    mocks_url: str
    integration_url: str
    mocks_pid: int
    integration_pid: int
    state: Path
    database_url: str

    @property
    def control_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {CHAOS_TOKEN}"}


@contextmanager
def stack(
    state: Path,
    *,
    customers: int = 1000,
    seed: int = 42,
    policies: Path | None = None,
    announce: bool = True,
) -> Iterator[Stack]:
    """Mocks first (the integration service reads their SQL file), then the service; both
    stopped (SIGTERM, then SIGKILL) when the block ends."""
    state = state.resolve()
    state.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{state / 'enterprise.db'}"
    mocks_port, integration_port = free_port(), free_port()
    mocks_url = f"http://127.0.0.1:{mocks_port}"
    integration_url = f"http://127.0.0.1:{integration_port}"
    mocks_env = {
        "SWITCHBOARD_STATE_DIR": str(state),
        "SWITCHBOARD_DATABASE_URL": database_url,
        "SWITCHBOARD_CHAOS_TOKEN": CHAOS_TOKEN,
    }
    integration_env = {
        "SWITCHBOARD_INTEGRATION_MOCKS_URL": mocks_url,
        "SWITCHBOARD_INTEGRATION_STATE_DIR": str(state / "integration"),
        "SWITCHBOARD_INTEGRATION_DATABASE_URL": database_url,
    }
    mocks_args = ["mocks", "--port", str(mocks_port), "--customers", str(customers),
                  "--seed", str(seed)]  # fmt: skip
    integration_args = ["integration", "--port", str(integration_port)]
    if policies is not None:
        integration_args += ["--policies", str(policies)]
    if announce:
        print(f"starting the mocks on {mocks_url} ({customers} customers, state {state})...")
    with ExitStack() as stop:
        mocks = stop.enter_context(
            running(mocks_args, f"{mocks_url}/_mock/health", env=mocks_env, log=state / "mocks.log")
        )
        if announce:
            print(f"starting the integration service on {integration_url}...")
        integration = stop.enter_context(
            running(
                integration_args,
                f"{integration_url}/health",
                env=integration_env,
                log=state / "integration.log",
            )
        )
        yield Stack(
            mocks_url=mocks_url,
            integration_url=integration_url,
            mocks_pid=mocks.pid,
            integration_pid=integration.pid,
            state=state,
            database_url=database_url,
        )
