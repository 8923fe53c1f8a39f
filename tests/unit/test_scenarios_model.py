"""Scenario files and the units people type: every shipped scenario loads, a wrong one names
its field, rates and durations read the way they are written."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from app.cli import cli
from app.scenarios.library import CATALOG_DIR, ScenarioError, find_scenario, load_catalog
from app.scenarios.library import load_scenario as load
from app.scenarios.model import METRICS, Expectation, Scenario
from app.simulator.journeys import JOURNEYS
from app.simulator.units import format_duration, parse_duration, parse_rate

SHIPPED = sorted(CATALOG_DIR.glob("*.yaml"))
# The failure modes the project's source text names, and the scenario covering each.
FAILURE_MODES = {
    "everything healthy": "healthy",
    "payment gateway down": "payment_gateway_down",
    "slow API (brownout)": "crm_brownout",
    "credentials expire": "credentials_expire",
    "database locks": "database_locked",
    "database goes down": "database_down",
    "workflow after a lead update fails": "crm_automation_slack_fails",
    "notifications misbehave": "sms_callbacks_late_twice",
    "rate limits": "calendar_429_storm",
    "eligibility API times out": "eligibility_timeouts",
    "networks fail": "flaky_network",
    "load with quotas": "peak_hour_quotas",
}


def write(tmp_path: Path, raw: dict[str, object], name: str = "broken") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def minimal(**changes: object) -> dict[str, object]:
    raw: dict[str, object] = {"name": "broken", "description": "d", "duration": "1m"}
    raw.update(changes)
    return raw


# -- the catalog -----------------------------------------------------------------------------


def test_at_least_eight_scenarios_ship() -> None:
    assert len(SHIPPED) >= 8


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_scenario_validates(path: Path) -> None:
    scenario = load(path)
    assert scenario.name == path.stem
    assert scenario.expectations, "a scenario without expectations judges nothing"
    assert {e.metric for e in scenario.expectations} <= set(METRICS)
    assert set(scenario.traffic.journeys) <= set(JOURNEYS)
    fast = scenario.scaled(10)
    assert fast.duration == pytest.approx(scenario.duration / 10)
    assert [e.at for e in fast.timeline] == pytest.approx([e.at / 10 for e in scenario.timeline])


def test_every_seeded_failure_mode_has_a_scenario() -> None:
    names = {s.name for s in load_catalog()}
    assert set(FAILURE_MODES.values()) <= names


def test_find_scenario_names_the_known_ones_when_asked_for_another() -> None:
    assert find_scenario("healthy").name == "healthy"
    with pytest.raises(ScenarioError, match=r"no scenario 'nope'; known: .*healthy"):
        find_scenario("nope")


# -- bad files name their field --------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"duration": "2x"}, "duration", "expected e.g. 60s"),
        ({"traffic": {"rate": "5/x"}}, "traffic.rate", "must be s, min or h"),
        ({"traffic": {"journeys": {"teleport": 1}}}, "traffic.journeys", "unknown journeys"),
        (
            {"timeline": [{"at": "0:10", "system": "mainframe", "action": "clear"}]},
            "timeline.0.system",
            "unknown system 'mainframe'",
        ),
        (
            {"timeline": [{"at": "0:10", "system": "crm", "action": "explode"}]},
            "timeline.0.action",
            "Input should be",
        ),
        (
            {"timeline": [{"at": "0:10", "system": "payments", "action": "outage"}]},
            "timeline.0",
            "needs 'seconds'",
        ),
        (
            {"timeline": [{"at": "0:10", "system": "payments", "action": "lock", "seconds": 5}]},
            "timeline.0",
            "applies to database, not payments",
        ),
        (
            {
                "timeline": [
                    {
                        "at": "0:10",
                        "system": "crm",
                        "action": "faults",
                        "profile": {"latency": {"kind": "lognormal", "p50_ms": 2000}},
                    }
                ]
            },
            "timeline.0.profile.latency",
            "needs p99_ms",
        ),
        (
            {"timeline": [{"at": "2m", "system": "crm", "action": "clear"}]},
            "(top level)",
            "after the scenario ends",
        ),
        ({"expectations": ["writes_lost = 0"]}, "expectations.0", "metric op number"),
        ({"expectations": ["happiness >= 1"]}, "expectations.0.metric", "Input should be"),
        (
            {"expectations": [{"metric": "failed", "op": "~", "value": 0}]},
            "expectations.0.op",
            "Input should be",
        ),
        ({"surprise": True}, "surprise", "Extra inputs are not permitted"),
    ],
)
def test_a_bad_scenario_names_the_field(
    tmp_path: Path, changes: dict[str, object], field: str, says: str
) -> None:
    path = write(tmp_path, minimal(**changes))
    with pytest.raises(ScenarioError) as caught:
        load(path)
    message = str(caught.value)
    assert str(path) in message
    line = next((ln for ln in message.splitlines() if ln.strip().startswith(f"{field}:")), None)
    assert line is not None, message
    assert says in line, message


def test_the_name_must_match_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, minimal(name="other"))
    with pytest.raises(ScenarioError, match="must match the file name"):
        load(path)


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(ScenarioError, match="expected a mapping"):
        load(path)


# -- expectations and scaling ----------------------------------------------------------------


def test_expectations_read_as_text_or_as_fields() -> None:
    written = Expectation.model_validate("lookup_p95_ms <= 900")
    spelled = Expectation.model_validate({"metric": "lookup_p95_ms", "op": "<=", "value": 900})
    assert written == spelled
    assert written.holds(900) and not written.holds(900.1)
    assert not written.holds(None), "a metric that was never measured cannot pass"
    assert str(written) == "lookup_p95_ms <= 900"


def test_scaling_shortens_moments_and_windows_but_not_latencies() -> None:
    scenario = Scenario.model_validate(
        minimal(
            duration="3m",
            timeline=[
                {"at": "0:30", "system": "payments", "action": "outage", "seconds": "2m"},
                {
                    "at": "0:10",
                    "system": "crm",
                    "action": "faults",
                    "profile": {
                        "latency": {"kind": "fixed", "ms": 2000},
                        "outages": [{"start_s": 20, "duration_s": 40}],
                    },
                },
                {"at": "0:40", "system": "crm", "action": "credentials_expire", "ttl": "20s"},
            ],
        )
    )
    fast = scenario.scaled(10)
    outage, brownout, expiry = fast.timeline
    assert (fast.duration, fast.speed) == (18, 10)
    assert (outage.at, outage.seconds, outage.ends_at) == (3, 12, 15)
    assert brownout.profile is not None and brownout.profile.latency is not None
    assert brownout.profile.latency.ms == 2000
    assert brownout.profile.outages[0].start_s == 2
    assert brownout.profile.outages[0].duration_s == 4
    assert expiry.ttl == 2
    with pytest.raises(ValueError, match="speed must be above 0"):
        scenario.scaled(0)


# -- rates and durations ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "per_s"),
    [
        ("5/s", 5),
        ("300/min", 5),
        ("2", 2),
        ("0.5/s", 0.5),
        ("3600/h", 1),
        ("10/seconds", 10),
        (" 120 / min ", 2),
        (7, 7),
    ],
)
def test_rates(text: str, per_s: float) -> None:
    assert parse_rate(text) == pytest.approx(per_s)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("5/x", "must be s, min or h"),
        ("fast", "expected a number"),
        ("0/s", "above 0"),
        ("5000/s", "at most 1000/s"),
        ("-1/s", "expected a number"),
    ],
)
def test_bad_rates_say_what_is_expected(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_rate(text)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("60s", 60),
        ("2m", 120),
        ("1m30s", 90),
        ("500ms", 0.5),
        ("0:30", 30),
        ("1:02:03", 3723),
        ("90", 90),
        ("1h", 3600),
        (45, 45),
        ("2min", 120),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["2x", "1:2:3:4", "s", "m30", "1m 30x", "-5"])
def test_bad_durations_say_what_is_expected(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration .*(expected|clock time)"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--rate", "5/x"], "Invalid value for --rate: rate '5/x'"),
        (["--duration", "soon"], "Invalid value for --duration: duration 'soon'"),
        (["--duration", "0s"], "Invalid value for --duration: must be above 0"),
        (["--mix", "teleport=1"], "unknown journeys ['teleport']"),
    ],
)
def test_simulate_refuses_bad_flags_before_calling_anyone(flags: list[str], says: str) -> None:
    result = CliRunner().invoke(cli, ["simulate", *flags])
    assert result.exit_code == 2
    assert says in " ".join(result.output.replace("│", " ").split())


def test_scenario_list_shows_every_scenario_with_its_description() -> None:
    result = CliRunner().invoke(cli, ["scenario", "list"])
    assert result.exit_code == 0
    for scenario in load_catalog():
        line = next(ln for ln in result.output.splitlines() if ln.startswith(scenario.name + " "))
        assert scenario.description[:40] in line


def test_durations_print_the_way_they_are_written() -> None:
    assert [format_duration(s) for s in (45, 90, 120, 2.5)] == ["45s", "1m30s", "2m", "2.5s"]
