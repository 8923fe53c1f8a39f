"""Calls in the layer's store: any worker starts, serves and ends any call.

Three tables: one row per call (the caller view as JSON, and what its tools leave for each
other), its tool results and its transcript turns (one row each, so adding one is an
insert, not a rewrite). Each operation is one transaction in the database's threads. The
caller view never changes once stored, so each worker keeps the views it parsed (a
bounded LRU) and a tool on a call it has seen reads only the call's row.

Numbers within a call (tool invocations, turns) are handed out by the row they belong to:
``tool_seq`` is incremented and returned in the transaction that admits a tool, so two
workers running tools of one call never give two the same number.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from cachetools import LRUCache
from sqlalchemy import (
    BindParameter,
    Column,
    Connection,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from integration.calls.ids import Origin
from integration.calls.record import MAX_TOOL_RESULTS, MAX_TURNS, CallRecord, iso_time
from integration.lookup.view import CallerView
from integration.store.database import Database
from integration.store.sql import Sql
from integration.tools.admitted import Booking, CallHasEnded, ToolStart

__all__ = ["CallExists", "CallStore", "metadata"]

metadata = MetaData()

calls = Table(
    "layer_calls",
    metadata,
    Column("call_id", String(64), primary_key=True),
    Column("origin", String(8), nullable=False),
    Column("phone", String(32), nullable=False),
    Column("customer_id", String(64)),
    Column("status", String(8), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("ended_at", Float),
    Column("view", Text, nullable=False),  # CallerView JSON: never a card number
    Column("recommendation", String(32), nullable=False),
    Column("elapsed_ms", Float, nullable=False),
    Column("degraded", Text, nullable=False),  # JSON list of field names
    Column("tool_seq", Integer, nullable=False),
    Column("tool_count", Integer, nullable=False),
    Column("booking", Text),
    Column("handover", Text),
    Column("barge_ins", Integer, nullable=False),
    Column("worker", String(128)),
    Index("ix_layer_calls_started", "started_at"),
    Index("ix_layer_calls_status", "status"),
)

tool_results = Table(
    "layer_call_tools",
    metadata,
    Column("call_id", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("result", Text, nullable=False),
)

turns = Table(
    "layer_call_turns",
    metadata,
    Column("call_id", String(64), primary_key=True),
    Column("n", Integer, primary_key=True),
    Column("speaker", String(8), nullable=False),
    Column("text", Text, nullable=False),
    Column("at_ms", Float, nullable=False),
)

_c = calls.c
_CALL: BindParameter[str] = bindparam("the_call")


class CallExists(Exception):
    """A call with this id is already stored."""


@dataclass(frozen=True)
class _Admitted:
    seq: int
    phone: str
    view: str | None  # JSON, unless the worker already holds the parsed view
    booking: str | None
    barge_ins: int


class CallStore:
    def __init__(
        self,
        db: Database,
        *,
        wall_clock: Callable[[], float] = time.time,
        worker: str | None = None,
        views_kept: int = 10_000,
        transcript_chars: int = 256 * 1024,
    ) -> None:
        self.db = db
        self.transcript_chars = transcript_chars
        self._wall = wall_clock
        self.worker = worker
        self._views: LRUCache[str, CallerView] = LRUCache(maxsize=views_kept)

    async def start(self) -> None:
        await self.db.start(metadata)

    # -- starting and admitting -----------------------------------------------------------

    async def create(self, call_id: str, origin: Origin, view: CallerView) -> CallRecord:
        """Store a new call; CallExists when the id is taken (by either origin)."""
        record = CallRecord(call_id, origin, view.phone, self._wall(), view, worker=self.worker)
        await self.db.run_write(_create, record, view.model_dump_json())
        self._views[call_id] = view
        return record

    async def begin_tool(self, call_id: str, origin: str | None = None) -> ToolStart | None:
        """Admit a tool on a live call: its number and what it reads of the call. None for
        an unknown call (or one of another origin); CallHasEnded once it has ended."""
        cached = self._views.get(call_id)
        admitted = await self.db.run_write(_admit_tool, call_id, origin, cached is None)
        if admitted is None:
            return None
        view = cached
        if view is None:
            assert admitted.view is not None
            view = CallerView.model_validate_json(admitted.view)
            self._views[call_id] = view
        booking = Booking(**orjson.loads(admitted.booking)) if admitted.booking else None
        return ToolStart(admitted.seq, call_id, admitted.phone, view, booking, admitted.barge_ins)

    async def finish_tool(
        self,
        call_id: str,
        seq: int,
        result: dict[str, Any],
        *,
        booking: Booking | None = None,
        handover: dict[str, Any] | None = None,
    ) -> None:
        """Keep a tool's result (and what it leaves for the tools after it)."""
        state: dict[str, Any] = {}
        if booking is not None:
            state["booking"] = orjson.dumps(booking.as_json()).decode()
        if handover is not None:
            state["handover"] = orjson.dumps(handover).decode()
        await self.db.run_write(_finish_tool, call_id, seq, orjson.dumps(result).decode(), state)

    # -- the conversation -----------------------------------------------------------------

    async def add_turn(
        self, call_id: str, speaker: str, text: str, at_ms: float | None
    ) -> int | None:
        """Append a turn; the call's turn count. The transcript keeps the newest turns, at
        most ``MAX_TURNS`` of them and ``transcript_chars`` of text: older ones go. None for
        an unknown call. ``at_ms`` None: now, since the call started. An ended call still
        takes turns: what was said as it closed belongs in its transcript."""
        return await self.db.run_write(
            _add_turn, call_id, speaker, text, at_ms, self._wall(), self.transcript_chars
        )

    async def barge_in(self, call_id: str) -> int | None:
        """Count a barge-in; the call's barge-ins so far (None: no such call)."""
        return await self.db.run_write(_barge_in, call_id)

    async def barge_ins(self, call_ids: Sequence[str]) -> dict[str, int]:
        return await self.db.run(_barge_ins, tuple(call_ids))

    async def mark_ended(self, call_id: str) -> bool:
        """The call ended (its outcome is in the outbox); False if it already had."""
        return await self.db.run_write(_mark_ended, call_id, self._wall())

    def ended_with(self, call_id: str) -> Callable[[Connection], None]:
        """Marks the call ended, inside another write of this store's (the outbox's end
        of the call): the two are one transaction."""
        now = self._wall()
        return lambda conn: _ENDED.run(conn, {"call_id": call_id, "now": now}).close()

    async def caller(self, call_id: str, origin: str | None = None) -> CallerView | None:
        """The call's caller view (None: no such call for this origin), read as little as
        this worker needs: the view itself only when it has not parsed it before."""
        cached = self._views.get(call_id)
        found = await self.db.run(_caller, call_id, cached is None)
        if found is None or (origin is not None and found[0] != origin):
            return None
        if cached is None:
            cached = CallerView.model_validate_json(found[1] or "")
            self._views[call_id] = cached
        return cached

    # -- reading --------------------------------------------------------------------------

    async def get(
        self, call_id: str, origin: str | None = None, *, with_history: bool = True
    ) -> CallRecord | None:
        """The call, with its transcript and tool results unless ``with_history`` is False."""
        found = await self.db.run(_get, call_id, origin, with_history)
        if found is None:
            return None
        row, transcript, results = found
        view = self._views.get(call_id)
        if view is None:
            view = CallerView.model_validate_json(row["view"])
            self._views[call_id] = view
        return CallRecord(
            call_id=row["call_id"],
            origin=row["origin"],
            phone=row["phone"],
            started_at=row["started_at"],
            view=view,
            status=row["status"],
            worker=row["worker"],
            booking=Booking(**orjson.loads(row["booking"])) if row["booking"] else None,
            handover=orjson.loads(row["handover"]) if row["handover"] else None,
            transcript=transcript,
            tools=results,
        )

    async def history(self, call_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The call's transcript and its tool results, in order."""
        return await self.db.run(_history, call_id)

    async def exists(self, call_id: str, origin: str | None = None) -> bool:
        return await self.db.run(_exists, call_id, origin)

    async def recent(self, limit: int) -> list[dict[str, Any]]:
        """Summaries of the newest calls, newest first."""
        return await self.db.run(_recent, limit)

    async def count(self) -> int:
        return await self.db.run(_count)

    async def active(self) -> int:
        """Calls started and not ended (abandoned ones included)."""
        return await self.db.run(_active)


# -- in the database's threads ----------------------------------------------------------------

_TURNS = select(func.max(turns.c.n)).where(turns.c.call_id == _CALL)
_INSERT_TURN = insert(turns)
_TURN_SIZES = (
    select(turns.c.n, func.length(turns.c.text))
    .where(turns.c.call_id == _CALL)
    .order_by(turns.c.n.desc())
)
_LOCK_CALL = select(_c.started_at).where(_c.call_id == _CALL).with_for_update()


def _of_origin(row: Any, origin: str | None) -> bool:
    return origin is None or row.origin == origin


_CREATE = Sql("""
    INSERT INTO layer_calls (call_id, origin, phone, customer_id, status, started_at, ended_at,
        view, recommendation, elapsed_ms, degraded, tool_seq, tool_count, booking, handover,
        barge_ins, worker)
    VALUES (:call_id, :origin, :phone, :customer_id, 'active', :started_at, NULL, :view,
        :recommendation, :elapsed_ms, :degraded, 0, 0, NULL, NULL, 0, :worker)
""")
# The tool's number, taken in the statement that admits it (the row is locked meanwhile).
_ADMIT_SQL = Sql("""
    UPDATE layer_calls SET tool_seq = tool_seq + 1 WHERE call_id = :call_id
    RETURNING tool_seq, status, origin, phone, booking, barge_ins
""")
_VIEW_SQL = Sql("SELECT view FROM layer_calls WHERE call_id = :call_id")
_RESULT = Sql(
    "INSERT INTO layer_call_tools (call_id, seq, result) VALUES (:call_id, :seq, :result)"
)
_COUNTED = Sql("UPDATE layer_calls SET tool_count = tool_count + 1 WHERE call_id = :call_id")
_KEEP = {
    key: Sql(f"UPDATE layer_calls SET {key} = :{key} WHERE call_id = :call_id")
    for key in ("booking", "handover")
}
_ENDED = Sql("""
    UPDATE layer_calls SET status = 'ended', ended_at = :now
    WHERE call_id = :call_id AND status = 'active'
""")


def _create(db: Database, record: CallRecord, view_json: str) -> None:
    view = record.view
    row = {
        "call_id": record.call_id,
        "origin": record.origin,
        "phone": record.phone,
        "customer_id": view.customer_id,
        "started_at": record.started_at,
        "view": view_json,
        "recommendation": view.recommendation.action,
        "elapsed_ms": view.elapsed_ms,
        "degraded": orjson.dumps(view.degraded_fields()).decode(),
        "worker": record.worker,
    }
    try:
        with db.write() as conn:
            _CREATE.count(conn, row)
    except db.integrity_errors:
        raise CallExists(record.call_id) from None


class _NotAdmitted(Exception):
    """Rolls the admission back: no such call for this origin."""


def _admit_tool(
    db: Database, call_id: str, origin: str | None, want_view: bool
) -> _Admitted | None:
    key = {"call_id": call_id}
    try:
        with db.write() as conn:
            row = _ADMIT_SQL.one(conn, key)
            if row is None or (origin is not None and row[2] != origin):
                raise _NotAdmitted
            if row[1] != "active":
                raise CallHasEnded(call_id)
            view = _VIEW_SQL.one(conn, key)[0] if want_view else None
    except _NotAdmitted:
        return None
    seq, _, _, phone, booking, barge_ins = row
    return _Admitted(seq, phone, view, booking, barge_ins)


def _finish_tool(
    db: Database, call_id: str, seq: int, result_json: str, state: dict[str, Any]
) -> None:
    with db.write() as conn:
        _RESULT.count(conn, {"call_id": call_id, "seq": seq, "result": result_json})
        _COUNTED.count(conn, {"call_id": call_id})
        for key, value in state.items():
            _KEEP[key].count(conn, {"call_id": call_id, key: value})
        if seq > MAX_TOOL_RESULTS:
            conn.execute(
                delete(tool_results).where(
                    tool_results.c.call_id == call_id,
                    tool_results.c.seq <= seq - MAX_TOOL_RESULTS,
                )
            )


def _add_turn(
    db: Database,
    call_id: str,
    speaker: str,
    text: str,
    at_ms: float | None,
    now: float,
    max_chars: int,
) -> int | None:
    with db.write() as conn:
        # The call's row, locked: turns of one call added at once (on PostgreSQL, by two
        # workers) take numbers one after the other, never the same one.
        found = conn.execute(_LOCK_CALL, {"the_call": call_id}).first()
        if found is None:
            return None
        n = int(conn.execute(_TURNS, {"the_call": call_id}).scalar() or 0) + 1
        if at_ms is None:
            at_ms = round(max(0.0, now - found.started_at) * 1000, 1)
        turn = {"call_id": call_id, "n": n, "speaker": speaker, "text": text, "at_ms": at_ms}
        conn.execute(_INSERT_TURN, turn)
        oldest_kept = n - MAX_TURNS + 1
        sizes = conn.execute(_TURN_SIZES, {"the_call": call_id}).all()
        if sum(size for _, size in sizes) > max_chars:
            kept = 0
            for number, size in sizes:  # newest first
                kept += size
                if kept > max_chars:
                    oldest_kept = min(n, max(oldest_kept, number + 1))  # keep this one
                    break
        if oldest_kept > 1:
            conn.execute(delete(turns).where(turns.c.call_id == call_id, turns.c.n < oldest_kept))
        return int(
            conn.execute(select(func.count()).where(turns.c.call_id == call_id)).scalar_one()
        )


def _barge_in(db: Database, call_id: str) -> int | None:
    with db.write() as conn:
        return conn.execute(
            update(calls)
            .where(_c.call_id == call_id)
            .values(barge_ins=_c.barge_ins + 1)
            .returning(_c.barge_ins)
        ).scalar()


def _barge_ins(db: Database, call_ids: tuple[str, ...]) -> dict[str, int]:
    with db.read() as conn:
        rows = conn.execute(select(_c.call_id, _c.barge_ins).where(_c.call_id.in_(call_ids)))
        return {call_id: int(n) for call_id, n in rows}


def _mark_ended(db: Database, call_id: str, now: float) -> bool:
    with db.write() as conn:
        return _ENDED.count(conn, {"call_id": call_id, "now": now}) == 1


def _get(
    db: Database, call_id: str, origin: str | None, with_history: bool
) -> tuple[Any, list[dict[str, Any]], list[dict[str, Any]]] | None:
    with db.read() as conn:
        row = conn.execute(select(calls).where(_c.call_id == call_id)).first()
        if row is None or not _of_origin(row, origin):
            return None
        if not with_history:
            return row._mapping, [], []
        return (row._mapping, *_conversation(conn, call_id))


def _history(db: Database, call_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    with db.read() as conn:
        return _conversation(conn, call_id)


def _conversation(conn: Any, call_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    said = conn.execute(
        select(turns.c.speaker, turns.c.text, turns.c.at_ms)
        .where(turns.c.call_id == call_id)
        .order_by(turns.c.n)
    )
    transcript = [{"speaker": s, "text": t, "at_ms": at} for s, t, at in said]
    results = conn.execute(
        select(tool_results.c.result)
        .where(tool_results.c.call_id == call_id)
        .order_by(tool_results.c.seq)
    ).scalars()
    return transcript, [orjson.loads(r) for r in results]


_ORIGIN = Sql("SELECT origin FROM layer_calls WHERE call_id = :call_id")
_ORIGIN_AND_VIEW = Sql("SELECT origin, view FROM layer_calls WHERE call_id = :call_id")


def _caller(db: Database, call_id: str, with_view: bool) -> tuple[str, str | None] | None:
    with db.read() as conn:
        row = (_ORIGIN_AND_VIEW if with_view else _ORIGIN).one(conn, {"call_id": call_id})
    if row is None:
        return None
    return row[0], row[1] if with_view else None


def _exists(db: Database, call_id: str, origin: str | None) -> bool:
    with db.read() as conn:
        row = _ORIGIN.one(conn, {"call_id": call_id})
    return row is not None and (origin is None or row[0] == origin)


def _recent(db: Database, limit: int) -> list[dict[str, Any]]:
    query = (
        select(
            _c.call_id,
            _c.phone,
            _c.status,
            _c.started_at,
            _c.customer_id,
            _c.recommendation,
            _c.elapsed_ms,
            _c.degraded,
            _c.tool_count,
            _c.handover.is_not(None).label("escalated"),
        )
        .order_by(_c.started_at.desc(), _c.call_id)
        .limit(limit)
    )
    with db.read() as conn:
        rows = conn.execute(query).all()
    return [
        {
            "call_id": r.call_id,
            "phone": r.phone,
            "status": r.status,
            "started_at": iso_time(r.started_at),
            "customer_id": r.customer_id,
            "recommendation": r.recommendation,
            "elapsed_ms": r.elapsed_ms,
            "degraded": orjson.loads(r.degraded),
            "tools": r.tool_count,
            "escalated": bool(r.escalated),
        }
        for r in rows
    ]


def _active(db: Database) -> int:
    query = select(func.count()).select_from(calls).where(_c.status == "active")
    with db.read() as conn:
        return int(conn.execute(query).scalar() or 0)


def _count(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(calls)).scalar() or 0)
