"""The core-banking database: the one mock that is read with SQL rather than HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, ClassVar

from mocks.database.faults import DatabaseFaults
from mocks.database.store import DatabaseStore
from mocks.platform.service import MockService, SystemContext

__all__ = ["DatabaseService"]


class DatabaseService(MockService):
    name: ClassVar[str] = "database"
    title: ClassVar[str] = "Core banking database"
    vendor: ClassVar[str] = "SQL via SQLAlchemy (SQLite file by default)"
    summary: ClassVar[str] = (
        "Customers, accounts, transactions and products in a real SQL database, read with "
        "SQL. /_chaos/database takes real locks, swaps the file for garbage, or slows "
        "queries with a lock duty cycle."
    )

    def __init__(self, ctx: SystemContext) -> None:
        super().__init__(ctx)
        self.store = DatabaseStore(ctx.settings.resolved_database_url, ctx.dataset)
        self.faults = DatabaseFaults(self.store, ctx.clock)

    async def startup(self) -> None:
        await asyncio.to_thread(self.store.ensure_seeded)

    async def shutdown(self) -> None:
        await asyncio.to_thread(self.faults.release_all)
        self.store.dispose()

    def clear_faults(self) -> None:
        self.faults.release_all()

    def active_faults(self) -> list[dict[str, Any]]:
        return self.faults.active()

    def start_fault(self, kind: str, start: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Start one of ``faults``' actions and count it; FaultNotStarted/Supported pass."""
        fault = start()
        self.ctx.chaos.stats.count_fault(self.name, kind)
        return fault

    def reset(self) -> None:
        self.faults.release_all()
        self.store.restore()
        super().reset()
