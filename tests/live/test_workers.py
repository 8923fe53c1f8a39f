"""The service as several worker processes on one port and one store (SQLite, then
PostgreSQL), started as a user would: ``python -m app integration --workers 2``.

A call started on one worker carries on after that worker is killed with SIGKILL: its
next tool runs on another worker (or the one that replaced it) with the same caller
view, its end's effects are delivered once, and the port never stops answering.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from integration.access import API_TOKEN_ENV, ensure_secrets
from integration.store.workers import process_alive
from loadtests.stack.ledgers import count_writes
from loadtests.stack.processes import free_port, running
from mocks.registry import MockEnterprise
from mocks.settings import MockSettings
from tests.conftest import CONTROL_HEADERS


@pytest.fixture
def service(
    mocks_url: str, mock_settings: MockSettings, tmp_path: Path, store_url: str
) -> Iterator[httpx.Client]:
    port = free_port()
    # The workers take their secrets from their state folder, as `make up` would have them.
    token = ensure_secrets(tmp_path / "integration")[API_TOKEN_ENV]
    env = {
        "SWITCHBOARD_INTEGRATION_STATE_DIR": str(tmp_path / "integration"),
        "SWITCHBOARD_INTEGRATION_DATABASE_URL": mock_settings.resolved_database_url,
    }
    args = [
        "integration",
        "--port",
        str(port),
        "--workers",
        "2",
        "--mocks-url",
        mocks_url,
        "--store-url",
        store_url,
    ]
    url = f"http://127.0.0.1:{port}"
    with (
        running(args, f"{url}/health", env=env, log=tmp_path / "integration.log"),
        httpx.Client(
            base_url=url, headers={"authorization": f"Bearer {token}"}, timeout=30
        ) as http,
    ):
        wait_for_workers(http, 2)
        yield http


def wait_for_workers(http: httpx.Client, n: int, timeout_s: float = 30) -> list[dict[str, object]]:
    gives_up = time.monotonic() + timeout_s
    while True:
        found = http.get("/workers").json()["workers"]
        if len(found) == n or time.monotonic() > gives_up:
            assert len(found) == n, found
            return list(found)
        time.sleep(0.2)


def pid_of(worker: str) -> int:
    return int(worker.split(":")[1])


def test_a_call_survives_the_sigkill_of_the_worker_that_started_it(
    service: httpx.Client, enterprise: MockEnterprise, control: httpx.Client
) -> None:
    phone = enterprise.context.dataset.customers[3].phone_e164
    started = service.post("/calls", json={"phone": phone, "call_id": "survivor"})
    assert started.status_code == 201, started.text
    view = started.json()["view"]
    worker = service.get("/calls/survivor").json()["worker"]
    os.kill(pid_of(worker), signal.SIGKILL)
    while process_alive(pid_of(worker)):  # a connection it accepted while dying would reset
        time.sleep(0.01)
    # A kept-alive connection to the killed worker is gone with it: as a voice platform's
    # next webhook would, the next request comes on a new connection.
    service.close()
    with httpx.Client(base_url=str(service.base_url), headers=service.headers, timeout=30) as fresh:
        carry_on(fresh, control, phone, view, worker)


def carry_on(
    service: httpx.Client, control: httpx.Client, phone: str, view: object, killed: str
) -> None:
    # Whichever worker takes the next request (the other, or the one that replaced the
    # killed one) has the call, with the same caller view.
    tool = service.post(
        "/calls/survivor/tools/check_eligibility", json={"arguments": {"product": "LOAN-AUTO"}}
    )
    assert tool.status_code == 200, tool.text
    assert tool.json()["status"] in ("ok", "degraded")
    after = service.get("/calls/survivor").json()
    assert after["view"] == view and [t["tool"] for t in after["tools"]] == ["check_eligibility"]
    ended = service.post(
        "/calls/survivor/end",
        json={"disposition": "resolved", "messages": [{"channel": "sms", "to": phone}]},
    )
    assert ended.status_code == 201, ended.text
    keys = {e["idempotency_key"]: e["system"] for e in ended.json()["effects"]}

    workers = wait_for_workers(service, 2)  # uvicorn's supervisor replaced the killed one
    assert killed not in {w["worker"] for w in workers}
    gives_up = time.monotonic() + 30
    while service.get("/outbox").json()["pending"] + service.get("/outbox").json()["in_flight"]:
        assert time.monotonic() < gives_up, service.get("/outbox").json()
        time.sleep(0.2)
    counted = count_writes(str(control.base_url), keys, CONTROL_HEADERS)
    assert counted.applied == len(keys) and not counted.lost and not counted.duplicates


def test_every_worker_answers_for_the_whole_service(
    service: httpx.Client, enterprise: MockEnterprise
) -> None:
    phones = [c.phone_e164 for c in enterprise.context.dataset.customers[10:30]]
    # Fresh connections, so the kernel spreads them over both workers.
    seen: set[str] = set()
    call_ids = []
    for n, phone in enumerate(phones):
        with httpx.Client(
            base_url=str(service.base_url), headers=service.headers, timeout=30
        ) as fresh:
            body = fresh.post("/calls", json={"phone": phone, "call_id": f"spread-{n}"}).json()
            call_ids.append(body["call_id"])
            seen.add(fresh.get(f"/calls/{body['call_id']}").json()["worker"])
    assert len(seen) == 2  # both workers started calls
    listed = {c["call_id"] for c in service.get("/calls", params={"limit": 100}).json()["calls"]}
    assert set(call_ids) <= listed
    # From both workers, in one list (another worker's within its flush interval).
    gives_up = time.monotonic() + 5
    while True:
        events = service.get("/events", params={"kind": "lookup", "limit": 100}).json()["events"]
        if {e["call_id"] for e in events} >= set(call_ids) or time.monotonic() > gives_up:
            break
        time.sleep(0.05)
    assert {e["call_id"] for e in events} >= set(call_ids)
    systems = service.get("/systems").json()
    assert set(systems["crm"]["workers"]) == {w["worker"] for w in wait_for_workers(service, 2)}
    metrics = service.get("/metrics").text
    lookups = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("switchboard_lookups_total{")
    )
    assert lookups == len(phones)  # the counters of both workers, added up
