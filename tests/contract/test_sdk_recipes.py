"""docs/sdk-recipes.md, run as written: each ``python`` block against the session's mocks.

Only the recipe's ``MOCKS = "http://127.0.0.1:8100"`` line changes, to the test server's
address; each block runs alone (its own namespace) and checks itself with ``assert``.
A recipe must also leave its effects in the system's ledger exactly once.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.contract.conftest import LedgerReader

pytestmark = pytest.mark.contract

RECIPES = Path(__file__).resolve().parents[2] / "docs" / "sdk-recipes.md"
_SECTION = re.compile(r"^## (?P<title>.+?)\n(?P<body>.*?)(?=^## |\Z)", re.M | re.S)
_BLOCK = re.compile(r"^```python\n(?P<code>.*?)^```$", re.M | re.S)
_MOCKS_LINE = 'MOCKS = "http://127.0.0.1:8100"'
# The system each recipe writes to, and how many effects it applies there.
EFFECTS = {
    "Stripe (`stripe`)": ("payments", 2),
    "Salesforce (`simple-salesforce`)": ("crm", 2),
    "Twilio (`twilio`)": ("messaging", 1),
    "SendGrid (`sendgrid`)": ("email", 1),
    "Slack (`slack_sdk`)": ("slack", 1),
    "Segment (`segment-analytics-python`)": ("analytics", 1),
    "Google Calendar (`google-api-python-client`)": ("calendar", 0),
    "Google Sheets (`google-api-python-client`)": ("sheets", 1),
    "DynamoDB (`boto3`)": ("docstore", 1),
    "Jira (`jira`)": ("tracker", 2),
    "Legacy core over SOAP (`zeep`)": ("core", 0),
}


def recipes() -> dict[str, str]:
    found: dict[str, str] = {}
    for section in _SECTION.finditer(RECIPES.read_text(encoding="utf-8")):
        blocks = [b["code"] for b in _BLOCK.finditer(section["body"])]
        if blocks:
            found[section["title"]] = "\n".join(blocks)
    return found


def test_every_recipe_is_run_and_points_at_mocks() -> None:
    found = recipes()
    assert sorted(found) == sorted(EFFECTS)
    assert all(code.count(_MOCKS_LINE) == 1 for code in found.values())


@pytest.mark.parametrize("title", sorted(EFFECTS))
def test_the_recipe_runs_as_written(title: str, mocks_url: str, ledger: LedgerReader) -> None:
    code = recipes()[title].replace(_MOCKS_LINE, f'MOCKS = "{mocks_url}"')
    exec(compile(code, f"{RECIPES.name}: {title}", "exec"), {"__name__": "recipe"})
    system, count = EFFECTS[title]
    assert ledger(system)["count"] == count
