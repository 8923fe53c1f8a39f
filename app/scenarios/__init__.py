"""Scenarios: a timeline of faults across the mock enterprise, simulated traffic through
it, and a scorecard judged against the scenario's expectations.
``python -m app scenario list | run NAME``."""

from app.scenarios.library import CATALOG_DIR, ScenarioError, find_scenario, load_catalog
from app.scenarios.model import ACTIONS, METRICS, Expectation, Scenario, TimelineEvent, Traffic
from app.scenarios.runner import RunOptions, ScenarioRun, ScenarioSetupError, run_scenario
from app.scenarios.scorecard import build_scorecard, render_scorecard

__all__ = [
    "ACTIONS",
    "CATALOG_DIR",
    "METRICS",
    "Expectation",
    "RunOptions",
    "Scenario",
    "ScenarioError",
    "ScenarioRun",
    "ScenarioSetupError",
    "TimelineEvent",
    "Traffic",
    "build_scorecard",
    "find_scenario",
    "load_catalog",
    "render_scorecard",
    "run_scenario",
]
