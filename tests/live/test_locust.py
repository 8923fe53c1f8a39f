"""A short Locust run of the call journeys, headless, through the runner that applies the
thresholds: the integration layer is served on loopback in front of the session mocks,
and Locust runs as a child process (it monkey-patches the whole interpreter with gevent,
which must not happen to pytest's).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from integration.access import API_TOKEN_ENV
from loadtests.journeys import AGGREGATED, read_stats
from mocks.settings import MockSettings
from tests.conftest import API_TOKEN, TEST_CUSTOMERS, TEST_SEED
from tests.live.lookup_support import serve_layer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def service_url(mocks_url: str, mock_settings: MockSettings, tmp_path: Path) -> Iterator[str]:
    with serve_layer(mocks_url, mock_settings, tmp_path) as (_, http):
        yield str(http.base_url).rstrip("/")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, API_TOKEN_ENV: API_TOKEN}  # as an exported token reaches Locust
    return subprocess.run(
        [sys.executable, "-m", "loadtests.journeys", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.mark.slow  # about 10 s: Locust starts in a child process
def test_journeys_run_under_locust_and_thresholds_judge_them(
    service_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    done = run(
        "--host",
        service_url,
        "--shape",
        "steady",
        "--calls-per-hour",
        "10800",
        "--duration",
        "4s",
        "--users",
        "3",
        "--customers",
        str(TEST_CUSTOMERS),
        "--seed",
        str(TEST_SEED),
        "--quiet",
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all thresholds met" in done.stdout

    steps = read_stats(out / "locust_stats.csv")
    assert steps["POST /calls"].requests >= 6  # 3 calls a second for 4 s, spread over lines
    assert steps["POST /calls/{id}/end"].requests == steps["POST /calls"].requests
    tools = [name for name in steps if name.startswith("POST /calls/{id}/tools/")]
    assert tools, f"no tool steps in {sorted(steps)}"
    assert steps[AGGREGATED].failures == 0
    assert (out / "report.html").stat().st_size > 0

    # The same reports against a threshold no call can meet: a non-zero exit naming it.
    judged = run("--check", str(out), "--p95", "POST /calls=0.001")
    assert judged.returncode == 1, judged.stdout + judged.stderr
    assert "FAILED: p95 POST /calls " in judged.stderr
    assert judged.stderr.count("FAILED:") == 1  # the other thresholds still pass
