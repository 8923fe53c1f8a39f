"""The shared idempotency store (Stripe's semantics), driven directly: no sockets."""

from __future__ import annotations

import asyncio

import pytest

from mocks.platform.idempotency import (
    IdempotencyConflict,
    IdempotencyMismatch,
    IdempotencyStore,
    StoredResponse,
)


def applying(log: list[str], status: int = 200, gate: asyncio.Event | None = None):  # type: ignore[no-untyped-def]
    async def apply() -> StoredResponse:
        if gate is not None:
            await gate.wait()
        log.append("applied")
        return StoredResponse(status, {"n": len(log)})

    return apply


async def test_replay_mismatch_and_conflict() -> None:
    store, log = IdempotencyStore(), []
    first, replayed = await store.run("k", "fp", applying(log))
    again, replayed_again = await store.run("k", "fp", applying(log))
    assert (replayed, replayed_again, again, log) == (False, True, first, ["applied"])
    with pytest.raises(IdempotencyMismatch):
        await store.run("k", "other", applying(log))
    gate = asyncio.Event()
    slow = asyncio.create_task(store.run("busy", "fp", applying(log, gate=gate)))
    await asyncio.sleep(0)
    with pytest.raises(IdempotencyConflict):
        await store.run("busy", "fp", applying(log))
    gate.set()
    await slow


async def test_a_reset_during_a_request_does_not_free_a_later_requests_key() -> None:
    store, log = IdempotencyStore(), []
    gate_a, gate_b = asyncio.Event(), asyncio.Event()
    a = asyncio.create_task(store.run("k", "fp", applying(log, gate=gate_a)))
    await asyncio.sleep(0)
    store.clear()
    b = asyncio.create_task(store.run("k", "fp", applying(log, gate=gate_b)))
    await asyncio.sleep(0)
    gate_a.set()
    await a  # A finishing must not remove B's in-flight marker ...
    with pytest.raises(IdempotencyConflict):  # ... so a third request still waits its turn
        await store.run("k", "fp", applying(log))
    gate_b.set()
    await b
    assert log == ["applied", "applied"]


async def test_server_errors_are_not_stored_and_old_keys_are_forgotten() -> None:
    store, log = IdempotencyStore(max_keys=2), []
    await store.run("k", "fp", applying(log, status=503))
    _, replayed = await store.run("k", "fp", applying(log))
    assert replayed is False  # a 5xx may be retried with the same key
    for key in ("a", "b", "c"):
        await store.run(key, "fp", applying(log))
    _, replayed = await store.run("a", "fp", applying(log))
    assert replayed is False  # "a" was the oldest of three with room for two
