"""A throwaway stack a notebook starts and stops itself.

The mock enterprise and the integration service run on free loopback ports inside the
notebook's own process (``app.serving.serve_in_thread``), with their state in a temporary
folder and a small dataset, so a notebook runs anywhere in seconds and leaves nothing
behind. For the crash lesson the integration service runs instead as a child process
(``python -m app integration``) that can be killed with SIGKILL and started again on the
same state, as a real deployment would be.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
from starlette.requests import ClientDisconnect

from app.serving import ServerHandle, serve_in_thread
from app.simulator.personas import Persona, PersonaBook
from integration.access import API_TOKEN_ENV, ensure_secrets
from integration.api.app import create_app
from integration.bootstrap import Integration, build
from integration.settings import IntegrationSettings
from mocks.dataset.cast import CAST
from mocks.dataset.model import Dataset
from mocks.registry import MockEnterprise, build_enterprise
from mocks.settings import MockSettings
from notebooks.support.chaos import Chaos
from notebooks.support.map_override import write_map_copy
from notebooks.support.process import IntegrationProcess

__all__ = ["CHAOS_TOKEN", "Stack", "start_stack"]

CHAOS_TOKEN = "notebook-chaos"


class _AbandonedRequests(logging.Filter):
    """Drops uvicorn's traceback for a request whose client vanished mid-body (the
    integration process killed with SIGKILL while a delivery was on the wire): that is the
    lesson's premise, not an error of the mocks."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ClientDisconnect))


def _quiet_abandoned_requests() -> None:
    uvicorn_errors = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _AbandonedRequests) for f in uvicorn_errors.filters):
        uvicorn_errors.addFilter(_AbandonedRequests())


@dataclass
class Stack:
    state: Path
    enterprise: MockEnterprise
    mocks_url: str
    integration_url: str
    map_file: Path
    api: httpx.Client  # the integration service
    mocks: httpx.Client  # the mocks, carrying the chaos token
    chaos: Chaos
    layer: Integration | None = None  # in-process only
    process: IntegrationProcess | None = None  # child-process only
    _servers: list[ServerHandle] = field(default_factory=list, repr=False)
    _keep: bool = False
    _stopped: bool = False

    @property
    def dataset(self) -> Dataset:
        return self.enterprise.context.dataset

    @property
    def client_env(self) -> dict[str, str]:
        """The environment for a command run against this stack (Locust, the simulator):
        the service's API token travels there, never on the command line."""
        token = self.api.headers["authorization"].removeprefix("Bearer ")
        return {**os.environ, "SWITCHBOARD_INTEGRATION_API_TOKEN": token}

    @property
    def database_url(self) -> str:
        return self.enterprise.context.settings.resolved_database_url

    def personas(self) -> PersonaBook:
        """Callers drawn from the mocks' own dataset (customers, borrowers, prospects...)."""
        return PersonaBook.from_dataset(self.dataset)

    def callers(self, kind: str = "customer", n: int = 10, skip: int = 0) -> list[Persona]:
        return list(self.personas().by_kind[kind][skip : skip + n])

    def example_caller(self, role: str) -> Persona:
        """One of the example callers every dataset holds (docs/example-callers.md):
        ``clean``, ``messy``, ``borrower`` or ``unknown``."""
        caller = next((c for c in CAST if c.role == role), None)
        if caller is None:
            raise KeyError(f"no example caller {role!r}; one of {[c.role for c in CAST]}")
        kind = {"borrower": "borrower", "unknown": "newcomer"}.get(role, "customer")
        found = [p for p in self.personas().by_kind.get(kind, ()) if p.phone == caller.phone]
        if found:
            return found[0]
        return Persona(kind=kind, phone=caller.phone, first_name="there")

    def look_up(
        self, phones: Sequence[str], *, prefix: str, deadline_ms: float | None = None
    ) -> list[dict[str, Any]]:
        """Start one call per phone, all at once (as callers ringing together would);
        answers each call's id, phone and caller view in the order given."""
        body_extra = {"deadline_ms": deadline_ms} if deadline_ms else {}

        def one(n_phone: tuple[int, str]) -> dict[str, Any]:
            n, phone = n_phone
            call_id = f"{prefix}-{n}"
            answer = self.api.post(
                "/calls", json={"phone": phone, "call_id": call_id, **body_extra}
            )
            answer.raise_for_status()
            return {"call_id": call_id, "phone": phone, "view": answer.json()["view"]}

        with ThreadPoolExecutor(max_workers=max(1, min(32, len(phones)))) as pool:
            return list(pool.map(one, enumerate(phones)))

    def stop(self) -> None:
        """Stop the servers (or the child process) and remove the state folder."""
        if self._stopped:
            return
        self._stopped = True
        self.api.close()
        self.mocks.close()
        if self.process is not None:
            self.process.stop()
        for handle in reversed(self._servers):
            handle.stop()
        if not self._keep:
            shutil.rmtree(self.state, ignore_errors=True)

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def start_stack(
    *,
    customers: int = 300,
    seed: int = 42,
    policy: Mapping[str, Mapping[str, Any]] | None = None,
    outbox: Mapping[str, Any] | None = None,
    integration: Literal["thread", "process"] = "thread",
    state: Path | None = None,
) -> Stack:
    """The mocks (``customers`` customers from ``seed``) and the integration service.

    ``policy`` and ``outbox`` change the system map's policies for this stack only
    (``notebooks.support.map_override``). With ``state`` the folder is kept afterwards.
    """
    _quiet_abandoned_requests()
    folder = state or Path(tempfile.mkdtemp(prefix="switchboard-notebook-"))
    folder.mkdir(parents=True, exist_ok=True)
    map_file = write_map_copy(folder, policy=policy, outbox=outbox)
    mock_settings = MockSettings(
        port=0,
        customers=customers,
        seed=seed,
        state_dir=folder / "mocks",
        chaos_token=CHAOS_TOKEN,
        max_hang_s=30.0,
    )
    enterprise = build_enterprise(mock_settings)
    servers = [serve_in_thread(enterprise.app)]
    mocks_url = servers[0].url
    enterprise.set_base_url(mocks_url)
    settings = IntegrationSettings(
        mocks_url=mocks_url,
        database_url=mock_settings.resolved_database_url,
        state_dir=folder / "integration",
        policies_file=map_file,
        seed=seed,
    )
    layer: Integration | None = None
    process: IntegrationProcess | None = None
    try:
        if integration == "thread":
            layer = build(settings)
            servers.append(serve_in_thread(create_app(layer)))
            integration_url = servers[-1].url
        else:
            process = IntegrationProcess(settings, log=folder / "integration.log")
            process.start()
            integration_url = process.url
    except BaseException:
        for handle in servers:
            handle.stop()
        raise
    mocks = httpx.Client(
        base_url=mocks_url, headers={"Authorization": f"Bearer {CHAOS_TOKEN}"}, timeout=30
    )
    # The service made its secrets in its state folder (on loopback): the notebook's client
    # sends the API token from there, as every client in the repository does.
    token = ensure_secrets(settings.state_dir)[API_TOKEN_ENV]
    stack = Stack(
        state=folder,
        enterprise=enterprise,
        mocks_url=mocks_url,
        integration_url=integration_url,
        map_file=map_file,
        api=httpx.Client(
            base_url=integration_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ),
        mocks=mocks,
        chaos=Chaos(mocks),
        layer=layer,
        process=process,
        _servers=servers,
        _keep=state is not None,
    )
    atexit.register(stack.stop)  # a kernel that stops early still stops its servers
    return stack
