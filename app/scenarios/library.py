"""Reading scenario files: one YAML file per scenario in ``catalog/``, named like the
scenario; the catalog as a table."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from app.scenarios.model import Scenario
from app.simulator.units import format_duration

__all__ = [
    "CATALOG_DIR",
    "ScenarioError",
    "catalog_table",
    "find_scenario",
    "load_catalog",
    "load_scenario",
]

CATALOG_DIR = Path(__file__).resolve().parent / "catalog"


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and the field."""


def _problems(error: ValidationError) -> str:
    lines = []
    for item in error.errors(include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"  {where}: {item['msg']}")
    return "\n".join(lines)


def load_scenario(path: Path) -> Scenario:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"cannot read scenario {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: expected a mapping with name, description, duration...")
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(f"invalid scenario {path}:\n{_problems(exc)}") from exc
    if scenario.name != path.stem:
        raise ScenarioError(f"{path}: name {scenario.name!r} must match the file name")
    return scenario


def load_catalog(directory: Path = CATALOG_DIR) -> list[Scenario]:
    """Every scenario in ``directory``, by name; the first bad file raises ScenarioError."""
    return [load_scenario(path) for path in sorted(directory.glob("*.yaml"))]


def find_scenario(name: str, directory: Path = CATALOG_DIR) -> Scenario:
    """A scenario by name, or a file path to one outside the catalog."""
    as_path = Path(name)
    if as_path.suffix in (".yaml", ".yml") and as_path.is_file():
        return load_scenario(as_path)
    path = directory / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(p.stem for p in sorted(directory.glob("*.yaml")))
        raise ScenarioError(f"no scenario {name!r}; known: {known}")
    return load_scenario(path)


def catalog_table(*, verbose: bool = False) -> str:
    """One line per scenario of the catalog: name, length, description; ``verbose`` adds
    each timeline event and expectation."""
    scenarios = load_catalog()
    width = max(len(s.name) for s in scenarios)
    lines = []
    for scenario in scenarios:
        length = format_duration(scenario.duration)
        lines.append(f"{scenario.name:<{width}}  {length:>6}  {scenario.description}")
        if verbose:
            for event in scenario.timeline:
                what = f": {event.note}" if event.note else ""
                lines.append(
                    f"{'':<{width}}  {format_duration(event.at):>6}  "
                    f"{event.system} {event.action}{what}"
                )
            for expectation in scenario.expectations:
                lines.append(f"{'':<{width}}  {'':>6}  expect {expectation}")
    return "\n".join(lines)
