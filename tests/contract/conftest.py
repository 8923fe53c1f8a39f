"""Contract tests drive the mocks with vendors' own SDKs, against the same session server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import reset_mocks


@pytest.fixture(autouse=True)
def clean_mocks(mocks_url: str) -> Iterator[None]:
    reset_mocks(mocks_url)
    yield
