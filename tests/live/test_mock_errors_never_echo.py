"""No client error a mock answers repeats what the client sent: it names the field at fault
and says why, in the vendor's tone (DESIGN rule 6).

Every operation of every system's OpenAPI document (``/<system>/openapi.json``) and of the
control planes (``/openapi.json``: ``/_chaos``, ``/_mock``) is sent requests that must fail:
path values no record has, query values no parameter takes (the documented ones and those
vendors read by hand), bodies with one field at a time made wrong (from the documented
request body, starting from a valid body where the test knows one), whole bodies of wrong
values, bodies that do not parse, paths no route serves, wrong credentials, reused
Idempotency-Keys and stale If-Match headers. Each request's values carry a marker of its own
(``zq7echo`` and a serial), and no 4xx answer may hold the marker of the request it answers.

A marker of an earlier request may show up: a write that was accepted stored it, and some
vendors put the stored resource in an error (Stripe's card errors carry the PaymentIntent).
That is the resource, not an echo, so only the request's own marker counts.
"""

from __future__ import annotations

import base64
import copy
import itertools
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest

from mocks.registry import MockEnterprise
from mocks.sheets.seed import CALLER_LISTS_ID as SHEETS_ID
from tests.conftest import CONTROL_HEADERS
from tests.live.test_mock_no_server_errors import credentials

MARKER = "zq7echo"
# Vendors' query parameters their documents describe only in prose, read on GETs.
QUERY_NAMES = (
    "limit",
    "cursor",
    "starting_after",
    "ending_before",
    "customer",
    "created",
    "created[gt]",
    "expand[]",
    "client_secret",
    "fields",
    "q",
    "To",
    "From",
    "Status",
    "PageSize",
    "Page",
    "PageToken",
    "StartTime",
    "StartTime>",
    "EndTime<",
    "DateSent",
    "DateSent<",
    "ParentCallSid",
    "timeMin",
    "timeMax",
    "maxResults",
    "pageToken",
    "orderBy",
    "singleEvents",
    "showDeleted",
    "channel",
    "types",
    "exclude_archived",
    "token",
)
WITH_BODY = ("POST", "PUT", "PATCH")
# How a marker is sent: alone, and as a value that is wrong in more ways (a digit first, a
# space, a newline), which no number, date, id, phone number or name parser takes.
SHAPES = ("{m}", "9 {m}\n")
Path = tuple[str | int, ...]


class Markers:
    """A fresh marker per request (``zq7echo00042``), so an answer is checked against what
    its own request sent."""

    def __init__(self) -> None:
        self._serial = itertools.count(1)

    def next(self) -> str:
        return f"{MARKER}{next(self._serial):05d}"


class Echoes:
    """Sends requests and keeps every 4xx answer that repeats its request's marker."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.markers = Markers()
        self.found: list[str] = []
        self.refused: Counter[str] = Counter()

    def send(self, where: str, marker: str, method: str, url: str, **options: Any) -> None:
        response = self.http.request(method, url, **options)
        self.refused["sent"] += 1
        if not 400 <= response.status_code < 500:
            return
        self.refused[where] += 1
        text = response.text
        at = text.lower().find(marker.lower())
        if at >= 0:
            shown = text[max(0, at - 60) : at + 40]
            self.found.append(f"{method} {url[:90]} -> {response.status_code}: ...{shown}...")


class Api:
    """One OpenAPI document and what a request to it needs: the prefix, credentials, and
    values known to be good (so that one wrong value at a time gets past the others)."""

    def __init__(
        self,
        name: str,
        prefix: str,
        document: dict[str, Any],
        headers: dict[str, str],
        good_path: dict[str, str],
        good_bodies: dict[tuple[str, str], dict[str, Any]],
        by_hand: tuple[str, ...] = QUERY_NAMES,
    ) -> None:
        self.name = name
        self.prefix = prefix
        self.document = document
        self.headers = headers
        self.good_path = good_path
        self.good_bodies = good_bodies
        self.by_hand = by_hand

    def operations(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for path, operations in self.document["paths"].items():
            for method, operation in operations.items():
                yield method.upper(), path, operation

    def url(self, path: str, **values: str) -> str:
        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            return values.get(name) or quote(self.good_path.get(name, "X1"), safe="")

        return self.prefix + re.sub(r"\{([^}]+)\}", fill, path)

    def resolve(self, schema: Any) -> dict[str, Any]:
        """A schema with its ``$ref`` followed and its first non-null alternative taken."""
        while isinstance(schema, dict):
            if "$ref" in schema:
                node: Any = self.document
                for part in schema["$ref"][2:].split("/"):
                    node = node[part]
                schema = node
                continue
            options = schema.get("anyOf") or schema.get("oneOf")
            if options:
                schema = next((o for o in options if o.get("type") != "null"), options[0])
                continue
            return schema
        return {}


def places(api: Api, schema: Any, prefix: Path = (), depth: int = 0) -> Iterator[Path]:
    """Every field of a documented body, containers included, down a few levels."""
    node = api.resolve(schema)
    if depth > 4:
        return
    for name, sub in (node.get("properties") or {}).items():
        yield (*prefix, name)
        yield from places(api, sub, (*prefix, name), depth + 1)
    if node.get("type") == "array" and "items" in node:
        yield from places(api, node["items"], (*prefix, 0), depth + 1)


def leaves(body: Any, prefix: Path = ()) -> Iterator[Path]:
    if isinstance(body, dict):
        for key, value in body.items():
            yield (*prefix, key)
            yield from leaves(value, (*prefix, key))
    elif isinstance(body, list):
        for index, value in enumerate(body):
            yield (*prefix, index)
            yield from leaves(value, (*prefix, index))


def with_value(body: dict[str, Any], place: Path, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    node: Any = changed
    for here, after in itertools.pairwise(place):
        if isinstance(node, list):
            while len(node) <= int(here):
                node.append({} if isinstance(after, str) else [])
            if not isinstance(node[int(here)], dict | list):
                node[int(here)] = {} if isinstance(after, str) else []
            node = node[int(here)]
        else:
            if not isinstance(node.get(here), dict | list):
                node[here] = {} if isinstance(after, str) else []
            node = node[here]
    last = place[-1]
    if isinstance(node, list):
        while len(node) <= int(last):
            node.append(None)
        node[int(last)] = value
    else:
        node[last] = value
    return changed


def all_marked(api: Api, schema: Any, marker: str, depth: int = 0) -> Any:
    """A body of the documented shape whose every value is wrong and carries ``marker``."""
    node = api.resolve(schema)
    if depth > 4:
        return marker
    if node.get("properties"):
        return {
            name: all_marked(api, sub, marker, depth + 1)
            for name, sub in node["properties"].items()
        }
    if node.get("type") == "array":
        return [all_marked(api, node.get("items", {}), marker, depth + 1)]
    return marker


def form_pairs(body: Any, prefix: str = "") -> list[tuple[str, str]]:
    """A nested body in Stripe's bracket notation (``a[b][0]=v``); plain keys stay plain."""
    if isinstance(body, dict):
        items: Any = body.items()
    elif isinstance(body, list):
        items = enumerate(body)
    else:
        return [(prefix, str(body))]
    pairs: list[tuple[str, str]] = []
    for key, value in items:
        pairs += form_pairs(value, f"{prefix}[{key}]" if prefix else str(key))
    return pairs


def encoded(media_type: str, body: Any) -> tuple[bytes, dict[str, str]]:
    if "json" in media_type:
        return httpx.Request("POST", "/", json=body).content, {"content-type": media_type}
    content = urlencode(form_pairs(body)).encode()
    return content, {"content-type": "application/x-www-form-urlencoded"}


def try_operation(echoes: Echoes, api: Api, method: str, path: str, op: dict[str, Any]) -> None:
    where = api.name
    headers = api.headers
    good = api.good_bodies.get((method, path))
    content_types = list((op.get("requestBody") or {}).get("content", {}).items())
    plain_body: dict[str, Any] = {}
    if good is not None and content_types:
        plain_body = dict(
            zip(("content", "headers"), encoded(content_types[0][0], good), strict=True)
        )
        plain_body["headers"] = {**headers, **plain_body["headers"]}
    else:
        plain_body = {"headers": headers}

    # Path values no record has: the marker alone, and with a newline after it.
    for name in re.findall(r"\{([^}]+)\}", path):
        for shape in ("{m}", "{m}%0A%09"):  # with a newline and a tab, percent-encoded
            marker = echoes.markers.next()
            value = shape.format(m=marker)
            echoes.send(where, marker, method, api.url(path, **{name: value}), **plain_body)

    # Query values no parameter takes.
    documented = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
    # Parameters read by hand (documented only in prose), where a GET documents none.
    by_hand = list(api.by_hand) if method == "GET" and not documented else []
    for name, shapes in [*((n, SHAPES) for n in documented), *((n, SHAPES[1:]) for n in by_hand)]:
        for shape in shapes:
            marker = echoes.markers.next()
            query = urlencode({name: shape.format(m=marker)})
            echoes.send(where, marker, method, f"{api.url(path)}?{query}", **plain_body)

    # Header parameters (Idempotency-Key...), and a stale If-Match.
    header_names = [p["name"] for p in op.get("parameters", []) if p["in"] == "header"]
    for name in ["If-Match", "Sforce-Query-Options", *header_names]:
        if name.lower() == "authorization":
            continue
        marker = echoes.markers.next()
        value = f'"{marker}"' if name == "If-Match" else f"batchSize={marker}"
        value = value if name in ("If-Match", "Sforce-Query-Options") else marker
        options = {**plain_body, "headers": {**plain_body["headers"], name: value}}
        echoes.send(where, marker, method, api.url(path), **options)

    for media_type, content in content_types:
        schema = content.get("schema", {})
        base = good if good is not None else {}
        fields = dict.fromkeys([*places(api, schema), *leaves(base)])
        for place in fields:
            for shape in SHAPES[1:]:
                marker = echoes.markers.next()
                body = with_value(base, place, shape.format(m=marker))
                raw, kind = encoded(media_type, body)
                echoes.send(
                    where, marker, method, api.url(path), content=raw, headers={**headers, **kind}
                )
            marker = echoes.markers.next()  # a list where a value belongs
            raw, kind = encoded(media_type, with_value(base, place, [marker]))
            echoes.send(
                where, marker, method, api.url(path), content=raw, headers={**headers, **kind}
            )
        marker = echoes.markers.next()
        raw, kind = encoded(media_type, all_marked(api, schema, marker))
        echoes.send(where, marker, method, api.url(path), content=raw, headers={**headers, **kind})
        marker = echoes.markers.next()  # not JSON (or not a form) at all
        broken = f'{{"{marker}": "{marker}", [' if "json" in media_type else f"{marker}[=&%ZZ"
        echoes.send(
            where,
            marker,
            method,
            api.url(path),
            content=broken.encode(),
            headers={**headers, "content-type": media_type},
        )

    if good is not None and content_types and method in WITH_BODY:
        # One Idempotency-Key for two different bodies: the second is refused.
        marker = echoes.markers.next()
        keyed = {**plain_body["headers"], "Idempotency-Key": marker}
        echoes.send(
            where, marker, method, api.url(path), content=plain_body["content"], headers=keyed
        )
        other_place = next(iter(leaves(good)), None)
        if other_place is not None:
            other = with_value(good, other_place, f"{marker}-other")
            raw, kind = encoded(content_types[0][0], other)
            echoes.send(
                where, marker, method, api.url(path), content=raw, headers={**keyed, **kind}
            )


def try_strays_and_credentials(echoes: Echoes, api: Api) -> None:
    for shape in ("/{m}", "/v1/{m}%0A/x", "/api/{m}/{m}.json"):
        for method in ("GET", "POST", "DELETE"):
            marker = echoes.markers.next()
            url = api.prefix + shape.format(m=marker)
            echoes.send(api.name, marker, method, url, headers=api.headers)
    method, path, _ = next(api.operations())
    for header in ("Authorization", "X-Api-Key"):
        for shape in ("Bearer {m}", "Basic {b}", "{m}", "Bearer sk_test_{m}"):
            marker = echoes.markers.next()
            basic = base64.b64encode(f"{marker}:{marker}".encode()).decode()
            value = shape.format(m=marker, b=basic)
            echoes.send(api.name, marker, method, api.url(path), headers={header: value})


SOAP_ENVELOPE = (
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:cl="urn:corelink:cif:v7"><soap:Header><cl:SessionHeader><cl:SessionToken>{token}'
    "</cl:SessionToken></cl:SessionHeader></soap:Header><soap:Body>{body}</soap:Body>"
    "</soap:Envelope>"
)
SOAP_CALLS = (
    "<cl:Login><cl:UserId>{m}</cl:UserId><cl:Password>{m}</cl:Password></cl:Login>",
    "<cl:GetCustomerProfile><cl:CustomerNumber>{m}</cl:CustomerNumber></cl:GetCustomerProfile>",
    "<cl:GetAccountBalance><cl:AccountNumber>{m}</cl:AccountNumber></cl:GetAccountBalance>",
    "<cl:AddContactMemo><cl:CustomerNumber>{m}</cl:CustomerNumber><cl:MemoText>{m}"
    "</cl:MemoText><cl:RequestReference>{m}</cl:RequestReference></cl:AddContactMemo>",
    "<cl:{m}/>",
    "<{m}:Login xmlns:{m}='urn:{m}'/>",
    "<cl:GetCustomerProfile><cl:CustomerNumber>{m}",
    "<!DOCTYPE x [<!ENTITY {m} '{m}'>]><x>&{m};</x>",
)


def try_soap_envelopes(echoes: Echoes, api: Api) -> None:
    """The legacy core reads XML: every field of every operation, an unknown operation, a
    body cut short and a DTD, each with the marker in it, with and without a session."""
    with_session = echoes.http.post(
        api.url("/ws/CustomerService"),
        content=SOAP_ENVELOPE.format(
            token="",
            body="<cl:Login><cl:UserId>SWBVOICE</cl:UserId><cl:Password>"
            "switchboard-core-pass</cl:Password></cl:Login>",
        ),
    )
    token = with_session.text.split("SessionToken>")[1].split("<")[0]
    for shape in SOAP_CALLS:
        for session in (token, "{m}"):
            for action in ("", "{m}"):
                marker = echoes.markers.next()
                body = shape.format(m=marker)
                envelope = SOAP_ENVELOPE.format(token=session.format(m=marker), body=body)
                content = body if body.startswith("<!") else envelope
                headers = {"content-type": "text/xml", "SOAPAction": action.format(m=marker)}
                echoes.send(
                    api.name,
                    marker,
                    "POST",
                    api.url("/ws/CustomerService"),
                    content=content.encode(),
                    headers=headers,
                )


# -- what the test knows to be good -------------------------------------------------------


def discover(client: httpx.Client, sf: httpx.Client, own: dict[str, dict[str, str]]) -> Any:
    """Ids the seeded systems hold, so a request can be wrong in one value only."""

    def first(system: str, url: str, *keys: str | int) -> Any:
        node: Any = client.get(f"/{system}{url}", headers=own[system]).json()
        for key in keys:
            node = node[key]
        return node

    soql = {"q": "SELECT Id FROM Lead LIMIT 1"}
    lead = sf.get("/services/data/v59.0/query", params=soql).json()["records"][0]["Id"]
    account = own["telephony"]
    del account
    return {
        "crm": {"version": "v59.0", "sobject": "Lead", "record_id": lead},
        "telephony": {
            "account_sid": credentials_sid(),
            "call_sid": first(
                "telephony",
                f"/2010-04-01/Accounts/{credentials_sid()}/Calls.json?PageSize=1",
                "calls",
                0,
                "sid",
            ),
        },
        "messaging": {"account_sid": credentials_sid()},
        "calendar": {
            "calendar_id": "primary",
            "event_id": first(
                "calendar", "/calendar/v3/calendars/primary/events?maxResults=1", "items", 0, "id"
            ),
        },
        "erp": {
            "order_id": first(
                "erp", "/api/v1/orders?status=pending&limit=1", "data", 0, "order_id"
            ),
            "sku": first("erp", "/api/v1/inventory?limit=1", "data", 0, "sku"),
            "customer_id": first("erp", "/api/v1/orders?limit=1", "data", 0, "customer_id"),
        },
        "loans": {
            "application_id": first(
                "loans", "/api/v1/applications?stage=submitted&limit=1", "data", 0, "application_id"
            ),
            "name": first(
                "loans",
                "/api/v1/applications?stage=submitted&limit=1",
                "data",
                0,
                "documents",
                0,
                "name",
            ),
        },
        "eligibility": {
            "product_code": first("eligibility", "/v1/products", "products", 0, "code")
        },
        "middleware": {
            "customer_id": first("erp", "/api/v1/orders?limit=1", "data", 0, "customer_id"),
            "application_id": first(
                "loans", "/api/v1/applications?stage=submitted&limit=1", "data", 0, "application_id"
            ),
        },
        "sheets": {"spreadsheetId": SHEETS_ID, "range": "'Do not call'!A1"},
        "tracker": {"issueIdOrKey": "CC-1", "projectIdOrKey": "CC"},
    }


def credentials_sid() -> str:
    from mocks.settings import MockCredentials

    return MockCredentials().twilio_account_sid


def good_bodies(known: dict[str, dict[str, str]]) -> dict[str, dict[tuple[str, str], Any]]:
    customer = known["erp"]["customer_id"]
    times = {"dateTime": "2031-03-04T10:00:00Z"}, {"dateTime": "2031-03-04T10:30:00Z"}
    message = {
        "userId": "u-1",
        "anonymousId": "a-1",
        "messageId": "m-1",
        "timestamp": "2031-01-01T00:00:00Z",
        "properties": {"p": "v"},
    }
    return {
        "crm": {
            ("POST", "/services/data/{version}/sobjects/{sobject}"): {
                "LastName": "Doe",
                "Company": "Acme",
                "Email": "doe@example.com",
            },
            ("PATCH", "/services/data/{version}/sobjects/{sobject}/{record_id}"): {
                "FirstName": "Ann",
                "Status": "Working - Contacted",
            },
            ("POST", "/services/oauth2/token"): {
                "grant_type": "client_credentials",
                "client_id": "x",
                "client_secret": "y",
            },
        },
        "eligibility": {
            ("POST", "/v1/checks"): {
                "customer_id": customer,
                "product_code": known["eligibility"]["product_code"],
                "amount_cents": 100_000,
            },
        },
        "payments": {
            ("POST", "/v1/payment_intents"): {
                "amount": "2500",
                "currency": "usd",
                "description": "d",
                "payment_method_data": {
                    "type": "card",
                    "card": {
                        "number": "4242424242424242",
                        "exp_month": "12",
                        "exp_year": "2040",
                        "cvc": "123",
                    },
                },
                "metadata": {"k": "v"},
                "cancellation_reason": "duplicate",
            },
            ("POST", "/v1/payment_intents/{intent_id}"): {"description": "d", "amount": "2600"},
            ("POST", "/v1/payment_intents/{intent_id}/confirm"): {"payment_method": "pm_card_visa"},
            ("POST", "/v1/payment_intents/{intent_id}/cancel"): {
                "cancellation_reason": "duplicate"
            },
        },
        "messaging": {
            ("POST", "/2010-04-01/Accounts/{account_sid}/Messages.json"): {
                "To": "+14155550123",
                "From": "+18005550100",
                "Body": "hi",
                "StatusCallback": "https://example.com/cb",
                "MediaUrl": "https://example.com/a.png",
            },
        },
        "email": {
            ("POST", "/v3/mail/send"): {
                "personalizations": [
                    {"to": [{"email": "a@example.com"}], "subject": "s", "custom_args": {"k": "v"}}
                ],
                "from": {"email": "b@example.com"},
                "subject": "s",
                "content": [{"type": "text/plain", "value": "v"}],
                "categories": ["c"],
            },
        },
        "calendar": {
            ("POST", "/calendar/v3/calendars/{calendar_id}/events"): {
                "summary": "s",
                "start": times[0],
                "end": times[1],
                "status": "confirmed",
                "attendees": [{"email": "a@example.com"}],
                "transparency": "opaque",
            },
            ("PATCH", "/calendar/v3/calendars/{calendar_id}/events/{event_id}"): {
                "summary": "t",
                "status": "confirmed",
            },
            ("POST", "/calendar/v3/freeBusy"): {
                "timeMin": "2031-03-04T00:00:00Z",
                "timeMax": "2031-03-05T00:00:00Z",
                "items": [{"id": "primary"}],
            },
        },
        "slack": {
            ("POST", "/api/chat.postMessage"): {"channel": "C0SWB0GEN", "text": "hi"},
            ("POST", "/api/conversations.list"): {"types": "public_channel", "limit": "5"},
        },
        "analytics": {
            ("POST", "/v1/track"): {**message, "event": "E"},
            ("POST", "/v1/identify"): {**message, "traits": {"t": "v"}},
            ("POST", "/v1/page"): {**message, "name": "n"},
            ("POST", "/v1/screen"): {**message, "name": "n"},
            ("POST", "/v1/group"): {**message, "groupId": "g"},
            ("POST", "/v1/alias"): {**message, "previousId": "p"},
            ("POST", "/v1/batch"): {"batch": [{**message, "type": "track", "event": "E"}]},
            ("POST", "/v1/import"): {"batch": [{**message, "type": "track", "event": "E"}]},
        },
        "erp": {
            ("POST", "/api/v1/orders"): {
                "customer_id": customer,
                "lines": [{"sku": known["erp"]["sku"], "quantity": 1}],
            },
            ("PATCH", "/api/v1/orders/{order_id}"): {"status": "confirmed", "reason": "r"},
            ("POST", "/api/v1/orders/{order_id}/fulfilments"): {"carrier": "UPS"},
        },
        "loans": {
            ("POST", "/api/v1/applications"): {
                "customer_id": customer,
                "product_code": "LOAN-PERSONAL",
                "amount_cents": 100_000,
            },
            ("POST", "/api/v1/applications/{application_id}/transitions"): {
                "to": "underwriting",
                "reason": "r",
            },
            ("PUT", "/api/v1/applications/{application_id}/documents/{name}"): {
                "status": "received"
            },
        },
        "tracker": {
            ("POST", "/rest/api/2/issue"): {
                "fields": {
                    "project": {"key": "CC"},
                    "issuetype": {"name": "Task"},
                    "summary": "s",
                    "labels": ["escalation"],
                    "priority": {"name": "High"},
                }
            },
            ("POST", "/rest/api/2/issue/{issueIdOrKey}/comment"): {"body": "b"},
            ("POST", "/rest/api/2/issue/{issueIdOrKey}/transitions"): {
                "transition": {"id": "11"},
                "update": {"comment": [{"add": {"body": "b"}}]},
            },
        },
        "docstore": {
            ("POST", "/"): {
                "TableName": "caller_preferences",
                "Item": {"customer_id": {"S": "C9"}, "pref": {"S": "profile"}, "n": {"N": "1"}},
                "ConditionExpression": "attribute_not_exists(customer_id)",
            },
        },
        "sheets": {
            ("POST", "/v4/spreadsheets/{spreadsheetId}/values/{range}:append"): {
                "range": "'Do not call'!A1",
                "majorDimension": "ROWS",
                "values": [["+14155550199", "asked not to be called"]],
            },
            ("POST", "/v4/spreadsheets"): {
                "properties": {"title": "t"},
                "sheets": [{"properties": {"title": "s"}}],
            },
        },
        "middleware": {
            ("POST", "/api/v1/loan-applications/{application_id}/status"): {
                "status": "UNDERWRITING",
                "reason": "r",
            },
        },
    }


@pytest.fixture
def echoes(mocks_url: str) -> Iterator[Echoes]:
    with httpx.Client(base_url=mocks_url, timeout=20) as http:
        yield Echoes(http)


def test_no_client_error_repeats_what_was_sent(
    echoes: Echoes, client: httpx.Client, sf: httpx.Client, enterprise: MockEnterprise
) -> None:
    sf_token = str(sf.headers["Authorization"]).split()[1]
    own = {system: credentials(system, sf_token) for system in enterprise.services}
    known = discover(client, sf, own)
    bodies = good_bodies(known)
    for system in enterprise.services:
        document = client.get(f"/{system}/openapi.json").json()
        good_path = dict(known.get(system, {}))
        if system == "payments":
            created = client.post(
                f"/{system}/v1/payment_intents",
                data={"amount": "2500", "currency": "usd"},
                headers=own[system],
            )
            good_path["intent_id"] = created.json()["id"]
        api = Api(system, f"/{system}", document, own[system], good_path, bodies.get(system, {}))
        for method, path, operation in api.operations():
            try_operation(echoes, api, method, path, operation)
        try_strays_and_credentials(echoes, api)
        if system == "core":
            try_soap_envelopes(echoes, api)
    assert echoes.found == [], "\n".join(echoes.found[:40])
    for system in enterprise.services:
        # Every system was really probed: its few routes (database, slack) still give 8 or more.
        assert echoes.refused[system] >= 8, f"{system}: {echoes.refused[system]} refusals only"


def test_no_control_plane_error_repeats_what_was_sent(echoes: Echoes, client: httpx.Client) -> None:
    document = client.get("/openapi.json").json()
    api = Api("control", "", document, CONTROL_HEADERS, {"system": "crm"}, {}, by_hand=())
    for method, path, operation in api.operations():
        if path.startswith(("/_chaos", "/_mock")) and not path.endswith("/reset"):
            try_operation(echoes, api, method, path, operation)
    for shape in ("/_chaos/systems/{m}", "/_mock/{m}/ledger", "/_mock/crm/automations/runs/{m}"):
        marker = echoes.markers.next()
        echoes.send("control", marker, "GET", shape.format(m=marker), headers=CONTROL_HEADERS)
    for body in (
        {"systems": {"{m}": {}}},
        {"systems": {"{m}": {"latency": {"kind": "{m}"}, "errors": {"kinds": {"{m}": 1}}}}},
        {"systems": {"crm": {"errors": {"rate": 1, "kinds": {"{m}": 1}}, "{m}": 1}}},
    ):
        marker = echoes.markers.next()
        text = str(body).replace("'", '"').replace("{m}", marker)
        echoes.send(
            "control",
            marker,
            "POST",
            "/_chaos/profile",
            content=text.encode(),
            headers={**CONTROL_HEADERS, "content-type": "application/json"},
        )
    rule = {
        "name": "{m}",
        "trigger": {"object": "Lead", "event": "{m}", "when": [{"field": "{m}", "becomes": "x"}]},
        "steps": [
            {"kind": "{m}"},
            {
                "kind": "slack_post",
                "channel": "#x",
                "text": "{record.{m}} {{m}} {owner.{m}} {run.{m}}",
            },
            {"kind": "track_event", "event": "e", "properties": {"{m}": 1}},
        ],
    }
    for rules in ({"rules": [rule]}, {"rules": [rule | {"name": "n"}] * 2}):
        marker = echoes.markers.next()
        import json

        text = json.dumps(rules).replace("{m}", marker)
        echoes.send(
            "control",
            marker,
            "PUT",
            "/_mock/crm/automations/rules",
            content=text.encode(),
            headers={**CONTROL_HEADERS, "content-type": "application/json"},
        )
    assert echoes.found == [], "\n".join(echoes.found[:40])
    assert echoes.refused["control"] >= 50
