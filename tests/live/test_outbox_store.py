"""The outbox store on real databases, SQLite and PostgreSQL: one transaction per call's
end, exclusive leases fenced on their owner, dependencies, dead letters and replay, and no
card in clear."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from integration.outbox.deliveries import AFTER_DELIVERY
from integration.outbox.model import EffectSpec
from integration.outbox.outcome import CallOutcome, outcome_fingerprint, redacted_outcome
from integration.outbox.plan import plan_effects
from integration.outbox.store import EndResult, OutboxStore
from integration.outbox.vault import CardVault, ManualPaymentIn
from integration.store.database import Database
from loadtests.stack.postgres import PostgresServer
from tests._support.clocks import ManualClock
from tests._support.stores import count, execute, is_sqlite, scalar

ALL = {"calendar": 50, "messaging": 50, "analytics": 50, "crm": 50, "payments": 50}


def spec(name: str, system: str, *deps: str, **payload: Any) -> EffectSpec:
    return EffectSpec(name, system, f"{system}.do", payload or {"n": name}, tuple(deps))


SPECS = (
    spec("booking", "calendar"),
    spec("message_1", "messaging", "booking"),
    spec("analytics", "analytics"),
)


async def end(
    store: OutboxStore,
    call_id: str,
    specs: tuple[EffectSpec, ...] = SPECS,
    fp: str = "fp-1",
    manual: ManualPaymentIn | None = None,
) -> EndResult:
    return await store.end_call(
        call_id,
        phone="+14155550100",
        customer_id="C1",
        fingerprint=fp,
        outcome_json={"disposition": "resolved"},
        effects=specs,
        manual_payment=manual,
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_000.0)


@pytest.fixture
def url(store_url: str) -> str:
    return store_url


@pytest.fixture
async def store(url: str, clock: ManualClock) -> AsyncIterator[OutboxStore]:
    opened = OutboxStore(Database(url), wall_clock=clock)
    await opened.start()
    yield opened
    await opened.db.aclose()


# -- ending a call --------------------------------------------------------------------------


async def test_end_call_writes_the_call_and_its_effects_together(
    store: OutboxStore, url: str
) -> None:
    result = await end(store, "call-1")
    assert result.created and not result.conflict and result.manual_payment is None
    names = [e.name for e in result.effects]
    assert names == ["booking", "message_1", "analytics"]
    first = result.effects[0]
    assert first.idempotency_key == "sb:call-1:booking"
    assert (first.status, first.attempts, first.created_at, first.next_attempt_at) == (
        "pending",
        0,
        1_000.0,
        1_000.0,
    )
    assert result.effects[1].depends_on == ("booking",)
    assert count(url, "outbox_effect_deps") == 1
    call = await store.call("call-1")
    assert call is not None and call["outcome"] == {"disposition": "resolved"}
    assert call["fingerprint"] == "fp-1" and call["phone"] == "+14155550100"
    assert await store.call("nope") is None
    if is_sqlite(url):
        assert scalar(url, "pragma journal_mode") == "wal"


async def test_the_same_call_again_returns_its_effects_and_flags_another_outcome(
    store: OutboxStore, url: str
) -> None:
    first = await end(store, "call-1")
    again = await end(store, "call-1")
    assert not again.created and not again.conflict
    assert [e.id for e in again.effects] == [e.id for e in first.effects]
    other = await end(store, "call-1", fp="fp-2", specs=(spec("slack", "slack"),))
    assert not other.created and other.conflict
    assert [e.id for e in other.effects] == [e.id for e in first.effects]
    assert count(url, "outbox_effects") == 3 and count(url, "outbox_calls") == 1


async def test_a_failure_inside_the_transaction_leaves_nothing_behind(
    store: OutboxStore, url: str
) -> None:
    # The last insert of the transaction fails in the database itself.
    for statement in _REFUSE_MANUAL_PAYMENTS["sqlite" if is_sqlite(url) else "postgres"]:
        execute(url, statement)
    manual = ManualPaymentIn("call-1", "token", "4242", "visa", 500, "usd")
    with pytest.raises((DBAPIError, sqlite3.Error, psycopg.Error), match="disk says no"):
        await end(store, "call-1", manual=manual)
    for table in ("outbox_calls", "outbox_effects", "outbox_effect_deps", "outbox_manual_payments"):
        assert count(url, table) == 0, table
    on_table = "" if is_sqlite(url) else " on outbox_manual_payments"
    execute(url, f"drop trigger no_manual{on_table}")
    result = await end(store, "call-1", manual=manual)
    assert result.created and result.manual_payment is not None
    assert result.manual_payment["last4"] == "4242" and "token" not in result.manual_payment


_REFUSE_MANUAL_PAYMENTS = {
    "sqlite": [
        "create trigger no_manual before insert on outbox_manual_payments "
        "begin select raise(abort, 'disk says no'); end",
    ],
    "postgres": [
        "create function disk_says_no() returns trigger language plpgsql as "
        "$$ begin raise exception 'disk says no'; end $$",
        "create trigger no_manual before insert on outbox_manual_payments "
        "for each row execute function disk_says_no()",
    ],
}


@pytest.mark.parametrize(
    "specs",
    [
        (spec("a", "crm"), spec("a", "crm")),
        (spec("a", "crm", "ghost"),),
        (spec("a", "crm", "b"), spec("b", "crm", "a")),
    ],
    ids=["repeated-name", "unknown-dependency", "cycle"],
)
async def test_effects_that_could_never_be_delivered_are_refused(
    store: OutboxStore, url: str, specs: tuple[EffectSpec, ...]
) -> None:
    with pytest.raises(ValueError):
        await end(store, "call-1", specs=specs)
    assert count(url, "outbox_calls") == 0


async def test_concurrent_ends_of_one_call_create_one_set_of_effects(
    url: str, clock: ManualClock
) -> None:
    stores = [OutboxStore(Database(url), wall_clock=clock) for _ in range(2)]
    for s in stores:
        await s.start()
    try:
        for n in range(5):
            call_id = f"call-{n}"
            results = await asyncio.gather(*(end(s, call_id) for s in stores for _ in range(4)))
            assert sum(r.created for r in results) == 1
            assert not any(r.conflict for r in results)
            assert len({tuple(e.id for e in r.effects) for r in results}) == 1
    finally:
        for s in stores:
            await s.db.aclose()
    assert count(url, "outbox_calls") == 5 and count(url, "outbox_effects") == 15


# -- claiming -------------------------------------------------------------------------------


def test_two_dispatchers_racing_over_one_store_never_share_an_effect(url: str) -> None:
    specs = tuple(spec(f"e{i}", ("crm", "calendar", "analytics")[i % 3]) for i in range(30))

    async def fill() -> list[int]:
        store = OutboxStore(Database(url))
        await store.start()
        try:
            ids: list[int] = []
            for n in range(8):
                ids += [e.id for e in (await end(store, f"call-{n}", specs)).effects]
            return ids
        finally:
            await store.db.aclose()

    every = asyncio.run(fill())
    claimed: dict[str, list[int]] = {"A": [], "B": []}
    start = threading.Barrier(2)

    def dispatcher(owner: str) -> None:
        async def run() -> None:
            store = OutboxStore(Database(url))  # its own engine and threads, as another process
            await store.start()
            try:
                start.wait()
                limits = {"crm": 3, "calendar": 2, "analytics": 4}
                while rows := await store.claim(owner, limits=limits, lease_s=300):
                    claimed[owner] += [r.id for r in rows]
                    assert all(r.lease_owner == owner for r in rows)
                    # A real dispatcher delivers between claims; without a pause, one tight
                    # loop could take everything before the other starts.
                    await asyncio.sleep(0.005)
            finally:
                await store.db.aclose()

        asyncio.run(run())

    threads = [threading.Thread(target=dispatcher, args=(o,)) for o in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    both = claimed["A"] + claimed["B"]
    assert sorted(both) == sorted(every)  # each effect claimed exactly once
    assert claimed["A"] and claimed["B"]  # and both really took part
    owners = _owners(url)
    assert all(owners[i] == o for o, ids in claimed.items() for i in ids)


def _owners(url: str) -> dict[int, str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(text("select id, lease_owner from outbox_effects")).all())
    finally:
        engine.dispose()


async def test_claim_respects_each_systems_limit(store: OutboxStore) -> None:
    await end(store, "call-1", tuple(spec(f"c{i}", "crm") for i in range(5)))
    assert await store.due_counts() == {"crm": 5}
    rows = await store.claim("A", limits={"crm": 2, "slack": 9}, lease_s=30)
    assert [r.name for r in rows] == ["c0", "c1"]
    assert await store.due_counts() == {"crm": 3}
    assert await store.claim("A", limits={"calendar": 5, "crm": 0}, lease_s=30) == []


async def test_an_expired_lease_moves_on_and_fences_its_old_owner(
    store: OutboxStore, clock: ManualClock
) -> None:
    await end(store, "call-1", (spec("a", "crm"),))
    [row] = await store.claim("A", limits={"crm": 5}, lease_s=30)
    assert (await store.get(row.id)).view(clock.now)["status"] == "in_flight"  # type: ignore[union-attr]
    clock.advance(29)
    assert await store.claim("B", limits={"crm": 5}, lease_s=30) == []  # A still holds it
    clock.advance(2)
    [again] = await store.claim("B", limits={"crm": 5}, lease_s=30)
    assert again.id == row.id and again.lease_owner == "B"
    assert not await store.mark_delivered(row, "A", {"late": True})
    assert not await store.mark_retry(row.id, "A", error="x", next_attempt_at=clock.now)
    assert await store.mark_dead(row.id, "A", error="x", reason="rejected") == []
    assert await store.mark_delivered(row, "B", {"id": "00T1"})
    done = await store.get(row.id)
    assert done is not None and done.status == "delivered" and done.result == {"id": "00T1"}
    assert done.lease_owner is None and done.attempts == 1 and done.delivered_at == clock.now
    assert not await store.mark_delivered(row, "B", {})  # a verdict is given once


async def test_retries_wait_their_time_and_count_attempts_only_when_asked(
    store: OutboxStore, clock: ManualClock
) -> None:
    await end(store, "call-1", (spec("a", "crm"),))
    [row] = await store.claim("A", limits={"crm": 1}, lease_s=30)
    assert await store.mark_retry(row.id, "A", error="timeout", next_attempt_at=clock.now + 10)
    assert await store.claim("A", limits={"crm": 1}, lease_s=30) == []
    clock.advance(10)
    [row] = await store.claim("A", limits={"crm": 1}, lease_s=30)
    assert row.attempts == 1 and row.last_error == "timeout"
    await store.mark_retry(
        row.id, "A", error="breaker", next_attempt_at=clock.now, count_attempt=False
    )
    [row] = await store.claim("B", limits={"crm": 1}, lease_s=30)
    assert row.attempts == 1


async def test_released_leases_are_due_again_at_once(store: OutboxStore) -> None:
    await end(store, "call-1", (spec("a", "crm"), spec("b", "crm")))
    await store.claim("A", limits={"crm": 5}, lease_s=300)
    assert await store.due_counts() == {}
    assert await store.release_leases("B") == 0
    assert await store.release_leases("A") == 2
    assert await store.due_counts() == {"crm": 2}


# -- dependencies, dead letters and replay --------------------------------------------------


async def test_a_dependent_waits_until_its_dependency_is_delivered(store: OutboxStore) -> None:
    await end(store, "call-1")
    assert await store.due_counts() == {"calendar": 1, "analytics": 1}
    rows = await store.claim("A", limits=ALL, lease_s=30)
    assert sorted(r.name for r in rows) == ["analytics", "booking"]
    booking = next(r for r in rows if r.name == "booking")
    assert await store.results_for("call-1", ["booking"]) == {}
    await store.mark_retry(booking.id, "A", error="503", next_attempt_at=0)
    assert "messaging" not in await store.due_counts()  # retrying is not delivered
    [booking] = await store.claim("A", limits={"calendar": 1}, lease_s=30)
    await store.mark_delivered(booking, "A", {"id": "evt_1", "start": "2030-05-01T15:00:00Z"})
    assert await store.due_counts() == {"messaging": 1}
    [message] = await store.claim("A", limits=ALL, lease_s=30)
    assert message.name == "message_1"
    results = await store.results_for("call-1", message.depends_on)
    assert results == {"booking": {"id": "evt_1", "start": "2030-05-01T15:00:00Z"}}


async def test_a_dead_effect_takes_its_dependents_along_and_replay_brings_them_back(
    store: OutboxStore, clock: ManualClock
) -> None:
    chain = (
        spec("booking", "calendar"),
        spec("message_1", "messaging", "booking"),
        spec("follow_up", "crm", "message_1"),  # transitively dependent
        spec("analytics", "analytics"),
    )
    ids = {e.name: e.id for e in (await end(store, "call-1", chain)).effects}
    [booking] = await store.claim("A", limits={"calendar": 1}, lease_s=30)
    await store.mark_retry(booking.id, "A", error="503", next_attempt_at=clock.now)
    [booking] = await store.claim("A", limits={"calendar": 1}, lease_s=30)
    dead = await store.mark_dead(booking.id, "A", error="409 slot taken", reason="rejected")
    assert dead == [ids["booking"], ids["message_1"], ids["follow_up"]]
    gone = {r.name: r for r in await store.effects(status="dead")}
    assert set(gone) == {"booking", "message_1", "follow_up"}
    assert gone["booking"].dead_reason == "rejected" and gone["booking"].attempts == 2
    assert gone["follow_up"].dead_reason == "dependency_dead"
    assert "booking" in (gone["follow_up"].last_error or "")
    assert (await store.get(ids["analytics"])).status == "pending"  # type: ignore[union-attr]

    with pytest.raises(ValueError, match="not dead"):
        await store.replay(ids["analytics"])
    with pytest.raises(KeyError):
        await store.replay(99_999)
    clock.advance(60)
    replayed = await store.replay(ids["booking"])
    assert replayed == [ids["booking"], ids["message_1"], ids["follow_up"]]
    back = await store.get(ids["booking"])
    assert back is not None and back.status == "pending" and back.attempts == 0
    assert back.next_attempt_at == clock.now and back.dead_reason is None
    assert back.last_error == "409 slot taken"  # kept as history
    assert await store.due_counts() == {"calendar": 1, "analytics": 1}
    with pytest.raises(ValueError):
        await store.replay(ids["booking"])


async def test_replay_leaves_a_dependent_whose_other_dependency_is_still_dead(
    store: OutboxStore,
) -> None:
    specs = (spec("a", "crm"), spec("b", "slack"), spec("c", "messaging", "a", "b"))
    ids = {e.name: e.id for e in (await end(store, "call-1", specs)).effects}
    rows = await store.claim("A", limits={"crm": 1, "slack": 1}, lease_s=30)
    for row in rows:
        await store.mark_dead(row.id, "A", error="no", reason="rejected")
    assert await store.replay(ids["a"]) == [ids["a"]]  # c still waits on dead b
    assert (await store.get(ids["c"])).status == "dead"  # type: ignore[union-attr]
    assert await store.replay_system("slack") == [ids["b"], ids["c"]]
    assert await store.replay_system("slack") == []


async def test_replaying_a_system_revives_its_dead_letters_and_their_casualties(
    store: OutboxStore,
) -> None:
    for n in range(3):
        await end(store, f"call-{n}")
    for row in await store.claim("A", limits={"calendar": 5}, lease_s=30):
        await store.mark_dead(row.id, "A", error="down", reason="max_attempts")
    assert len(await store.effects(status="dead")) == 6
    replayed = await store.replay_system("calendar")
    assert len(replayed) == 6
    assert await store.effects(status="dead") == []


async def test_a_superseded_dead_letter_never_replays(store: OutboxStore) -> None:
    await end(store, "call-1")
    first, *_ = await store.claim("A", limits={"calendar": 5}, lease_s=30)
    await store.mark_dead(first.id, "A", error="down", reason="max_attempts")
    assert await store.supersede(first.id)
    with pytest.raises(ValueError, match="manual processing"):
        await store.replay(first.id)
    assert first.id not in await store.replay_system("calendar")
    assert (await store.get(first.id)).dead_reason == "superseded"  # type: ignore[union-attr]
    assert not await store.supersede(10_000)  # nothing dead by that id


# -- reading --------------------------------------------------------------------------------


async def test_stats_count_by_shown_status_with_the_oldest_pending_age(
    store: OutboxStore, clock: ManualClock
) -> None:
    empty = await store.stats()
    assert (
        empty["pending"] == 0 and empty["oldest_pending_age_s"] is None and empty["systems"] == {}
    )
    await end(store, "call-1")  # at 1000
    clock.advance(10)
    await end(store, "call-2")  # at 1010
    [first] = await store.claim("A", limits={"analytics": 1}, lease_s=300)
    [booking] = await store.claim("A", limits={"calendar": 1}, lease_s=300)
    await store.mark_delivered(booking, "A", {"id": "evt"})
    clock.advance(20)
    stats = await store.stats()
    assert {k: stats[k] for k in ("pending", "in_flight", "delivered", "dead")} == {
        "pending": 4,
        "in_flight": 1,
        "delivered": 1,
        "dead": 0,
    }
    assert stats["oldest_pending_age_s"] == 30.0
    assert stats["systems"]["analytics"] == {
        "pending": 1,
        "in_flight": 1,
        "delivered": 0,
        "dead": 0,
        "oldest_pending_age_s": 30.0,
    }
    assert stats["systems"]["calendar"]["delivered"] == 1
    assert stats["systems"]["calendar"]["oldest_pending_age_s"] == 20.0
    assert first.call_id == "call-1"


async def test_effects_are_listed_newest_first_with_filters(store: OutboxStore) -> None:
    await end(store, "call-1")
    await end(store, "call-2")
    everything = await store.effects()
    assert [e.id for e in everything] == sorted((e.id for e in everything), reverse=True)
    assert len(await store.effects(limit=2)) == 2
    mine = await store.effects(call_id="call-1", system="calendar")
    assert [(e.call_id, e.name) for e in mine] == [("call-1", "booking")]
    await store.claim("A", limits={"analytics": 1}, lease_s=30)
    assert len(await store.effects(status="in_flight")) == 1
    assert len(await store.effects(status="pending")) == 5
    with pytest.raises(ValueError):
        await store.effects(status="lost")
    assert await store.get(99_999) is None


# -- card data ------------------------------------------------------------------------------


async def test_no_card_number_reaches_the_database_files(
    store: OutboxStore, url: str, request: pytest.FixtureRequest
) -> None:
    vault = CardVault(Fernet.generate_key())
    cards = {
        "manual": ("4242 4242 4242 4242", "4242424242424242"),
        "live": ("5555-5555-5555-4444", "5555555555554444"),
    }
    for how, (number, _) in cards.items():
        body = {
            "payment": {
                "amount": 1250,
                "manual": how == "manual",
                "card": {"number": number, "exp_month": 4, "exp_year": 2032},
            },
            "summary": f"card payment ({how})",
        }
        outcome = CallOutcome.model_validate(body)
        plan = plan_effects(
            f"call-{how}",
            outcome,
            phone="+14155550100",
            customer_id="C1",
            contact_id="003A",
            vault=vault,
        )
        await store.end_call(
            f"call-{how}",
            phone="+14155550100",
            customer_id="C1",
            fingerprint=outcome_fingerprint(outcome),
            outcome_json=redacted_outcome(outcome),
            effects=plan.effects,
            manual_payment=plan.manual_payment,
        )
    [charge] = await store.claim("A", limits={"payments": 1}, lease_s=30)
    assert vault.open(charge.payload["card_sealed"])["number"] == "5555555555554444"
    await store.mark_delivered(
        charge, "A", {"id": "pi_1", "last4": "4444"}, AFTER_DELIVERY["payments.charge"]
    )
    delivered = await store.get(charge.id)
    assert delivered is not None and delivered.payload["card_sealed"] is None  # not kept

    [payment] = await store.manual_payments()
    assert set(payment) == {
        "id",
        "call_id",
        "last4",
        "brand",
        "amount",
        "currency",
        "status",
        "created_at",
    }
    assert (payment["last4"], payment["brand"], payment["status"]) == ("4242", "visa", "pending")

    if is_sqlite(url):
        path = Path(url.removeprefix("sqlite:///"))
        folder, prefix = path.parent, path.name
    else:  # every file of the server's cluster: tables, indexes, the write-ahead log
        server: PostgresServer = request.getfixturevalue("postgres")
        execute(url, "CHECKPOINT")
        folder, prefix = server.data_dir, ""

    def files() -> dict[str, bytes]:
        return {
            str(p): p.read_bytes()
            for p in folder.rglob("*")
            if p.is_file() and p.name.startswith(prefix)
        }

    def assert_no_card(found: dict[str, bytes]) -> None:
        for number, digits in cards.values():
            for needle in (digits, number, digits[-12:]):
                for encoded in (needle.encode(), needle.encode("utf-16-le")):
                    assert not [name for name, data in found.items() if encoded in data], needle
        assert b"4242" in b"".join(found.values())  # last4 is there: the search does find things

    open_files = files()
    wal = "-wal" if is_sqlite(url) else "pg_wal/"
    assert any(wal in name for name in open_files)  # the write-ahead log is searched as well
    assert_no_card(open_files)
    await store.db.aclose()  # on SQLite, a checkpoint moves the WAL into the main file
    assert_no_card(files())


async def test_a_bad_synchronous_level_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="synchronous"):
        Database(f"sqlite:///{tmp_path / 'o.db'}", synchronous="SOMETIMES")
    store = OutboxStore(Database(f"sqlite:///{tmp_path / 'o.db'}"))
    with pytest.raises(RuntimeError):  # used before start()
        await store.stats()


async def test_acknowledged_writes_wait_for_the_disk_and_bookkeeping_does_not(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'o.db'}", synchronous="FULL", busy_timeout_ms=500)
    levels = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}

    def level(db: Database) -> str:
        with db.write() as conn:
            return levels[conn.exec_driver_sql("PRAGMA synchronous").scalar_one()]

    await db.start()
    try:
        # In either order, on the same pooled connection: each batch gets its own level.
        found = [await db.run_write(level, durable=durable) for durable in (True, False) * 2]
        assert found == ["FULL", "NORMAL", "FULL", "NORMAL"]
        # Writes waiting together share one commit, at the level the most demanding needs.
        together = await asyncio.gather(*(db.run_write(level, durable=n == 5) for n in range(20)))
        assert together.count("FULL") >= 1 and db.batches < 2 + 20
    finally:
        await db.aclose()


async def test_one_write_failing_in_a_batch_takes_nothing_else_with_it(store_url: str) -> None:
    db = Database(store_url)
    await db.start()
    try:
        await db.run_write(lambda d: _execute(d, "create table t (n integer primary key)"))
        writes = [
            db.run_write(lambda d, n=n: _execute(d, f"insert into t values ({n % 7})"))
            for n in range(14)
        ]
        done = await asyncio.gather(*writes, return_exceptions=True)
        assert sum(isinstance(d, IntegrityError) for d in done) == 7  # each repeat refused
        assert count(store_url, "t") == 7  # and every first one kept
    finally:
        await db.aclose()


def _execute(db: Database, sql: str) -> None:
    with db.write() as conn:
        conn.execute(text(sql))


async def test_a_calls_effects_are_found_by_name_and_retries_are_seen_per_system(
    store: OutboxStore, clock: ManualClock
) -> None:
    await end(store, "call-1")
    await end(store, "call-2", (spec("charge", "payments"),), fp="fp-2")
    assert sorted(await store.names("call-1")) == ["analytics", "booking", "message_1"]
    assert await store.names("call-3") == []
    booking = await store.named("call-1", "booking")
    assert booking is not None and booking.system == "calendar" and booking.call_id == "call-1"
    assert await store.named("call-2", "booking") is None  # names belong to their call

    assert not await store.retrying("payments")  # pending, never tried: not a retry
    [charge] = await store.claim("A", limits={"payments": 1}, lease_s=30)
    assert await store.mark_retry(charge.id, "A", error="HTTP 503", next_attempt_at=clock.now + 5)
    assert await store.retrying("payments")
    assert not await store.retrying("calendar")
    assert await store.mark_delivered(charge, "A", {"id": "pi_1"}) is False  # lease gone
    clock.advance(5)
    [again] = await store.claim("A", limits={"payments": 1}, lease_s=30)
    assert await store.mark_delivered(again, "A", {"id": "pi_1"})
    assert not await store.retrying("payments")  # delivered at last
