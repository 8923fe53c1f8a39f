"""One dataset fingerprint everywhere: what `switchboard dataset` prints is what the running
mocks report at GET /database/."""

from __future__ import annotations

import httpx
from typer.testing import CliRunner

from app.cli import cli
from tests.conftest import TEST_CUSTOMERS, TEST_SEED


def test_the_cli_and_the_database_report_the_same_fingerprint(client: httpx.Client) -> None:
    reported = client.get("/database/").json()["dataset"]
    assert (reported["customers"], reported["seed"]) == (TEST_CUSTOMERS, TEST_SEED)

    shown = CliRunner().invoke(
        cli, ["dataset", "--customers", str(TEST_CUSTOMERS), "--seed", str(TEST_SEED)]
    )
    assert shown.exit_code == 0, shown.output
    (line,) = [x for x in shown.output.splitlines() if x.startswith("fingerprint ")]
    assert line == f"fingerprint {reported['fingerprint']}"
    assert len(reported["fingerprint"]) == 64 and reported["signature"] != reported["fingerprint"]
