"""The layer's default vendor credentials are the ones the mocks accept.

``integration`` must not import ``mocks`` (nor the other way round), so the two sides of
the wire each declare the fake credentials; this keeps them from drifting apart.
"""

from __future__ import annotations

import pytest

from integration.settings import VendorCredentials
from mocks.settings import MockCredentials


def test_both_sides_name_the_same_credentials() -> None:
    assert set(VendorCredentials.model_fields) == set(MockCredentials.model_fields)


@pytest.mark.parametrize("field", sorted(MockCredentials.model_fields))
def test_each_default_agrees(field: str) -> None:
    presented = VendorCredentials.model_fields[field].default
    accepted = MockCredentials.model_fields[field].default
    assert isinstance(accepted, str) and accepted
    assert presented == accepted


def test_both_read_the_same_environment_variables() -> None:
    prefix = MockCredentials.model_config.get("env_prefix")
    assert prefix and VendorCredentials.model_config.get("env_prefix") == prefix
