"""The simulator and the scenario runner against the session mocks and a served integration
layer (tool API, outbox) with a quick outbox policy, so retries settle in moments."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from app.cli import cli
from app.scenarios.library import find_scenario
from app.scenarios.runner import RunOptions, run_scenario
from app.simulator.conversation import Pacing
from app.simulator.engine import SimulationConfig, Simulator
from app.simulator.journeys import JOURNEYS, TEST_CARD
from app.simulator.personas import PersonaBook
from app.simulator.report import summary_table, transcript_text
from integration.access import API_TOKEN_ENV
from integration.bootstrap import Integration
from integration.policies.models import DEFAULT_POLICY_FILE
from mocks.registry import MockEnterprise
from mocks.settings import MockSettings
from tests.conftest import CHAOS_TOKEN
from tests.live.lookup_support import serve_layer, token_of

QUICK_OUTBOX = {
    "retry": {"max_attempts": 6, "base_ms": 20, "cap_ms": 200, "max_retry_after_s": 1},
    "poll_ms": 20,
    "breaker_wait_s": 0.2,
    "lease_s": 10,
}
QUICK_PACE = Pacing(think_ms=30)


@pytest.fixture
def served(
    mocks_url: str, mock_settings: MockSettings, tmp_path: Path
) -> Iterator[tuple[Integration, httpx.Client]]:
    raw = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())
    raw["outbox"] = {**raw.get("outbox", {}), **QUICK_OUTBOX}
    policies = tmp_path / "policies.yaml"
    policies.write_text(yaml.safe_dump(raw))
    with serve_layer(mocks_url, mock_settings, tmp_path, policies_file=policies) as pair:
        yield pair


@pytest.fixture
def api(served: tuple[Integration, httpx.Client]) -> httpx.Client:
    return served[1]


@pytest.fixture(scope="module")
def personas(enterprise: MockEnterprise) -> PersonaBook:
    return PersonaBook.from_dataset(enterprise.context.dataset)


def ledger_keys(control: httpx.Client, system: str) -> list[str]:
    entries = control.get(f"/_mock/{system}/ledger").json()["entries"]
    return [e["idempotency_key"] for e in entries if e["idempotency_key"]]


def test_a_short_simulation_yields_transcripts_and_a_summary(
    api: httpx.Client, personas: PersonaBook
) -> None:
    config = SimulationConfig(
        integration_url=str(api.base_url),
        api_token=token_of(api),
        rate_per_s=8,
        duration_s=3,
        seed=11,
        pacing=QUICK_PACE,
    )
    report = asyncio.run(Simulator(config, personas).run())

    results = report.results
    assert len(results) >= 8, "8 calls a second for 3 s"
    assert {r.journey for r in results} <= set(JOURNEYS)
    assert all(r.status != "failed" for r in results), [r.problems for r in results]
    for result in results:
        assert result.lookup_ms is not None and result.ended
        times = [line.at_ms for line in result.transcript]
        assert result.transcript and times == sorted(times)
        assert any(line.speaker == "caller" for line in result.transcript)
        assert result.tools, "every journey uses at least one tool"
        assert all(e.idempotency_key.startswith(f"sb:{result.call_id}:") for e in result.effects)
    # The service kept the same transcript the simulator spoke, line for line.
    sample = next(r for r in results if len(r.transcript) > 2)
    kept = api.get(f"/calls/{sample.call_id}").json()
    assert [t["text"] for t in kept["transcript"]] == [line.text for line in sample.transcript]
    # A payment's card number goes to the tool and nowhere else.
    dumped = json.dumps([r.as_json() for r in results], default=str)
    assert str(TEST_CARD["card_number"]) not in dumped

    table = summary_table(report).splitlines()
    assert table[0].startswith(f"{len(results)} calls in ")
    all_row = next(line.split() for line in table if line.startswith("all "))
    assert all_row[1] == str(len(results))
    assert sample.call_id in transcript_text(sample)


def test_a_fast_scenario_scores_writes_that_match_the_ledgers(
    api: httpx.Client, control: httpx.Client, personas: PersonaBook, mocks_url: str
) -> None:
    scenario = find_scenario("payment_gateway_down")
    options = RunOptions(
        integration_url=str(api.base_url),
        mocks_url=mocks_url,
        chaos_token=CHAOS_TOKEN,
        api_token=token_of(api),
        speed=20,
        seed=5,
        pacing=QUICK_PACE,
        progress=False,
    )
    run = asyncio.run(run_scenario(scenario, personas, options))
    card = run.scorecard

    assert card["passed"], [c for c in card["expectations"] if not c["passed"]]
    assert card["duration_s"] == pytest.approx(9) and card["speed"] == 20
    assert card["calls_total"] == len(run.report.results) > 10
    assert card["drained"] and card["writes_pending"] == 0
    # Counted again here, straight from the ledgers, the numbers agree.
    acked = {e.idempotency_key: e.system for r in run.report.results for e in r.effects}
    assert card["writes_acknowledged"] == len(acked) > 0
    applied = {k for s in set(acked.values()) for k in ledger_keys(control, s)}
    assert card["writes_applied"] == len(set(acked) & applied)
    assert card["writes_applied"] + card["writes_dead"] == card["writes_acknowledged"]
    assert card["writes_lost"] == card["duplicates"] == 0
    by_system = {row["system"]: row for row in card["writes_by_system"]}
    assert sum(row["applied"] for row in by_system.values()) == card["writes_applied"]
    # The outage was applied, injected and shows in the timeline; then it was undone.
    [outage] = card["timeline"]
    assert outage["applied"] and outage["action"] == "outage" and outage["calls"] > 0
    assert card["faults_injected"].get("payments", {}).get("outage", 0) > 0
    assert "payments" not in control.get("/_chaos").json()["systems"]
    assert card["caller_heard"] and all(h["say"] for h in card["caller_heard"])
    kept = api.get("/scenarios/results").json()["results"]
    assert kept[0]["name"] == "payment_gateway_down" and kept[0]["passed"] is True


def test_an_impossible_expectation_fails_the_command(
    api: httpx.Client, mocks_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "impossible.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "impossible",
                "description": "more calls than can be made",
                "duration": "2s",
                "traffic": {"rate": "3/s", "journeys": {"loan_status": 1}},
                "timeline": [{"at": "0:01", "system": "crm", "action": "credentials_expire"}],
                "expectations": ["calls_total >= 100000", "writes_lost == 0"],
            }
        )
    )
    saved = tmp_path / "card.json"
    result = CliRunner().invoke(
        cli,
        [
            "scenario",
            "run",
            str(path),
            "--integration-url",
            str(api.base_url),
            "--mocks-url",
            mocks_url,
            "--chaos-token",
            CHAOS_TOKEN,
            "--seed",
            "3",
            "--save",
            str(saved),
            "--no-post",
        ],
        env={API_TOKEN_ENV: token_of(api)},
    )

    assert result.exit_code == 1, result.output
    assert "scenario impossible" in result.output and ": FAILED" in result.output
    assert "[FAIL] calls_total >= 100000" in result.output
    assert "[pass] writes_lost == 0" in result.output
    card: dict[str, Any] = json.loads(saved.read_text())
    assert card["passed"] is False
    assert [c["passed"] for c in card["scorecard"]["expectations"]] == [False, True]
    assert api.get("/scenarios/results").json()["results"] == [], "--no-post keeps nothing"


def test_an_unreachable_stack_is_a_setup_error(mocks_url: str) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "scenario",
            "run",
            "healthy",
            "--integration-url",
            "http://127.0.0.1:9",
            "--mocks-url",
            mocks_url,
            "--chaos-token",
            CHAOS_TOKEN,
        ],
    )
    assert result.exit_code == 2
    assert "integration service at http://127.0.0.1:9 does not answer" in result.output
