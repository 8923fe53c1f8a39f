"""Carrier receipts: what Twilio's status callbacks say became of each text the outbox sent.

One row per message sid in the outbox's database (``outbox_message_status``), so the
record survives restarts. ``record`` applies one callback under the ordering rules of
``message_status``; ``link`` ties a sid to the messaging effect that sent it, inside the
dispatcher's delivered verdict, so a callback that came first (before the send's answer
was processed) is kept unmatched and matched then. Blocking SQL runs in the outbox store's
worker threads, like the rest of the outbox.

Callbacks are committed in groups: every text brings two or three, and SQLite admits one
writer, which the dispatcher and the ends of calls need too. Callbacks that arrive while a
group is being written wait for the next one and share its transaction, in arrival order,
so at low rates each is its own group and nothing waits for a timer.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from integration.outbox._schema import effects, message_status
from integration.outbox.message_status import Verdict, judge
from integration.outbox.model import iso_or_none
from integration.store.database import Database
from integration.store.sql import Sql, key_errors

if TYPE_CHECKING:
    from integration.outbox.store import OutboxStore

__all__ = ["MessageReceipts", "Receipt", "link"]

_m = message_status.c
_e = effects.c


@dataclass(frozen=True)
class Receipt:
    """One callback's verdict and the message's recorded status after it."""

    message_sid: str
    status: str | None
    verdict: Verdict
    effect_id: int | None
    call_id: str | None = None

    @property
    def matched(self) -> bool:
        return self.effect_id is not None


_Callback = tuple[str, str, str | None]  # message sid, status, error code


class MessageReceipts:
    def __init__(self, store: OutboxStore, *, wall_clock: Callable[[], float]) -> None:
        self._store = store
        self._wall = wall_clock
        self._waiting: list[tuple[_Callback, asyncio.Future[Receipt]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, message_sid: str, status: str, error_code: str | None) -> Receipt:
        """Apply one callback, committed when this returns. ValueError for a status
        ``message_status`` does not know (before anything is written)."""
        judge(None, (), status)
        answer: asyncio.Future[Receipt] = asyncio.get_running_loop().create_future()
        self._waiting.append(((message_sid, status, error_code), answer))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_groups())
        return await answer

    async def _write_groups(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting, []
            try:
                receipts = await self._store.run_write(
                    _record_group, self._wall(), [callback for callback, _ in group]
                )
            except Exception as exc:  # each waiting callback answers with the failure
                for _, answer in group:
                    if not answer.done():
                        answer.set_exception(exc)
                continue
            for (_, answer), receipt in zip(group, receipts, strict=True):
                if not answer.done():
                    answer.set_result(receipt)

    async def statuses(self, message_sids: Sequence[str]) -> dict[str, str | None]:
        """The recorded status of each of these messages that has a row."""
        if not message_sids:
            return {}
        rows = await self._store.run(_find, tuple(message_sids), None, None, False, None)
        return {row["message_sid"]: row["status"] for row in rows}

    async def find(
        self,
        *,
        call_id: str | None = None,
        message_sid: str | None = None,
        unmatched: bool = False,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Messages with their status and callback counts, most recently changed first."""
        return await self._store.run(_find, None, call_id, message_sid, unmatched, limit)


# -- in the outbox store's worker threads ---------------------------------------------------

# Statements the driver runs as they are (``store.sql``): every text brings two or three
# callbacks, and through SQLAlchemy each statement cost several times its SQL.
_STATUS_COLUMNS = (
    "message_sid",
    "effect_id",
    "status",
    "error_code",
    "seen",
    "callbacks",
    "duplicates",
    "out_of_order",
)
_SELECT = (
    "SELECT m.{}, e.call_id FROM outbox_message_status m "
    "LEFT JOIN outbox_effects e ON e.id = m.effect_id WHERE m.message_sid = :sid"
)
_FIND = {
    "sqlite": Sql(_SELECT.format(", m.".join(_STATUS_COLUMNS))),
    # Locked while this callback is judged: another worker's callback for the same text
    # waits for this one's verdict instead of judging from the same old status.
    "postgres": Sql(_SELECT.format(", m.".join(_STATUS_COLUMNS)) + " FOR UPDATE OF m"),
}
_INSERT = Sql("""
    INSERT INTO outbox_message_status (message_sid, effect_id, status, error_code, seen,
        callbacks, duplicates, out_of_order, first_at, updated_at)
    VALUES (:sid, :effect_id, :status, :error_code, :seen, :callbacks, 0, 0, :now, :now)
""")
_UPDATE = Sql("""
    UPDATE outbox_message_status SET callbacks = callbacks + 1, updated_at = :now,
        duplicates = duplicates + :duplicate, out_of_order = out_of_order + :late,
        seen = :seen, status = :status, error_code = :error_code
    WHERE message_sid = :sid
""")
_LINK = Sql("UPDATE outbox_message_status SET effect_id = :effect_id WHERE message_sid = :sid")


def _record_group(db: Database, now: float, group: list[_Callback]) -> list[Receipt]:
    try:
        with db.write() as conn:
            return [_apply(db, conn, now, *callback) for callback in group]
    except db.integrity_errors:
        # A database with several writers let another callback insert one of these sids
        # first (SQLite has one writer, so never there): the group rolled back, so once
        # more, updating that row.
        with db.write() as conn:
            return [_apply(db, conn, now, *callback) for callback in group]


def _apply(
    db: Database, conn: Connection, now: float, sid: str, status: str, error_code: str | None
) -> Receipt:
    row = _FIND["postgres" if db.is_postgres else "sqlite"].one(conn, {"sid": sid})
    if row is None:
        _INSERT.count(
            conn,
            {
                "sid": sid,
                "effect_id": None,
                "status": status,
                "error_code": error_code,
                "seen": json.dumps([status]),
                "callbacks": 1,
                "now": now,
            },
        )
        return Receipt(sid, status, "advanced", None)
    _, effect_id, recorded, recorded_error, seen_json, _, _, _, call_id = row
    seen: list[str] = json.loads(seen_json)
    verdict = judge(recorded, seen, status)
    advanced = verdict == "advanced"
    _UPDATE.count(
        conn,
        {
            "sid": sid,
            "now": now,
            "duplicate": int(verdict == "duplicate"),
            "late": int(verdict == "out_of_order"),
            "seen": seen_json if verdict == "duplicate" else json.dumps([*seen, status]),
            "status": status if advanced else recorded,
            "error_code": error_code if advanced else recorded_error,
        },
    )
    return Receipt(sid, status if advanced else recorded, verdict, effect_id, call_id)


def link(conn: Connection, sid: str, effect_id: int, now: float) -> None:
    """Tie ``sid`` to the effect that sent it, in the caller's transaction (the delivered
    verdict's). A row a callback made first is matched; otherwise one waits for callbacks."""
    if _LINK.count(conn, {"effect_id": effect_id, "sid": sid}):
        return
    try:
        # A savepoint: on a database with several writers a callback may insert the row
        # between the update and this insert, and that must not undo the verdict around it.
        with conn.begin_nested():
            _INSERT.count(
                conn,
                {
                    "sid": sid,
                    "effect_id": effect_id,
                    "status": None,
                    "error_code": None,
                    "seen": "[]",
                    "callbacks": 0,
                    "now": now,
                },
            )
    except key_errors(conn.dialect.name):
        _LINK.count(conn, {"effect_id": effect_id, "sid": sid})


def _find(
    db: Database,
    sids: tuple[str, ...] | None,
    call_id: str | None,
    sid: str | None,
    unmatched: bool,
    limit: int | None,
) -> list[dict[str, Any]]:
    query = select(message_status, _e.call_id, _e.name).select_from(
        message_status.outerjoin(effects, _e.id == _m.effect_id)
    )
    if sids is not None:
        query = query.where(_m.message_sid.in_(sids))
    if sid is not None:
        query = query.where(_m.message_sid == sid)
    if call_id is not None:
        query = query.where(_e.call_id == call_id)
    if unmatched:
        query = query.where(_m.effect_id.is_(None))
    query = query.order_by(_m.updated_at.desc(), _m.message_sid)
    if limit is not None:
        query = query.limit(limit)
    with db.read() as conn:
        return [_view(row._mapping) for row in conn.execute(query)]


def _view(m: Any) -> dict[str, Any]:
    return {
        "message_sid": m["message_sid"],
        "status": m["status"],
        "error_code": m["error_code"],
        "seen": json.loads(m["seen"]),
        "callbacks": m["callbacks"],
        "duplicates": m["duplicates"],
        "out_of_order": m["out_of_order"],
        "matched": m["effect_id"] is not None,
        "effect_id": m["effect_id"],
        "call_id": m["call_id"],
        "effect": m["name"],
        "first_at": iso_or_none(m["first_at"]),
        "updated_at": iso_or_none(m["updated_at"]),
    }
