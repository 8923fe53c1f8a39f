"""Contract tests drive the mocks with vendors' own SDKs, against the same session server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import reset_mocks

LedgerReader = Callable[[str], dict[str, Any]]


@pytest.fixture(autouse=True)
def clean_mocks(mocks_url: str) -> Iterator[None]:
    reset_mocks(mocks_url)
    yield


@pytest.fixture
def ledger(control: httpx.Client) -> LedgerReader:
    """``ledger("crm")``: the system's ledger, once checked that no key applied twice."""

    def read(system: str) -> dict[str, Any]:
        response = control.get(f"/_mock/{system}/ledger")
        response.raise_for_status()
        book: dict[str, Any] = response.json()
        assert book["duplicate_keys"] == [], f"{system} applied a key twice: {book}"
        return book

    return read
