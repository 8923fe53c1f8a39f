"""A copy of the system map with some policies changed, for a notebook's own stack.

A lesson often needs a policy the shipped map would make slow to watch (an outbox that
gives up after seconds rather than minutes, a quota small enough to reach on a laptop).
The copy goes in the notebook's state folder; the shipped map is never touched.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from integration.policies.models import DEFAULT_POLICY_FILE, deep_merge
from integration.systemmap.model import load_system_map

__all__ = ["write_map_copy"]


def write_map_copy(
    folder: Path,
    *,
    policy: Mapping[str, Mapping[str, Any]] | None = None,
    outbox: Mapping[str, Any] | None = None,
    source: Path = DEFAULT_POLICY_FILE,
) -> Path:
    """``policy`` maps a system to the policy fields that differ (merged over its own);
    ``outbox`` the dispatcher's. The copy is validated before it is handed back."""
    raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    for system, fields in (policy or {}).items():
        if system not in raw["systems"]:
            raise KeyError(f"no system {system!r} in {source}")
        entry = raw["systems"][system]
        entry["policy"] = deep_merge(entry.get("policy") or {}, fields)
    if outbox:
        raw["outbox"] = deep_merge(raw.get("outbox") or {}, outbox)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "system_map.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    load_system_map(path)  # a wrong override is refused here, naming the field
    return path
