"""The throwaway PostgreSQL server of loadtests/stack/postgres.py, started for real.

Skipped where PostgreSQL is not installed, unless SWITCHBOARD_REQUIRE_POSTGRES=1 says that
a machine without it is a broken machine: then these tests fail instead, so that CI cannot
go green by quietly testing nothing.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import psycopg
import pytest

from loadtests.stack.postgres import find_pg_bin, temporary_postgres

REQUIRED = os.environ.get("SWITCHBOARD_REQUIRE_POSTGRES") == "1"

pytestmark = pytest.mark.skipif(
    find_pg_bin() is None and not REQUIRED,
    reason="PostgreSQL is not installed (apt-get install postgresql); "
    "SWITCHBOARD_REQUIRE_POSTGRES=1 turns this skip into a failure",
)


@pytest.fixture(autouse=True)
def clean_mocks() -> Iterator[None]:
    """Overrides the package's autouse fixture of that name: these tests never talk to the
    mock enterprise, so they need not start it."""
    yield


def _accepts_connections(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_a_server_starts_stores_rows_resets_and_goes_away() -> None:
    with temporary_postgres() as pg:
        assert pg.url == f"postgresql+psycopg://switchboard@127.0.0.1:{pg.port}/switchboard"
        folder = pg.data_dir.parent
        assert folder.is_dir()
        assert _accepts_connections(pg.port)

        with psycopg.connect(pg.dsn) as conn:
            conn.execute("CREATE TABLE calls (id integer PRIMARY KEY, caller text NOT NULL)")
            conn.execute("INSERT INTO calls VALUES (1, '+15550100'), (2, '+15550101')")
        # Another connection, so the rows are read from the server, not a session's cache.
        with psycopg.connect(pg.dsn) as conn:
            rows = conn.execute("SELECT id, caller FROM calls ORDER BY id").fetchall()
        assert rows == [(1, "+15550100"), (2, "+15550101")]

        pg.reset()

        with psycopg.connect(pg.dsn) as conn:
            assert conn.execute("SELECT to_regclass('public.calls')").fetchone() == (None,)
            # The schema is usable again, not merely gone.
            conn.execute("CREATE TABLE calls (id integer PRIMARY KEY)")

    assert not _accepts_connections(pg.port)
    assert not folder.exists()


def test_find_pg_bin_names_a_folder_with_initdb() -> None:
    folder = find_pg_bin()
    assert folder is not None, "PostgreSQL is not installed: apt-get install postgresql"
    assert os.access(folder / "initdb", os.X_OK)
