"""Vapi's server messages for tools, read and answered (our own code, from Vapi's documented
shapes).

Vapi posts ``{"message": {"type": "tool-calls", "call": {"id", "customer": {"number"}},
"toolCallList": [{"id", "type": "function", "function": {"name", "arguments"}}]}}`` to a
tool's server URL and expects ``{"results": [{"toolCallId", "result"}]}`` back, one entry
per tool call, ``result`` a single-line string the model reads. ``arguments`` may be an
object or a JSON string; older messages put ``name`` and ``arguments`` on the tool call
itself, and both forms are read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["VapiToolCall", "VapiToolCalls", "answer", "parse_tool_calls"]


@dataclass(frozen=True)
class VapiToolCall:
    id: str
    name: str
    arguments: dict[str, Any]
    problem: str | None = None  # the arguments could not be read


@dataclass(frozen=True)
class VapiToolCalls:
    call_id: str | None
    phone: str | None  # the caller's number, when Vapi sent it
    calls: list[VapiToolCall]


def parse_tool_calls(body: Any) -> VapiToolCalls | None:
    """The tool calls in a server message; None for any other message type."""
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, dict) or message.get("type") != "tool-calls":
        return None
    call = _object(message.get("call"))
    customer = _object(call.get("customer")) or _object(message.get("customer"))
    number = customer.get("number")
    listed = message.get("toolCallList")
    calls = (
        [_tool_call(item) for item in listed if isinstance(item, dict)]
        if isinstance(listed, list)
        else []
    )
    call_id = call.get("id")
    return VapiToolCalls(
        call_id=str(call_id) if call_id else None,
        phone=str(number) if number else None,
        calls=calls,
    )


def answer(results: list[tuple[str, str]]) -> dict[str, Any]:
    """``{"results": [{"toolCallId", "result"}]}`` with each result on one line."""
    return {
        "results": [
            {"toolCallId": tool_call_id, "result": " ".join(text.split())}
            for tool_call_id, text in results
        ]
    }


def _tool_call(item: dict[str, Any]) -> VapiToolCall:
    function = _object(item.get("function"))
    name = function.get("name") or item.get("name") or ""
    raw = function.get("arguments", item.get("arguments", function.get("parameters")))
    arguments: Any = raw if raw is not None else {}
    problem = None
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            arguments, problem = {}, "the arguments are not valid JSON"
    if not isinstance(arguments, dict):
        arguments, problem = {}, "the arguments are not an object"
    return VapiToolCall(
        id=str(item.get("id") or ""), name=str(name), arguments=arguments, problem=problem
    )


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
