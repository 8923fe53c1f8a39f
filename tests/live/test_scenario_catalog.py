"""Every shipped scenario, in a short form, against the session mocks and a served layer:
its timeline applies, its traffic runs and its expectations hold. Marked slow (about a
minute and a half in all): each scenario runs about 6 s of traffic plus the drain."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from app.scenarios.library import CATALOG_DIR, load_scenario
from app.scenarios.runner import RunOptions, run_scenario
from app.simulator.conversation import Pacing
from app.simulator.personas import PersonaBook
from integration.policies.models import DEFAULT_POLICY_FILE
from mocks.registry import MockEnterprise
from mocks.settings import MockSettings
from tests.conftest import CHAOS_TOKEN
from tests.live.lookup_support import serve_layer, token_of

pytestmark = pytest.mark.slow

TRAFFIC_S = 6.0  # each scenario is sped up until its traffic lasts this long
QUICK_OUTBOX = {
    "retry": {"max_attempts": 6, "base_ms": 20, "cap_ms": 200, "max_retry_after_s": 1},
    "poll_ms": 20,
    "breaker_wait_s": 0.2,
    "lease_s": 10,
}


@pytest.fixture
def integration(
    mocks_url: str, mock_settings: MockSettings, tmp_path: Path
) -> Iterator[httpx.Client]:
    raw = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())
    raw["outbox"] = {**raw.get("outbox", {}), **QUICK_OUTBOX}
    policies = tmp_path / "policies.yaml"
    policies.write_text(yaml.safe_dump(raw))
    with serve_layer(mocks_url, mock_settings, tmp_path, policies_file=policies) as (_, http):
        yield http


@pytest.fixture(scope="module")
def personas(enterprise: MockEnterprise) -> PersonaBook:
    return PersonaBook.from_dataset(enterprise.context.dataset)


@pytest.mark.parametrize("path", sorted(CATALOG_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_each_shipped_scenario_holds_in_short_form(
    path: Path,
    integration: httpx.Client,
    mocks_url: str,
    personas: PersonaBook,
    control: httpx.Client,
) -> None:
    scenario = load_scenario(path)
    options = RunOptions(
        integration_url=str(integration.base_url),
        mocks_url=mocks_url,
        chaos_token=CHAOS_TOKEN,
        api_token=token_of(integration),
        speed=scenario.duration / TRAFFIC_S,
        seed=1,
        pacing=Pacing(think_ms=30),
        progress=False,
    )
    card = asyncio.run(run_scenario(scenario, personas, options)).scorecard

    failed = [c for c in card["expectations"] if not c["passed"]]
    assert not failed, failed
    assert card["calls_total"] >= 10
    assert card["drained"], "the outbox did not drain"
    assert all(row["applied"] for row in card["timeline"]), card["timeline"]
    assert control.get("/_chaos").json()["systems"] == {}, "the run left faults behind"
