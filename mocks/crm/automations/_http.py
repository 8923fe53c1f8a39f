"""One outgoing call of a step: a POST with a single retry, its outcome written into the
step's result (attempts, last status, injected fault, error)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from mocks.crm.automations.runs import StepResult

__all__ = ["ATTEMPT_TIMEOUT_S", "conclude", "json_of", "post_with_retry"]

ATTEMPT_TIMEOUT_S = 2.0
RETRY_AFTER_CAP_S = 2.0  # a longer Retry-After fails the step rather than stalling the run
RETRY_PAUSE_S = 0.2  # before retrying an answer that named no Retry-After


async def post_with_retry(
    client: httpx.AsyncClient,
    url: str,
    body: dict[str, Any],
    headers: dict[str, str],
    result: StepResult,
    sleep: Callable[[float], Awaitable[None]],
) -> httpx.Response | None:
    """Retries once on 429, 5xx, a timeout or a broken connection (the step's
    Idempotency-Key makes that safe). The last answer, or None (the step then failed)."""
    response: httpx.Response | None = None
    for attempt in (1, 2):
        result.attempts = attempt
        pause = RETRY_PAUSE_S
        try:
            response = await client.post(url, json=body, headers=headers)
        except httpx.TimeoutException:
            response, result.error = None, f"no answer within {ATTEMPT_TIMEOUT_S:g} s"
        except httpx.HTTPError as error:  # refused, dropped mid-body...
            response, result.error = None, f"{type(error).__name__}: {error}"
        else:
            result.http_status = response.status_code
            result.injected_fault = response.headers.get("x-injected-fault")
            result.error = None
            if response.status_code != 429 and response.status_code < 500:
                return response
            pause = _retry_after(response)
        if attempt == 1:
            await sleep(pause)
    if response is None:
        result.fail(result.error or "no answer")
    return response


def conclude(
    result: StepResult, response: httpx.Response, ok: bool, output: dict[str, Any]
) -> None:
    if ok:
        result.status, result.output = "succeeded", output
        return
    body = json_of(response)
    said = body.get("error") or body.get("message") or response.text[:200]
    result.fail(f"HTTP {response.status_code}: {said}")


def json_of(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:  # an injected malformed body, or none at all
        return {}
    return body if isinstance(body, dict) else {}


def _retry_after(response: httpx.Response) -> float:
    try:
        wanted = float(response.headers.get("retry-after", RETRY_PAUSE_S))
    except ValueError:
        wanted = RETRY_PAUSE_S
    return min(max(wanted, 0.0), RETRY_AFTER_CAP_S)
