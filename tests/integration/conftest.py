"""Integration tests run against the real mock enterprise on loopback, from a clean slate."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import reset_mocks


@pytest.fixture(autouse=True)
def clean_mocks(mocks_url: str) -> Iterator[None]:
    reset_mocks(mocks_url)
    yield
