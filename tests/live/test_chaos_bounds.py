"""The chaos API refuses what would make a request sleep for ever or fail: numbers that are
not finite, negative ones, and latencies past the hang limit, each with a 422 that names the
field and never repeats what was sent. A refused profile is not applied."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from mocks.registry import MockEnterprise, build_enterprise
from mocks.settings import MockCredentials, MockSettings

TARGET = "/eligibility/v1/products"
KEY = {"X-Api-Key": MockCredentials().eligibility_api_key}
JSON = {"content-type": "application/json"}


def refused(response: httpx.Response, *sent: str) -> list[Any]:
    """The 422's field locations, once checked that nothing sent is repeated."""
    assert response.status_code == 422, response.text
    for text in sent:
        assert text not in response.text, f"the error repeats the input {text!r}"
    detail = response.json()["detail"]
    assert all("input" not in error for error in detail)
    return [error["loc"] for error in detail]


def nothing_applied(control: httpx.Client, client: httpx.Client) -> None:
    assert control.get("/_chaos/systems/eligibility").json()["profile"] is None
    started = time.perf_counter()
    assert client.get(TARGET, headers=KEY).status_code == 200
    assert time.perf_counter() - started < 2  # no latency was injected


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_a_latency_that_is_not_a_finite_number_is_refused(
    control: httpx.Client, client: httpx.Client, literal: str
) -> None:
    body = '{"latency": {"kind": "fixed", "ms": ' + literal + "}}"
    response = control.put("/_chaos/systems/eligibility", content=body, headers=JSON)
    assert refused(response, literal) == [["body", "latency", "ms"]]
    nothing_applied(control, client)


@pytest.mark.parametrize(
    ("profile", "where"),
    [
        ({"latency": {"kind": "fixed", "ms": -250}}, ["body", "latency", "ms"]),
        (
            {"latency": {"kind": "uniform", "min_ms": -250, "max_ms": 10}},
            ["body", "latency", "min_ms"],
        ),
        ({"errors": {"rate": 1, "retry_after_s": -250}}, ["body", "errors", "retry_after_s"]),
        ({"outages": [{"start_s": -250, "duration_s": 1}]}, ["body", "outages", 0, "start_s"]),
        ({"rate_limit": {"requests": -250, "per_s": 1}}, ["body", "rate_limit", "requests"]),
    ],
)
def test_a_negative_number_is_refused(
    control: httpx.Client, client: httpx.Client, profile: dict[str, Any], where: list[Any]
) -> None:
    response = control.put("/_chaos/systems/eligibility", json=profile)
    assert refused(response, "-250") == [where]
    nothing_applied(control, client)


def test_a_value_deep_in_a_profile_is_named_where_it_is(control: httpx.Client) -> None:
    body = '{"routes": [{"match": "GET /v1/*", "latency": {"kind": "normal", "p50_ms": 5, "p99_ms": NaN}}]}'  # noqa: E501
    response = control.put("/_chaos/systems/eligibility", content=body, headers=JSON)
    assert refused(response) == [["body", "routes", 0, "latency", "p99_ms"]]


def test_a_latency_past_the_hang_limit_is_refused(
    control: httpx.Client, client: httpx.Client, mock_settings: MockSettings
) -> None:
    limit_ms = mock_settings.max_hang_s * 1000
    response = control.put(
        "/_chaos/systems/eligibility", json={"latency": {"kind": "fixed", "ms": 1e12}}
    )
    [error] = response.json()["detail"]
    assert refused(response, "1000000000000", "1e+12", "1e12") == [["body", "latency", "ms"]]
    assert "hang limit" in error["msg"]
    nothing_applied(control, client)
    at_the_limit = {"latency": {"kind": "fixed", "ms": limit_ms}}
    assert control.put("/_chaos/systems/eligibility", json=at_the_limit).status_code == 200


def test_every_latency_of_every_route_and_system_is_held_to_the_hang_limit(
    control: httpx.Client, mock_settings: MockSettings
) -> None:
    over = mock_settings.max_hang_s * 1000 + 1
    profile = {
        "systems": {
            "eligibility": {
                "latency": {"kind": "lognormal", "p50_ms": 10, "p99_ms": over},
                "routes": [{"match": "* /v1/*", "latency": {"kind": "fixed", "ms": over}}],
            }
        }
    }
    response = control.post("/_chaos/profile", json=profile)
    assert refused(response) == [
        ["body", "systems", "eligibility", "latency", "p99_ms"],
        ["body", "systems", "eligibility", "routes", 0, "latency", "ms"],
    ]
    assert control.get("/_chaos/systems/eligibility").json()["profile"] is None


def test_outages_seeds_and_sampling_are_bounded_too(control: httpx.Client) -> None:
    outage = control.post("/_chaos/systems/eligibility/outage", json={"seconds": 1e300})
    assert refused(outage) == [["body", "seconds"]]
    seed = control.post("/_chaos/seed", json={"seed": -7})
    assert refused(seed, "-7") == [["body", "seed"]]
    sample = control.get("/_chaos/systems/eligibility/latency-sample", params={"seed": -7})
    assert refused(sample, "-7") == [["query", "seed"]]


def test_a_fault_file_with_a_latency_past_the_hang_limit_does_not_start(
    tmp_path: Path, mock_settings: MockSettings, enterprise: MockEnterprise
) -> None:
    faults = tmp_path / "faults.yaml"
    faults.write_text("systems:\n  eligibility:\n    latency: {kind: fixed, ms: 9.0e9}\n")
    settings = mock_settings.model_copy(update={"faults_file": faults})
    with pytest.raises(ValueError, match=r"systems\.eligibility\.latency\.ms .*hang limit"):
        build_enterprise(settings, only=["eligibility"], dataset=enterprise.context.dataset)
