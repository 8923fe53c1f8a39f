"""The dispatcher of this worker, as the live call sees it: effects written leased to it
are handed over at once, and a tool waiting on one hears of each verdict."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from integration.outbox.model import EffectRow

__all__ = ["LiveDelivery"]


class LiveDelivery(Protocol):
    owner: str

    @property
    def lease_s(self) -> float: ...
    def adopt(self, rows: Sequence[EffectRow]) -> None: ...
    def watch(self, effect_id: int) -> asyncio.Event: ...
    def unwatch(self, effect_id: int, event: asyncio.Event) -> None: ...
    def latest(self, effect_id: int) -> EffectRow | None: ...
    def wake(self) -> None: ...
