"""Vendor access tokens shared by every worker on the store, so one expired credential is
refreshed once for the whole service, not once per worker.

One row per credential: the current token, when it expires (wall clock), and who is
refreshing it until when. Taking the refresh is a compare-and-set on that row, so of
the workers that met the same refused token at the same moment exactly one asks the
vendor; a worker that took it and died holds it only until ``refreshing_until``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Column, Float, MetaData, String, Table, Text, or_, select, update
from sqlalchemy.exc import IntegrityError

from integration.store.database import Database

__all__ = ["SharedCredential", "metadata"]

metadata = MetaData()

credentials = Table(
    "layer_credentials",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("token", Text),  # a bearer token the vendor issued for the layer (never a card)
    Column("expires_at", Float),
    Column("refreshing_by", String(128)),
    Column("refreshing_until", Float),
)
_c = credentials.c


class SharedCredential:
    """One named credential (``SharedToken`` for ``OAuthTokenManager``)."""

    def __init__(
        self,
        db: Database,
        name: str,
        worker: str,
        *,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.name = name
        self.worker = worker
        self._wall = wall_clock

    async def start(self) -> None:
        await self.db.start(metadata)

    async def load(self) -> tuple[str, float] | None:
        row = await self.db.run(_load, self.name)
        if row is None or row[0] is None or row[1] is None:
            return None
        token, expires_at = row
        left = expires_at - self._wall()
        return (token, left) if left > 0 else None

    async def take_refresh(self, stale: str | None, hold_s: float) -> bool:
        return await self.db.run_write(_take, self.name, self.worker, stale, self._wall(), hold_s)

    async def save(self, token: str, ttl_s: float) -> None:
        await self.db.run_write(_save, self.name, token, self._wall() + ttl_s)


def _load(db: Database, name: str) -> tuple[Any, Any] | None:
    with db.read() as conn:
        row = conn.execute(select(_c.token, _c.expires_at).where(_c.name == name)).first()
    return (row.token, row.expires_at) if row is not None else None


def _take(db: Database, name: str, worker: str, stale: str | None, now: float, hold: float) -> bool:
    with db.write() as conn:
        row = conn.execute(select(credentials).where(_c.name == name)).first()
        if row is None:
            try:
                with conn.begin_nested():
                    conn.execute(
                        credentials.insert().values(
                            name=name,
                            token=None,
                            expires_at=None,
                            refreshing_by=worker,
                            refreshing_until=now + hold,
                        )
                    )
            except IntegrityError:  # another worker made the row first: it refreshes
                return False
            return True
        newer = row.token is not None and row.token != stale and (row.expires_at or 0) > now
        if newer:
            return False
        taken = conn.execute(
            update(credentials)
            .where(_c.name == name)
            .where(or_(_c.refreshing_until.is_(None), _c.refreshing_until <= now))
            .where(_c.token.is_(None) if row.token is None else _c.token == row.token)
            .values(refreshing_by=worker, refreshing_until=now + hold)
        )
        return bool(taken.rowcount)


def _save(db: Database, name: str, token: str, expires_at: float) -> None:
    values = {
        "token": token,
        "expires_at": expires_at,
        "refreshing_by": None,
        "refreshing_until": None,
    }
    with db.write() as conn:
        if not conn.execute(update(credentials).where(_c.name == name).values(**values)).rowcount:
            conn.execute(credentials.insert().values(name=name, **values))
