"""The system map: the shipped file validates, references are checked, and the blast
radius and design review follow from the map and the policies."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from integration.lookup.caller_lookup import CUSTOMER_STEPS, STEPS
from integration.lookup.recommend import ESSENTIAL
from integration.policies.models import DEFAULT_POLICY_FILE, load_policy_book
from integration.systemmap.blast import blast_radius, retry_horizon_s
from integration.systemmap.model import check_caller_lookup, load_system_map
from integration.systemmap.review import capacity, design_review


def shipped() -> dict:
    return yaml.safe_load(DEFAULT_POLICY_FILE.read_text())


def write(tmp_path: Path, raw: dict) -> Path:
    path = tmp_path / "map.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_the_shipped_map_validates_and_is_the_policy_file() -> None:
    system_map, policies = load_system_map()
    assert len(system_map.systems) >= 13 and "caller_lookup" in system_map.flows
    assert system_map.systems["core"].owner == "core-banking"  # the legacy SOAP core
    # One copy: the policy reader and the map read the same rate limit from the same place.
    assert load_policy_book().for_system("erp").rate_limit == policies.for_system("erp").rate_limit
    assert shipped()["systems"]["erp"]["policy"]["rate_limit"] == {"requests": 50, "per_s": 1}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda raw: raw["systems"]["crm"].update(owner="nobody"), "systems.crm.owner"),
        (
            lambda raw: raw["flows"]["booking"]["steps"][0].update(system="fax"),
            "flows.booking.steps[0].system",
        ),
        (lambda raw: raw["flows"]["booking"]["steps"][1].update(after=["later"]), "steps[1].after"),
        (lambda raw: raw["systems"]["crm"]["sla"].update(availability=120), "systems.crm.sla"),
        (lambda raw: raw["systems"]["crm"].pop("owns"), "systems.crm.owns"),
        (lambda raw: raw["flows"]["payment"]["steps"][0].update(via="direct"), "flows.payment"),
    ],
)
def test_a_broken_map_is_refused_naming_the_field(tmp_path: Path, change, field: str) -> None:
    raw = shipped()
    change(raw)
    with pytest.raises(ValueError) as refused:
        load_system_map(write(tmp_path, raw))
    assert field in str(refused.value)


def test_the_lookup_code_and_the_map_must_agree() -> None:
    system_map, _ = load_system_map()
    steps = {name: system for name, (system, _) in STEPS.items()}
    first = set(STEPS) - set(CUSTOMER_STEPS)
    essential = set(ESSENTIAL)
    check_caller_lookup(system_map, steps, first, essential)
    with pytest.raises(ValueError, match="caller_lookup"):
        check_caller_lookup(system_map, {**steps, "orders": "loans"}, first, essential)
    with pytest.raises(ValueError, match="first steps"):
        check_caller_lookup(system_map, steps, first | {"accounts"}, essential)
    with pytest.raises(ValueError, match="required steps"):
        check_caller_lookup(system_map, steps, first, essential | {"orders"})


def test_blast_radius_of_a_read_source_with_a_cache_degrades_the_lookup_only() -> None:
    radius = blast_radius(*load_system_map(), "erp")
    assert radius.verdicts()["caller_lookup"] == "degrades"
    assert {v for f, v in radius.verdicts().items() if f != "caller_lookup"} == {"unaffected"}
    assert "ERP and Supply Chain" in radius.paged[0]
    lookup = next(f for f in radius.flows if f.flow == "caller_lookup")
    assert lookup.caller_hears and "details" in lookup.caller_hears


def test_blast_radius_of_the_crm_fails_the_lookup_and_delays_its_writes() -> None:
    verdicts = blast_radius(*load_system_map(), "crm").verdicts()
    assert verdicts["caller_lookup"] == "fails"
    assert verdicts["booking"] == "delayed" and verdicts["post_call_sync"] == "delayed"
    assert verdicts["payment"] == "unaffected"


def test_the_legacy_core_down_degrades_the_lookup_to_cached_holdings() -> None:
    radius = blast_radius(*load_system_map(), "core")
    assert radius.verdicts()["caller_lookup"] == "degrades"
    assert {v for f, v in radius.verdicts().items() if f != "caller_lookup"} == {"unaffected"}
    assert "Core Banking Platform" in radius.paged[0]
    lookup = next(f for f in radius.flows if f.flow == "caller_lookup")
    assert [(s.step, s.system) for s in lookup.steps] == [("holdings", "core")]
    review = design_review(*load_system_map(), "caller_lookup")
    assert "core" in review and "Core Banking Platform" in review
    assert "batch window" in review


def test_a_slow_system_degrades_instead_of_failing() -> None:
    assert blast_radius(*load_system_map(), "crm", "slow").verdicts()["caller_lookup"] == "degrades"


def test_a_down_automation_target_degrades_lead_qualification() -> None:
    radius = blast_radius(*load_system_map(), "slack")
    assert radius.verdicts()["lead_qualification"] == "degrades"
    step = next(f for f in radius.flows if f.flow == "lead_qualification").steps[0]
    assert "automation" in step.why


def test_unknown_system_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="system: no system 'fax'"):
        blast_radius(*load_system_map(), "fax")


def test_capacity_finds_the_rate_limit_that_caps_a_flow() -> None:
    system_map, policies = load_system_map()
    cap = capacity(system_map.flows["caller_lookup"], policies)
    assert cap.bottleneck == "erp" and cap.calls_per_hour_limit == pytest.approx(50 * 3600)


def test_retry_horizon_is_the_mean_of_the_backoffs() -> None:
    _, policies = load_system_map()
    retry = policies.outbox.retry
    expected = sum(min(retry.cap_ms, retry.base_ms * 2 ** (n - 1)) / 2000 for n in range(1, 20))
    assert retry_horizon_s(policies.outbox) == pytest.approx(expected)


def test_the_design_review_answers_the_eight_questions() -> None:
    text = design_review(*load_system_map(), "booking")
    for heading in (
        "Sources",
        "Destinations",
        "Path",
        "Order",
        "Failure modes",
        "Recovery",
        "Capacity",
        "Ownership",
    ):
        assert heading in text
    assert "1,000 calls an hour? **yes**" in text
    assert "Workplace Tools" in text and "`calendar` down: the flow **fails**" in text
    with pytest.raises(KeyError, match="flow: no flow"):
        design_review(*load_system_map(), "nope")
