"""Reading single Stripe parameters from a parsed form: integers, booleans, enums, metadata.

Each reader raises the ``StripeError`` Stripe would, with ``param`` naming the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mocks.payments import errors
from mocks.payments._forms import shown_name

__all__ = [
    "MetadataPatch",
    "read_bool",
    "read_choice",
    "read_int",
    "read_metadata",
    "read_text",
    "reject_unknown",
]

_INTEGER = re.compile(r"-?[0-9]+")
_MAX_METADATA_KEYS = 50
_MAX_KEY_CHARS = 40
_MAX_VALUE_CHARS = 500


@dataclass(frozen=True, slots=True)
class MetadataPatch:
    """Stripe's update semantics: keys merge, ``""`` unsets a key, ``metadata=""`` clears all."""

    clear: bool = False
    values: dict[str, str] = field(default_factory=dict)

    def applied_to(self, current: dict[str, str]) -> dict[str, str]:
        merged = {} if self.clear else dict(current)
        for key, value in self.values.items():
            if value == "":
                merged.pop(key, None)
            else:
                merged[key] = value
        return merged


def reject_unknown(params: dict[str, Any], known: frozenset[str], prefix: str = "") -> None:
    for name in params:
        if name not in known:
            raise errors.unknown_parameter(
                shown_name(f"{prefix}[{name}]" if prefix else name), within=prefix
            )


def read_text(params: dict[str, Any], name: str, param: str | None = None) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        label = param or name
        raise errors.invalid_value(label, f"Invalid string: {label} must be a value, not a hash")
    return value


def read_int(
    params: dict[str, Any],
    name: str,
    *,
    param: str | None = None,
    minimum: int | None = None,
    required: bool = False,
) -> int | None:
    label = param or name
    raw = read_text(params, name, label)
    if raw is None:
        if required:
            raise errors.missing(label)
        return None
    if raw == "":
        raise errors.invalid_empty(label)
    if not _INTEGER.fullmatch(raw.strip()):
        raise errors.invalid_integer(label)
    if len(raw.strip().lstrip("-").lstrip("0")) > 18:  # past int64, where Stripe stops too
        raise errors.invalid_value(
            label, f"Invalid integer: {label} is out of range", code="parameter_invalid_integer"
        )
    value = int(raw)
    if minimum is not None and value < minimum:
        raise errors.invalid_value(
            label,
            f"This value must be greater than or equal to {minimum}.",
            code="parameter_invalid_integer",
        )
    return value


def read_bool(params: dict[str, Any], name: str) -> bool | None:
    raw = read_text(params, name)
    if raw is None:
        return None
    if raw not in ("true", "false"):
        raise errors.invalid_value(name, f"Invalid boolean: {name} must be true or false")
    return raw == "true"


def read_choice(params: dict[str, Any], name: str, choices: tuple[str, ...]) -> str | None:
    raw = read_text(params, name)
    if raw is None:
        return None
    if raw not in choices:
        listed = ", ".join(choices[:-1]) + f", or {choices[-1]}" if len(choices) > 1 else choices[0]
        raise errors.invalid_value(name, f"Invalid {name}: must be one of {listed}")
    return raw


def read_metadata(params: dict[str, Any], name: str = "metadata") -> MetadataPatch | None:
    value = params.get(name)
    if value is None:
        return None
    if value == "":
        return MetadataPatch(clear=True)
    if not isinstance(value, dict):
        raise errors.invalid_value(name, f"Invalid object: {name} must be a hash of strings")
    if len(value) > _MAX_METADATA_KEYS:
        raise errors.invalid_value(
            name, f"Invalid {name}: metadata can have at most {_MAX_METADATA_KEYS} keys"
        )
    for key, item in value.items():
        param = shown_name(f"{name}[{key}]") or name
        if not isinstance(item, str):
            raise errors.invalid_value(param, f"Invalid string: {param} must be a value")
        if len(key) > _MAX_KEY_CHARS:
            raise errors.invalid_value(
                param, f"Metadata keys can be at most {_MAX_KEY_CHARS} characters long"
            )
        if len(item) > _MAX_VALUE_CHARS:
            raise errors.invalid_value(
                param, f"Metadata values can be at most {_MAX_VALUE_CHARS} characters long"
            )
    return MetadataPatch(values=dict(value))
