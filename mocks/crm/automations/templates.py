"""Placeholders in rule text: ``{record.FirstName}``, ``{owner.email}``, ``{run.id}``, ``{today}``.

Rules are checked when they load (every placeholder must name something that will exist),
so rendering at run time only fails for a missing owner: a step that needs the owner of an
``assign_owner`` step that failed is skipped rather than sent with a blank address.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from mocks.crm.schema import SOBJECTS

__all__ = [
    "OWNER_FIELDS",
    "ROOTS",
    "MissingOwner",
    "no_field",
    "placeholder_problem",
    "placeholders",
    "render",
]

_PLACEHOLDER = re.compile(r"\{([a-z_]+)(?:\.([A-Za-z0-9_]+))?\}")
OWNER_FIELDS = ("id", "name", "email")
# root -> whether it takes a ".name" part
ROOTS = {"record": True, "owner": True, "run": True, "rule": True, "today": False}


class MissingOwner(Exception):
    """The text names ``{owner.*}`` but no owner was assigned in this run."""


def placeholders(text: str) -> Iterator[tuple[str, str | None]]:
    """(root, attribute) for each placeholder, e.g. ("record", "Phone")."""
    for match in _PLACEHOLDER.finditer(text):
        yield match.group(1), match.group(2)


def render(text: str, values: Mapping[str, Any]) -> str:
    """Fill placeholders from ``values`` (root -> dict, or a plain value for ``today``)."""

    def fill(match: re.Match[str]) -> str:
        root, attribute = match.group(1), match.group(2)
        value = values.get(root)
        if root == "owner" and value is None:
            raise MissingOwner(match.group(0))
        if attribute is not None and isinstance(value, Mapping):
            value = value.get(attribute)
        return "" if value is None else str(value)

    return _PLACEHOLDER.sub(fill, text)


def placeholder_problem(text: str, sobject: str, has_owner: bool) -> str | None:
    """What is wrong with the placeholders of one rule text, or None (checked at load)."""
    for root, attribute in placeholders(text):
        if root not in ROOTS:
            return f"unknown placeholder; the known ones start with {', '.join(ROOTS)}"
        if ROOTS[root] != (attribute is not None):
            return (
                f"placeholder {{{root}}} "
                + ("needs" if ROOTS[root] else "takes no")
                + " '.name' part"
            )
        if root == "record" and attribute not in SOBJECTS[sobject].field_names:
            return no_field(sobject, attribute or "")
        if root == "owner" and (attribute not in OWNER_FIELDS or not has_owner):
            return (
                "an {owner.*} placeholder needs an earlier assign_owner step and one of "
                f"{', '.join(OWNER_FIELDS)}"
            )
        if root in ("run", "rule") and (root, attribute) not in (("run", "id"), ("rule", "name")):
            return f"unknown {{{root}.*}} placeholder; use {{run.id}} or {{rule.name}}"
    return None


def no_field(sobject: str, name: str) -> str:
    """Says that ``sobject`` has no field ``name`` without repeating the name (it is what the
    rule's author wrote), offering the field's own spelling when only the case differs."""
    spelled = next((f for f in SOBJECTS[sobject].field_names if f.lower() == name.lower()), None)
    hint = f" (did you mean '{spelled}'?)" if spelled else ""
    return f"{sobject} has no field by that name{hint}"
