"""The engine's decisions with an injected clock: no sockets, no waiting."""

from __future__ import annotations

from pathlib import Path

import pytest

from mocks.chaos import ChaosEngine, FaultProfile, OutageWindow, load_profile_file
from tests._support.clocks import ManualClock


def decide(engine: ChaosEngine, path: str = "/x", credential: str = "a") -> str | None:
    return engine.decide("crm", "GET", path, credential=credential, ip="127.0.0.1").fault


def test_outage_windows_follow_the_clock() -> None:
    clock = ManualClock()
    engine = ChaosEngine(("crm",), clock=clock)
    engine.add_outage("crm", OutageWindow(start_s=10, duration_s=5))
    assert decide(engine) is None
    clock.now += 10
    assert decide(engine) == "outage"
    clock.now += 5
    assert decide(engine) is None


def test_quota_refills_at_its_rate() -> None:
    clock = ManualClock()
    engine = ChaosEngine(("crm",), clock=clock)
    engine.set_profile(
        "crm", FaultProfile.model_validate({"rate_limit": {"requests": 2, "per_s": 1}})
    )
    assert [decide(engine) for _ in range(3)] == [None, None, "rate_limit"]
    wait = engine.decide("crm", "GET", "/x", credential="a", ip="").retry_after_s
    assert wait == pytest.approx(0.5)  # two tokens per second: half a second to the next
    assert decide(engine, credential="b") is None  # per credential
    clock.now += 0.5
    assert decide(engine) is None


def test_global_quota_is_shared_by_everyone() -> None:
    engine = ChaosEngine(("crm",), clock=ManualClock())
    engine.set_profile(
        "crm",
        FaultProfile.model_validate({"rate_limit": {"requests": 1, "per_s": 1, "key": "global"}}),
    )
    assert decide(engine, credential="a") is None
    assert decide(engine, credential="b") == "rate_limit"


def test_route_entries_match_method_and_glob() -> None:
    engine = ChaosEngine(("crm",), clock=ManualClock())
    engine.set_profile(
        "crm",
        FaultProfile.model_validate(
            {
                "routes": [
                    {"match": "GET /services/*/query*", "errors": {"rate": 1, "kinds": {"504": 1}}}
                ]
            }
        ),
    )
    assert decide(engine, "/services/data/v59.0/query") == "504"
    assert decide(engine, "/services/data/v59.0/sobjects/Lead/1") is None
    assert (
        engine.decide("crm", "POST", "/services/data/v59.0/query", credential="a", ip="").fault
        is None
    )


def test_a_revoked_credential_is_refused_on_every_request_until_cleared() -> None:
    engine = ChaosEngine(("crm",), clock=ManualClock())
    engine.set_profile(
        "crm", FaultProfile.model_validate({"errors": {"rate": 1, "kinds": {"revoked": 1}}})
    )
    decisions = [engine.decide("crm", "POST", "/x", credential="a", ip="") for _ in range(5)]
    assert {(d.fault, d.status) for d in decisions} == {("revoked", 401)}
    engine.clear("crm")
    assert decide(engine) is None


def test_each_system_has_its_own_random_sequence() -> None:
    profile = FaultProfile.model_validate({"errors": {"rate": 0.5}})
    alone = ChaosEngine(("crm", "slack"), seed=5)
    alone.set_profile("crm", profile)
    busy = ChaosEngine(("crm", "slack"), seed=5)
    busy.set_profile("crm", profile)
    busy.set_profile("slack", profile)
    for _ in range(50):  # traffic to slack must not shift crm's sequence
        busy.decide("slack", "GET", "/", credential="", ip="")
    assert [decide(alone) for _ in range(50)] == [decide(busy) for _ in range(50)]


def test_a_bad_profile_file_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text("systems:\n  crm:\n    errors:\n      rate: 2\n")
    with pytest.raises(ValueError, match=r"(?s)faults.yaml.*systems.crm.errors.rate"):
        load_profile_file(path)


def test_a_good_profile_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text(
        "seed: 7\nsystems:\n  crm:\n    latency: {kind: lognormal, p50_ms: 100, p99_ms: 800}\n"
        "    errors: {rate: 0.05, kinds: {'503': 2, hang: 1}}\n"
    )
    profile = load_profile_file(path)
    assert profile.seed == 7
    assert profile.systems["crm"].errors is not None
    assert profile.systems["crm"].errors.rate == 0.05
