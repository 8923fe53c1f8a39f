"""Racing concurrent attempts: the first success wins (used by hedging)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

__all__ = ["cancel_all", "first_success"]

T = TypeVar("T")


async def first_success(tasks: Sequence[asyncio.Task[T]]) -> T:
    """The result of the first task to succeed; if all fail, the error of the last to fail.

    Unlike ``asyncio.wait(FIRST_COMPLETED)`` alone, a fast failure does not end the race
    while another attempt may still succeed.
    """
    pending: set[asyncio.Task[T]] = set(tasks)
    error: BaseException | None = None
    while pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for task in (t for t in tasks if t in done):  # list order: deterministic ties
            failure = task.exception()
            if failure is None:
                return task.result()
            error = failure
    assert error is not None, "first_success needs at least one task"
    raise error


async def cancel_all(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel what is still running and wait for every task to finish."""
    tasks = list(tasks)
    for task in tasks:
        if not task.done():
            task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
