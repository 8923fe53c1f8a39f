"""Helpers for the systems in the generic enterprise REST style (ERP, loans): their
problem+json errors and their ledgers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

__all__ = ["PROBLEM_FIELDS", "assert_problem", "ledger_of"]

PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance", "errors"}


def assert_problem(response: httpx.Response, status: int, *fields: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body.keys() >= PROBLEM_FIELDS
    assert body["status"] == status and body["type"].startswith("https://")
    named = {error["field"] for error in body["errors"]}
    assert set(fields) <= named, body
    return body


def ledger_of(system: str) -> Callable[[httpx.Client, str], dict[str, Any]]:
    """``ledger(control, operation)`` for one system: its applied effects of that operation."""

    def ledger(control: httpx.Client, operation: str) -> dict[str, Any]:
        response = control.get(f"/_mock/{system}/ledger", params={"operation": operation})
        assert response.status_code == 200
        return response.json()

    return ledger
