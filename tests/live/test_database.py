"""The core-banking database: seeded from the dataset, read with SQL, broken for real."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, delete, func, insert, select, text, update
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.pool import NullPool

from app.serving import serve_in_thread
from mocks.database.schema import accounts, customers, transactions
from mocks.dataset import Dataset
from mocks.registry import MockEnterprise, build_enterprise
from mocks.settings import MockSettings
from tests.conftest import CHAOS_TOKEN


@pytest.fixture
def database_url(enterprise: MockEnterprise) -> str:
    if "database" not in enterprise.services:
        pytest.skip("the database system is not served (SWITCHBOARD_TEST_SYSTEMS)")
    return enterprise.context.settings.resolved_database_url


@pytest.fixture
def dataset(enterprise: MockEnterprise) -> Dataset:
    return enterprise.context.dataset


def _engine(url: str, busy_timeout_ms: int) -> Engine:
    # One connection per query, as the mock tells its readers to do.
    return create_engine(url, poolclass=NullPool, connect_args={"timeout": busy_timeout_ms / 1000})


@pytest.fixture
def impatient(database_url: str) -> Iterator[Engine]:
    """A reader that gives up after 100 ms of waiting for a lock."""
    engine = _engine(database_url, 100)
    yield engine
    engine.dispose()


@pytest.fixture
def patient(database_url: str) -> Iterator[Engine]:
    engine = _engine(database_url, 5000)
    yield engine
    engine.dispose()


def _count_customers(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(customers)).scalar_one()


def _wait_until_released(control: httpx.Client, limit_s: float = 5.0) -> None:
    deadline = time.monotonic() + limit_s
    while control.get("/_chaos/database").json()["faults"]:
        assert time.monotonic() < deadline, "the fault outlived its seconds"
        time.sleep(0.05)


# -- seeding --------------------------------------------------------------------------


def test_seeded_counts_match_the_dataset(
    client: httpx.Client, dataset: Dataset, database_url: str
) -> None:
    info = client.get("/database/").json()
    assert info["tables"] == {
        "customers": len(dataset.customers),
        "accounts": len(dataset.bank_accounts),
        "transactions": len(dataset.transactions),
        "products": len(dataset.products),
    }
    assert info["dialect"] == "sqlite"
    assert info["journal_mode"] == "delete"
    assert info["dataset"]["seed"] == dataset.seed
    assert client.get("/database/health").json()["status"] == "ok"


def test_a_customer_read_by_phone_matches_the_dataset(patient: Engine, dataset: Dataset) -> None:
    person = dataset.customers[7]
    with patient.connect() as conn:
        row = (
            conn.execute(select(customers).where(customers.c.phone_e164 == person.phone_e164))
            .mappings()
            .one()
        )
        held = (
            conn.execute(select(accounts).where(accounts.c.customer_id == person.customer_id))
            .mappings()
            .all()
        )
    assert dict(row) == {
        "customer_id": person.customer_id,
        "phone_e164": person.phone_e164,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "segment": person.segment,
    }
    expected = {a.account_number: a for a in dataset.bank_accounts_for_customer(person.customer_id)}
    assert {r["account_number"] for r in held} == set(expected)
    for r in held:
        seeded = expected[r["account_number"]]
        assert (r["balance_cents"], r["status"], r["opened_at"]) == (
            seeded.balance_cents,
            seeded.status,
            seeded.opened_at,
        )


def test_reset_puts_back_rows_changed_with_sql(
    control: httpx.Client, patient: Engine, dataset: Dataset
) -> None:
    account = dataset.bank_accounts[3]
    gone = dataset.customers[0]
    with patient.begin() as conn:
        conn.execute(
            update(accounts)
            .where(accounts.c.account_number == account.account_number)
            .values(balance_cents=account.balance_cents - 12_345, status="frozen")
        )
        conn.execute(delete(customers).where(customers.c.customer_id == gone.customer_id))
        conn.execute(
            insert(transactions).values(
                txn_id="TXN-WRITTEN-BY-TEST",
                account_number=account.account_number,
                posted_at=dataset.reference_now,
                amount_cents=-12_345,
                description="test",
                category="transfer",
            )
        )
    control.post("/_mock/database/reset").raise_for_status()
    with patient.connect() as conn:
        restored = conn.execute(
            select(accounts.c.balance_cents, accounts.c.status).where(
                accounts.c.account_number == account.account_number
            )
        ).one()
        back = conn.execute(
            select(customers.c.phone_e164).where(customers.c.customer_id == gone.customer_id)
        ).scalar_one()
        extra = conn.execute(
            text("SELECT count(*) FROM transactions WHERE txn_id = :id"),
            {"id": "TXN-WRITTEN-BY-TEST"},
        )
        assert extra.scalar_one() == 0
    assert tuple(restored) == (account.balance_cents, account.status)
    assert back == gone.phone_e164


def _serve_database(state_dir: Path, seed: int) -> dict[str, Any]:
    settings = MockSettings(
        port=0, customers=30, seed=seed, state_dir=state_dir, chaos_token=CHAOS_TOKEN
    )
    handle = serve_in_thread(build_enterprise(settings, only=["database"]).app)
    try:
        info: dict[str, Any] = httpx.get(f"{handle.url}/database/", timeout=10.0).json()
        return info
    finally:
        handle.stop()


def test_a_restart_keeps_the_file_and_a_new_seed_reseeds(tmp_path: Path) -> None:
    first = _serve_database(tmp_path, seed=5)
    again = _serve_database(tmp_path, seed=5)
    other = _serve_database(tmp_path, seed=6)
    assert (tmp_path / "enterprise.db").exists()
    assert first["seeded_on_start"] is True
    assert again["seeded_on_start"] is False
    assert again["dataset"]["seeded_at"] == first["dataset"]["seeded_at"]
    assert other["seeded_on_start"] is True
    assert (other["dataset"]["seed"], other["tables"]["customers"]) == (6, 30)
    assert other["dataset"]["fingerprint"] != first["dataset"]["fingerprint"]


# -- chaos ----------------------------------------------------------------------------


def test_a_lock_makes_impatient_readers_fail_until_it_ends(
    control: httpx.Client, impatient: Engine
) -> None:
    assert _count_customers(impatient) > 0
    started = control.post("/_chaos/database/lock", json={"seconds": 1})
    assert started.status_code == 200, started.text
    assert started.json()["kind"] == "lock"
    with pytest.raises(OperationalError, match="locked"):
        _count_customers(impatient)
    active = control.get("/_chaos/database").json()["faults"]
    assert [f["kind"] for f in active] == ["lock"] and 0 < active[0]["remaining_s"] <= 1
    _wait_until_released(control)
    assert _count_customers(impatient) > 0
    faults = control.get("/_chaos/stats").json()["systems"]["database"]["faults_by_kind"]
    assert faults == {"lock": 1}


def test_an_outage_fails_new_connections_and_then_recovers(
    control: httpx.Client, client: httpx.Client, patient: Engine, dataset: Dataset
) -> None:
    with patient.connect() as already_open:
        already_open.execute(text("SELECT 1 FROM customers LIMIT 1")).all()
        control.post("/_chaos/database/outage", json={"seconds": 1}).raise_for_status()
        with pytest.raises(DatabaseError, match="file is not a database"):
            _count_customers(patient)
        # A connection opened before the outage still reads the real file.
        kept = already_open.execute(select(func.count()).select_from(customers)).scalar_one()
        assert kept == len(dataset.customers)
    health = client.get("/database/health")
    assert health.status_code == 503
    assert "not a database" in health.json()["error"]["message"]
    _wait_until_released(control)
    assert _count_customers(patient) == len(dataset.customers)
    assert client.get("/database/health").status_code == 200


def _query_ms(engine: Engine) -> float:
    started = time.perf_counter()
    _count_customers(engine)
    return (time.perf_counter() - started) * 1000


def test_slow_makes_queries_measurably_slower(control: httpx.Client, patient: Engine) -> None:
    # Queries back to back would fall into step with the holds (each one released at the
    # end of a hold, the next landing in the gap); a pause of a random part of the cycle
    # before each one samples the cycle evenly.
    pauses = random.Random(11)

    def sampled_ms() -> float:
        time.sleep(pauses.uniform(0, 0.1))
        return _query_ms(patient)

    calm = statistics.mean(sampled_ms() for _ in range(12))
    body = {"seconds": 5, "hold_ms": 80, "every_ms": 100}
    control.post("/_chaos/database/slow", json=body).raise_for_status()
    slowed = statistics.mean(sampled_ms() for _ in range(12))
    control.delete("/_chaos/database").raise_for_status()
    # Four fifths of queries land inside an 80 ms hold and wait out the rest of it: 32 ms
    # on average.
    assert slowed > calm + 15, (calm, slowed)


def test_delete_and_reset_release_faults_at_once(control: httpx.Client, impatient: Engine) -> None:
    control.post("/_chaos/database/lock", json={"seconds": 60}).raise_for_status()
    released = control.delete("/_chaos/database").json()
    assert released["released"] == 1
    assert _count_customers(impatient) > 0
    control.post("/_chaos/database/lock", json={"seconds": 60}).raise_for_status()
    control.post("/_mock/reset").raise_for_status()
    assert control.get("/_chaos/database").json()["faults"] == []
    assert _count_customers(impatient) > 0


def test_the_chaos_plane_shows_and_resets_database_faults(
    control: httpx.Client, impatient: Engine
) -> None:
    control.post("/_chaos/database/lock", json={"seconds": 60}).raise_for_status()
    shown = control.get("/_chaos").json()["system_faults"]
    assert [fault["kind"] for fault in shown["database"]] == ["lock"]
    control.post("/_chaos/reset").raise_for_status()
    assert control.get("/_chaos").json()["system_faults"] == {}
    assert _count_customers(impatient) > 0


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("lock", {"seconds": 0}, "seconds"),
        ("lock", {}, "seconds"),
        ("outage", {"seconds": 3601}, "seconds"),
        ("slow", {"seconds": 1, "hold_ms": 50, "every_ms": 50}, "every_ms"),
        ("slow", {"seconds": 1, "hold_ms": -1}, "hold_ms"),
        ("lock", {"seconds": 1, "sekonds": 1}, "*"),  # a made-up key is never echoed
    ],
)
def test_bad_bodies_are_refused_naming_the_field(
    control: httpx.Client, database_url: str, action: str, body: dict[str, Any], field: str
) -> None:
    response = control.post(f"/_chaos/database/{action}", json=body)
    assert response.status_code == 422
    assert any(error["loc"][-1] == field for error in response.json()["detail"]), response.text
    assert control.get("/_chaos/database").json()["faults"] == []


def test_chaos_actions_need_the_control_token(client: httpx.Client, database_url: str) -> None:
    assert client.post("/_chaos/database/lock", json={"seconds": 1}).status_code == 401
    assert client.get("/_chaos/database").status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert client.delete("/_chaos/database", headers=wrong).status_code == 401
