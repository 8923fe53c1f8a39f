"""A request no route of a system serves (a path it does not have, one holding a newline or
control characters, a method its path does not take) gets a 404 or 405 in that system's
own error shape and media type, as its OpenAPI document says: never the framework's
``{"detail": "Not Found"}``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from lxml import etree

from mocks.registry import SYSTEMS, MockEnterprise
from tests.live.test_mock_no_server_errors import credentials, filled
from tests.live.test_mock_openapi import ERROR_SCHEMAS

# Decoded, %0A is a newline: Starlette's {path:path} (".*", no DOTALL) never matched it.
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
STRAY_PATHS = ("/no-such-resource", "/no%0Asuch", "/v1/A%0A%C2%86%16/b%0D%09", "/nothing/")
OTHER_METHODS = ("DELETE", "PUT", "PATCH", "POST", "GET")


class System:
    def __init__(self, name: str, client: httpx.Client, headers: dict[str, str]) -> None:
        self.name = name
        self.client = client
        self.headers = headers
        self.document: dict[str, Any] = client.get(f"/{name}/openapi.json").json()
        shape = {"$ref": f"#/components/schemas/{ERROR_SCHEMAS[name]}"}
        self.validator = Draft202012Validator({**shape, "components": self.document["components"]})
        self.media_type = self._error_media_type()

    def _error_media_type(self) -> str:
        for operations in self.document["paths"].values():
            for operation in operations.values():
                return str(next(iter(operation["responses"]["4XX"]["content"])))
        raise AssertionError(f"{self.name} documents no operation")

    def ask(self, method: str, path: str) -> httpx.Response:
        return self.client.request(method, f"/{self.name}{path}", headers=self.headers)

    def assert_vendor_error(self, response: httpx.Response, *statuses: int) -> None:
        where = f"{self.name}: {response.request.method} {response.request.url.raw_path!r}"
        assert response.status_code in statuses, f"{where} -> {response.status_code}"
        assert response.headers["content-type"] == self.media_type, where
        if "xml" in self.media_type:  # a SOAP system: a SOAP 1.1 envelope holding a Fault
            root = etree.fromstring(response.content, etree.XMLParser(resolve_entities=False))
            fault = root.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
            assert fault is not None, f"{where}: {response.text[:200]} is not a SOAP fault"
            return
        errors = [error.message for error in self.validator.iter_errors(response.json())]
        assert not errors, f"{where}: {response.text[:200]} is not the documented shape: {errors}"


@pytest.fixture(params=sorted(SYSTEMS))
def system(
    request: pytest.FixtureRequest,
    client: httpx.Client,
    sf: httpx.Client,
    enterprise: MockEnterprise,
) -> System:
    name = request.param
    if name not in enterprise.services:
        pytest.skip(f"{name} is not served (SWITCHBOARD_TEST_SYSTEMS)")
    sf_token = str(sf.headers["Authorization"]).split()[1]
    return System(name, client, credentials(name, sf_token))


def test_a_path_no_route_serves_is_the_vendors_404(system: System) -> None:
    for path in STRAY_PATHS:
        for method in ("GET", "POST", "OPTIONS"):
            system.assert_vendor_error(system.ask(method, path), 404)


def test_a_method_the_path_does_not_take_is_the_vendors_405_or_404(system: System) -> None:
    tried = 0
    for path, operations in system.document["paths"].items():
        if "{" in path.replace("{account_sid}", ""):  # another method may be another route's
            continue
        documented = {method.upper() for method in operations}
        for method in OTHER_METHODS:
            if method in documented:
                continue
            response = system.ask(method, filled(path))
            # Stripe, Salesforce and Twilio's call history answer any method they have no
            # route for with their 404; the rest say 405 and which methods the path takes.
            system.assert_vendor_error(response, 404, 405)
            if response.status_code == 405:
                allowed = {part.strip() for part in response.headers["allow"].split(",")}
                assert allowed >= documented, f"{system.name} {path}: Allow {allowed}"
            tried += 1
    assert tried, f"{system.name}: every documented path takes every method"
