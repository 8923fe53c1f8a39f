"""Automation rules as people write them (YAML, or JSON over the control plane), checked by
pydantic so that a mistake is reported with the rule's name and the field's path.

    rules:
      - name: lead-qualified            # letters, digits, - and _ (it travels in a header)
        on_error: continue              # or stop: skip the steps after a failed one
        trigger: {object: Lead, event: updated, when: [{field: Status, becomes: Qualified}]}
        steps:
          - {kind: assign_owner, reps: [{id: 005..., name: ..., email: ...}]}
          - {kind: create_task, subject: "Follow up with {record.Name}", due_in_days: 2}
          - {kind: send_email, to: "{owner.email}", subject: ..., text: ...}
          - {kind: slack_post, channel: "#sales-alerts", text: ...}
          - {kind: track_event, event: Lead Qualified, properties: {company: "{record.Company}"}}
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mocks.crm.automations.templates import no_field, placeholder_problem
from mocks.crm.schema import SOBJECTS
from mocks.platform.field_errors import names_in_schema, safe_errors

__all__ = [
    "AssignOwner",
    "Condition",
    "CreateTask",
    "Rule",
    "RuleSet",
    "RulesFileError",
    "SalesRep",
    "SendEmail",
    "SlackPost",
    "Step",
    "TrackEvent",
    "Trigger",
    "load_rules_file",
    "validation_problems",
]

_TESTS = ("becomes", "changed", "starts_with", "any_changed")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    """One test on the change; a trigger's conditions must all hold."""

    field: str | None = None
    becomes: str | int | float | bool | None = None  # the field now has this value, newly
    changed: Literal[True] | None = None  # the field's value differs from before
    starts_with: str | None = None  # the field's text starts so (a state, not a change)
    any_changed: tuple[str, ...] | None = None  # at least one of these fields changed

    @model_validator(mode="after")
    def _exactly_one_test(self) -> Condition:
        given = [name for name in _TESTS if name in self.model_fields_set]
        if len(given) != 1:
            raise ValueError(f"a condition needs exactly one of {', '.join(_TESTS)}")
        if given[0] == "any_changed":
            if self.field is not None or not self.any_changed:
                raise ValueError("any_changed takes a non-empty list of fields and no 'field'")
        elif self.field is None:
            raise ValueError(f"'{given[0]}' needs the 'field' it tests")
        return self

    @property
    def fields(self) -> tuple[str, ...]:
        if self.any_changed:
            return self.any_changed
        return (self.field,) if self.field else ()

    def holds(self, before: dict[str, Any] | None, after: dict[str, Any]) -> bool:
        def changed(name: str) -> bool:
            if before is None:  # on create, a field "changes" when it is given a value
                return after.get(name) is not None
            return before.get(name) != after.get(name)

        if self.any_changed:
            return any(changed(name) for name in self.any_changed)
        name = self.field or ""
        if "becomes" in self.model_fields_set:
            return after.get(name) == self.becomes and changed(name)
        if self.starts_with is not None:
            value = after.get(name)
            return isinstance(value, str) and value.startswith(self.starts_with)
        return changed(name)


class Trigger(_Strict):
    object: Literal["Contact", "Lead", "Account", "Task", "Opportunity"]
    event: Literal["created", "updated"]
    when: tuple[Condition, ...] = ()


class SalesRep(_Strict):
    id: str = Field(pattern=r"^005[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$", description="a User id")
    name: str = Field(min_length=1)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AssignOwner(_Strict):
    """Set the record's OwnerId to the next rep, round-robin; later steps see ``{owner.*}``."""

    kind: Literal["assign_owner"]
    reps: list[SalesRep] = Field(min_length=1)


class CreateTask(_Strict):
    """A Task on the record, owned by the assigned owner (else the record's owner)."""

    kind: Literal["create_task"]
    subject: str = Field(min_length=1)
    due_in_days: int = Field(0, ge=0, le=365)
    priority: Literal["High", "Normal", "Low"] = "Normal"
    description: str | None = None


class SendEmail(_Strict):
    """A mail through the email mock (SendGrid v3 Mail Send)."""

    kind: Literal["send_email"]
    to: str = Field(min_length=1)
    subject: str = Field(min_length=1)
    text: str = Field(min_length=1)
    sender: str = "automations@switchboard.test"


class SlackPost(_Strict):
    """A message through the Slack mock (chat.postMessage with the bot token)."""

    kind: Literal["slack_post"]
    channel: str = Field(min_length=1)
    text: str = Field(min_length=1)


class TrackEvent(_Strict):
    """A Segment ``track`` call through the analytics mock."""

    kind: Literal["track_event"]
    event: str = Field(min_length=1)
    user_id: str = "{record.Id}"
    properties: dict[str, str] = Field(default_factory=dict)


Step = Annotated[
    AssignOwner | CreateTask | SendEmail | SlackPost | TrackEvent, Field(discriminator="kind")
]


class Rule(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    description: str = ""
    enabled: bool = True
    on_error: Literal["continue", "stop"] = "continue"
    trigger: Trigger
    steps: list[Step] = Field(min_length=1)

    @model_validator(mode="after")
    def _names_what_exists(self) -> Rule:
        sobject = SOBJECTS[self.trigger.object]
        for n, condition in enumerate(self.trigger.when):
            for name in condition.fields:
                if name not in sobject.field_names:
                    raise ValueError(f"trigger.when[{n}]: {no_field(sobject.name, name)}")
        has_owner = False
        for n, step in enumerate(self.steps):
            for key, text in _texts(step):
                problem = placeholder_problem(text, sobject.name, has_owner)
                if problem:
                    raise ValueError(f"steps[{n}].{key}: {problem}")
            has_owner = has_owner or isinstance(step, AssignOwner)
        return self


class RuleSet(_Strict):
    rules: tuple[Rule, ...] = ()

    @model_validator(mode="after")
    def _unique_names(self) -> RuleSet:
        first: dict[str, int] = {}
        for index, rule in enumerate(self.rules):
            if rule.name in first:
                raise ValueError(
                    f"rule names must be unique: rules[{index}] repeats the name of "
                    f"rules[{first[rule.name]}]"
                )
            first[rule.name] = index
        return self


class RulesFileError(ValueError):
    """A rules file that does not parse or validate; the message names rule and field."""


def load_rules_file(path: Path) -> RuleSet:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RulesFileError(f"{path}: cannot read rules: {error}") from None
    try:
        return RuleSet.model_validate(data if data is not None else {})
    except ValidationError as error:
        lines = [
            f"{'.'.join(map(str, p['loc']))}: {p['msg']}" for p in validation_problems(error, data)
        ]
        raise RulesFileError(f"{path}: invalid rules:\n  " + "\n  ".join(lines)) from None


def validation_problems(
    error: ValidationError, data: Any, *, answered: bool = False
) -> list[dict[str, Any]]:
    """pydantic's errors with the rule put in front of each message: by its name for a rules
    file (its author reads it), by its place for an ``answered`` request, whose errors are
    made safe (``mocks.platform.field_errors``: nothing that was sent is repeated)."""
    items: list[Mapping[str, Any]] = list(error.errors(include_url=False))
    problems = []
    for item in safe_errors(items, _rule_names()) if answered else items:
        loc = list(item["loc"])
        message = item["msg"]
        if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
            rule = f"rules[{loc[1]}]" if answered else _rule_name(data, loc[1])
            message = f"rule {rule}: {message}"
        problems.append({"type": item["type"], "loc": loc, "msg": message})
    return problems


@functools.cache
def _rule_names() -> frozenset[str]:
    return names_in_schema(RuleSet.model_json_schema())


def _rule_name(data: Any, index: int) -> str:
    try:
        name = data["rules"][index]["name"]
    except (KeyError, IndexError, TypeError):
        name = None
    return repr(name) if isinstance(name, str) else f"#{index}"


def _texts(step: BaseModel) -> list[tuple[str, str]]:
    """Every text of a step that may hold placeholders, with its field name."""
    found = []
    for key, value in step:
        if isinstance(value, str) and key != "kind":
            found.append((key, value))
        elif isinstance(value, dict):
            found += [(f"{key}.{k}", v) for k, v in value.items()]
    return found
