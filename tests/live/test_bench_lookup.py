"""The lookup benchmark, run small: its own mocks in a child process, a couple of seconds
of each phase, and figures that make sense (not a performance claim: those come from
``python -m app bench lookup``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadtests.lookup import LookupBenchConfig, run


@pytest.fixture(autouse=True)
def clean_mocks() -> None:
    """The benchmark starts and owns its mocks, so the session mocks are not needed here."""


@pytest.mark.slow  # about 10 s: the mocks start in a child process
def test_a_small_benchmark_run_gives_sane_figures(tmp_path: Path) -> None:
    out = tmp_path / "out" / "lookup.json"
    config = LookupBenchConfig(
        seconds=2,
        concurrency=2,
        customers=200,
        warm_up_s=0.5,
        baseline_s=1.0,
        solo_calls=5,
        state_dir=tmp_path / "state",
        out=out,
        progress_every_s=None,
    )
    result = run(config)

    critical = result["critical_path_ms"]
    assert critical["configured"] == 140.0  # crm 60 + loans 80 beats telephony 100
    assert critical["measured"] >= critical["configured"]  # the injected sleeps are a floor
    layer, bare, naive = result["layer"], result["bare"], result["naive"]
    for phase in (layer, bare, naive):
        assert phase["lookups"] > 0
        assert phase["errors"] == 0
        assert phase["per_s"] > 0
    assert layer["degraded"] <= layer["lookups"] // 10  # no faults: nearly all live
    assert layer["p95_ms"] >= critical["measured"]
    assert layer["p50_ms"] <= layer["p95_ms"] <= layer["p99_ms"]
    assert naive["p50_ms"] > layer["p50_ms"]
    assert result["naive_over_layer_p50"] > 1.5  # six sources in turn vs two chains
    assert layer["cpu_s_per_lookup"] > 0
    assert json.loads(out.read_text()) == json.loads(json.dumps(result))
