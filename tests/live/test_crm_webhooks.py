"""CRM automations post each finished run, signed as Stripe signs, to a test receiver.

The receiver runs on its own loopback port: 200 under ``/ok/...``, 503 then 200 under
``/flaky/...``. Each test posts to its own path.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.serving import serve_in_thread
from tests.live.test_crm_automations import new_lead, qualify

SECRET = "whsec_crm_automations_0123"
Posts = list[dict[str, Any]]


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[str, Posts]]:
    posts: Posts = []

    async def keep(request: Request) -> Response:
        url = str(request.url)
        earlier = sum(1 for p in posts if p["url"] == url)
        body = await request.body()
        posts.append({"url": url, "body": body, "signature": request.headers["stripe-signature"]})
        flaky = request.path_params["outcome"] == "flaky" and earlier == 0
        return Response(status_code=503 if flaky else 200)

    handle = serve_in_thread(Starlette(routes=[Route("/{outcome}/{name}", keep, methods=["POST"])]))
    yield handle.url, posts
    handle.stop()


def _verify(post: dict[str, Any]) -> dict[str, Any]:
    parts = dict(item.split("=", 1) for item in post["signature"].split(","))
    signed = f"{parts['t']}.".encode() + post["body"]
    assert hmac.compare_digest(
        parts["v1"], hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    )
    return dict(json.loads(post["body"]))


def test_a_finished_run_is_posted_signed_and_logged(
    receiver: tuple[str, Posts], control: httpx.Client, sf: httpx.Client
) -> None:
    base, posts = receiver
    url = f"{base}/flaky/{uuid.uuid4().hex}"
    body = {
        "endpoints": [{"url": url, "secret": SECRET, "enabled_events": ["automation_run.*"]}],
        "retry": {"max_attempts": 3, "base_delay_s": 0.05, "max_delay_s": 0.1},
    }
    assert control.put("/_mock/crm/webhook-endpoints", json=body).status_code == 200
    lead_id = new_lead(sf, "Hooked")
    assert qualify(sf, lead_id).status_code == 204
    log = control.get("/_mock/crm/webhooks", params={"wait_ms": 8000}).json()
    assert log["idle"] is True
    [delivery] = log["deliveries"]
    assert delivery["status"] == "delivered"
    assert [a["http_status"] for a in delivery["attempts"]] == [503, 200]
    mine = [p for p in posts if p["url"] == url]
    assert len(mine) == 2
    event = _verify(mine[-1])
    assert event["type"] == "automation_run.succeeded" and event["id"] == delivery["event_id"]
    run = event["data"]["object"]
    assert run["object"] == "automation_run" and run["rule"] == "lead-qualified"
    assert run["trigger"]["record_id"] == lead_id
    # The same scheme Stripe's library checks.
    stripe.WebhookSignature.verify_header(mine[-1]["body"].decode(), mine[-1]["signature"], SECRET)
