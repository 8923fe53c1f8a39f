"""The write path survives SIGKILL: every acknowledged effect applied once, none lost.

The integration service runs as a real child process in front of the session mocks and is
killed with SIGKILL three times at random moments under steady traffic, then restarted.
"""

from __future__ import annotations

from pathlib import Path

from loadtests.crash import CrashTest
from mocks.registry import MockEnterprise
from mocks.settings import MockSettings
from tests.conftest import CHAOS_TOKEN


async def test_sigkill_under_load_loses_and_duplicates_nothing(
    mocks_url: str, enterprise: MockEnterprise, mock_settings: MockSettings, tmp_path: Path
) -> None:
    phones = [c.phone_e164 for c in enterprise.context.dataset.customers[:200]]
    test = CrashTest(
        mocks_url,
        phones=phones,
        state_dir=tmp_path / "integration",
        database_url=mock_settings.resolved_database_url,
        chaos_token=CHAOS_TOKEN,
        kills=3,
        rate_per_s=20,
        seed=7,
    )
    report = await test.run()
    print("\n" + report.table())

    assert report.kills == 3
    assert report.calls_acknowledged > 50
    assert report.effects_acknowledged >= 4 * report.calls_acknowledged
    assert report.lost == []
    assert report.duplicates == []
    assert report.dead == 0
    assert report.applied == report.effects_acknowledged
