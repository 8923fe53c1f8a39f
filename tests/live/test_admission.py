"""Admission over real HTTP: a worker whose call starts fill its limit turns the next ones
away at once with 503 and Retry-After (counted in /metrics), a Vapi caller hears words
and is handed over instead of waiting, and calls already admitted are served to the end."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from integration.bootstrap import Integration
from integration.calls.vapi import BUSY
from integration.policies.models import DEFAULT_POLICY_FILE
from mocks.registry import MockEnterprise
from mocks.settings import MockSettings
from tests.live.lookup_support import serve_layer

LIMIT = 2


@pytest.fixture
def served(
    mocks_url: str, mock_settings: MockSettings, tmp_path: Path, control: httpx.Client
) -> Iterator[tuple[Integration, httpx.Client]]:
    raw = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())
    # A fixed limit of two starts, and no lag refusals: what is refused here is exact.
    raw["admission"] = {
        "initial_limit": LIMIT,
        "min_limit": LIMIT,
        "max_limit": LIMIT,
        "max_queue_ms": 10_000,
    }
    policies = tmp_path / "policies.yaml"
    policies.write_text(yaml.safe_dump(raw))
    slow_crm = {"latency": {"kind": "fixed", "ms": 400}}
    control.put("/_chaos/systems/crm", json=slow_crm).raise_for_status()
    with serve_layer(mocks_url, mock_settings, tmp_path, policies_file=policies) as pair:
        yield pair


def test_starts_past_the_limit_are_refused_at_once_and_the_admitted_finish(
    served: tuple[Integration, httpx.Client], enterprise: MockEnterprise
) -> None:
    layer, api = served
    phones = [c.phone_e164 for c in enterprise.context.dataset.customers[:8]]

    async def burst() -> list[tuple[int, float, httpx.Headers, dict[str, object]]]:
        async with httpx.AsyncClient(
            base_url=str(api.base_url), headers=api.headers, timeout=30
        ) as http:

            async def one(phone: str) -> tuple[int, float, httpx.Headers, dict[str, object]]:
                began = time.perf_counter()
                response = await http.post("/calls", json={"phone": phone})
                return (
                    response.status_code,
                    time.perf_counter() - began,
                    response.headers,
                    response.json(),
                )

            return await asyncio.gather(*(one(p) for p in phones))

    answers = asyncio.run(burst())
    admitted = [a for a in answers if a[0] == 201]
    refused = [a for a in answers if a[0] == 503]
    assert len(admitted) == LIMIT and len(refused) == len(phones) - LIMIT
    assert all(a[1] >= 0.35 for a in admitted)  # they waited for the slow CRM, and answered
    assert all(a[2]["retry-after"] == "1" for a in refused)
    assert all(a[1] < 0.3 for a in refused)  # not queued behind the slow lookups
    assert all("too busy" in str(a[3]["detail"]) for a in refused)
    metrics = api.get("/metrics").text
    line = 'switchboard_admission_refusals_total{reason="limit",route="POST /calls"}'
    assert f"{line} {float(len(refused))}" in metrics
    assert layer.admission.in_flight == 0  # every admitted start gave its place back
    assert api.post("/calls", json={"phone": phones[0]}).status_code == 201  # room again


def test_a_vapi_caller_the_service_cannot_start_hears_words_not_silence(
    served: tuple[Integration, httpx.Client], enterprise: MockEnterprise
) -> None:
    layer, api = served
    layer.admission.in_flight = LIMIT  # the limit is full of other starts
    try:
        message = {
            "message": {
                "type": "tool-calls",
                "call": {"id": "busy-1", "customer": {"number": "+14155550100"}},
                "toolCallList": [
                    {"id": "t1", "function": {"name": "check_eligibility", "arguments": {}}}
                ],
            }
        }
        began = time.perf_counter()
        vapi = {"x-vapi-secret": layer.access.vapi_secret}
        answered = api.post("/vapi/webhook", json=message, headers=vapi)
        assert time.perf_counter() - began < 0.3
        assert answered.status_code == 200
        assert answered.json() == {"results": [{"toolCallId": "t1", "result": BUSY}]}
    finally:
        layer.admission.in_flight = 0
    refused = api.get("/events", params={"kind": "call"}).json()["events"]
    assert [(e["operation"], e["outcome"], e["detail"]["escalate"]) for e in refused] == [
        ("start", "refused", "service_busy")
    ]
