"""The middleware hop in the system map: which steps go through the gateway, what its
outage takes down, and what the design review says about it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from integration.policies.models import DEFAULT_POLICY_FILE
from integration.systemmap.blast import blast_radius
from integration.systemmap.model import load_system_map
from integration.systemmap.review import design_review


def with_change(tmp_path: Path, change) -> Path:
    raw = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())
    change(raw)
    path = tmp_path / "map.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def step(raw: dict, flow: str, name: str) -> dict:
    return next(s for s in raw["flows"][flow]["steps"] if s["name"] == name)


def test_a_source_and_a_write_go_through_the_gateway() -> None:
    system_map, _ = load_system_map()
    assert system_map.gateways() == {"loans": "middleware", "erp": "middleware"}
    assert system_map.fronted_by("middleware") == ["erp", "loans"]
    hops = {
        (flow, s.name, s.mode)
        for flow, f in system_map.flows.items()
        for s in f.steps
        if s.path == "middleware"
    }
    assert hops == {
        ("caller_lookup", "loans", "read"),
        ("caller_lookup", "orders", "read"),
        ("post_call_sync", "loan_stage", "write"),
    }
    assert system_map.systems["middleware"].owner == "integration-platform"


def test_the_gateway_down_takes_both_its_sources_down() -> None:
    radius = blast_radius(*load_system_map(), "middleware")
    verdicts = radius.verdicts()
    assert verdicts["caller_lookup"] == "degrades" and verdicts["post_call_sync"] == "delayed"
    assert {verdicts[f] for f in ("booking", "payment", "escalation")} == {"unaffected"}
    lookup = next(f for f in radius.flows if f.flow == "caller_lookup")
    assert [(s.step, s.system) for s in lookup.steps] == [("loans", "loans"), ("orders", "erp")]
    assert all("through the middleware gateway" in s.why for s in lookup.steps)
    assert "Integration Platform" in radius.paged[0]
    assert radius.notes and "erp, loans" in radius.notes[0]
    # A source behind the gateway still fails alone, the gateway's other source unharmed.
    loans = next(f for f in blast_radius(*load_system_map(), "loans").flows)
    assert "orders" not in {s.step for s in loans.steps}


def test_the_review_answers_does_it_go_through_middleware() -> None:
    review = design_review(*load_system_map(), "caller_lookup")
    assert "Through middleware: yes; `middleware` carries loans (loans), orders (erp)" in review
    assert "`middleware` down: the flow **degrades**" in review
    assert "`middleware`: Integration Platform" in review
    direct = design_review(*load_system_map(), "booking")
    assert "Through middleware: no" in direct


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda raw: step(raw, "caller_lookup", "loans").pop("gateway"), "gateway"),
        (
            lambda raw: step(raw, "caller_lookup", "contact").update(gateway="middleware"),
            "gateway",
        ),
        (lambda raw: step(raw, "caller_lookup", "loans").update(gateway="esb"), ".gateway"),
        (lambda raw: step(raw, "caller_lookup", "loans").update(path="esb"), ".path"),
        (
            lambda raw: step(raw, "post_call_sync", "loan_stage").update(
                path="direct", gateway=None
            ),
            "post_call_sync.steps[3].path",
        ),
    ],
)
def test_a_wrong_path_is_refused_naming_the_field(tmp_path: Path, change, field: str) -> None:
    with pytest.raises(ValueError) as refused:
        load_system_map(with_change(tmp_path, change))
    assert field in str(refused.value)
