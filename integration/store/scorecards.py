"""Scenario scorecards the runner posts for the dashboard, kept in the store so every
worker shows the same ones. Bounded: the newest ``kept`` runs, each at most
``max_bytes`` of JSON."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    select,
)

from integration.store.database import Database

__all__ = ["ScorecardTooLarge", "Scorecards", "metadata"]

metadata = MetaData()

scorecards = Table(
    "layer_scorecards",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("started_at", String(64), nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("scorecard", Text, nullable=False),
    Column("stored_at", Float, nullable=False),
)
_s = scorecards.c


class ScorecardTooLarge(ValueError):
    pass


class Scorecards:
    def __init__(
        self,
        db: Database,
        *,
        kept: int = 50,
        max_bytes: int = 256 * 1024,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.kept = kept
        self.max_bytes = max_bytes
        self._wall = wall_clock

    async def start(self) -> None:
        await self.db.start(metadata)

    async def add(self, name: str, started_at: str, passed: bool, scorecard: Any) -> int:
        """Keep one run's scorecard; how many are kept now."""
        body = orjson.dumps(scorecard).decode()
        if len(body) > self.max_bytes:
            raise ScorecardTooLarge(f"scorecard: at most {self.max_bytes} bytes of JSON")
        row = {
            "name": name,
            "started_at": started_at,
            "passed": passed,
            "scorecard": body,
            "stored_at": self._wall(),
        }
        return await self.db.run_write(_add, row, self.kept)

    async def newest(self) -> list[dict[str, Any]]:
        return await self.db.run(_newest, self.kept)


def _add(db: Database, row: dict[str, Any], kept: int) -> int:
    with db.write() as conn:
        conn.execute(scorecards.insert().values(**row))
        ids = conn.execute(select(_s.id).order_by(_s.id.desc()).offset(kept)).scalars().all()
        if ids:
            conn.execute(delete(scorecards).where(_s.id.in_(ids)))
        return int(conn.execute(select(func.count()).select_from(scorecards)).scalar() or 0)


def _newest(db: Database, kept: int) -> list[dict[str, Any]]:
    query = select(scorecards).order_by(_s.id.desc()).limit(kept)
    with db.read() as conn:
        rows = conn.execute(query).all()
    return [
        {
            "name": r.name,
            "started_at": r.started_at,
            "passed": r.passed,
            "scorecard": orjson.loads(r.scorecard),
        }
        for r in rows
    ]
