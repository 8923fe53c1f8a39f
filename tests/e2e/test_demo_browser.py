"""The guided demo, end to end in headless Chromium at 1280x800, on a real stack.

Mocks, integration service and dashboard start as ``python -m app <part>`` processes under
the project's supervisor on free loopback ports (state in ``tmp_path``, the API token and
Vapi secret handed over as ``make up`` hands them). The demo page then runs the CRM outage
four times faster than written: Playwright picks the incident and the pace and presses
Start, exactly as a presenter does, waits for the story to tell the fault, the layer's
answer to it and the recovery, then for the scorecard. Screenshots during the fault and at
the scorecard go to ``test-output/screenshots/``; the mocks are checked clean afterwards.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import API_TOKEN
from tests.e2e.stack import served_stack

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not Path("/usr/bin/chromium").exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
]

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
TOKEN = "e2e-demo-chaos-token"
VIEW = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with served_stack(tmp_path_factory.mktemp("e2e-demo"), TOKEN) as urls:
        yield urls


def told(page: Any, words: str | re.Pattern[str], timeout_s: float) -> None:
    """Until a line of the story says ``words``."""
    story = page.locator(".st-key-demo_story")
    story.get_by_text(words).first.wait_for(state="attached", timeout=timeout_s * 1000)


def show(page: Any, selector: str) -> None:
    """Scroll ``selector`` into view. The story redraws every second, so the element found
    can be replaced before the scroll reaches it (playwright's Error): find it again."""
    for attempt in range(10):
        try:
            page.locator(selector).scroll_into_view_if_needed(timeout=2_000)
            return
        except Exception:
            if attempt == 9:
                raise
            time.sleep(0.2)


def test_a_presenter_runs_the_crm_outage_from_start_to_scorecard(stack: dict[str, Any]) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport=VIEW)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            page.goto(f"{stack['dashboard']}/demo")
            page.get_by_role("heading", name="Guided demo", exact=True).wait_for(timeout=30_000)
            # The incident picker starts on the CRM outage; the presenter picks the pace.
            picker = page.locator(".st-key-demo_controls")
            picker.get_by_role("radio", name="4×", exact=True).click(timeout=20_000)
            picker.get_by_text("Calls run for 22.5s").wait_for(timeout=10_000)
            picker.get_by_role("button", name="Start").click()
            page.get_by_role("heading", name="CRM outage mid-lookup").wait_for(timeout=10_000)
            assert picker.get_by_role("button", name="Start").is_disabled()  # one at a time

            # What broke, at its moment on the timeline, and what the layer did about it,
            # while the fault is still in force on the screen.
            page.get_by_text("Injected now: CRM: DOWN (outage)").wait_for(timeout=40_000)
            told(page, re.compile(r"CRM is down: an outage for 7\.5 s"), 10)
            told(
                page,
                re.compile(r"breaker for reads during calls opened|CRM.? last good copy"),
                20,
            )
            show(page, ".st-key-demo_story")
            page.screenshot(path=str(SHOTS / "demo-during-fault.png"))

            # The recovery, then the scorecard the story ends on.
            told(page, "CRM's injected fault is over", 30)
            scorecard = page.locator(".st-key-demo_scorecard")
            scorecard.wait_for(timeout=60_000)
            scorecard.get_by_text(re.compile(r"Scorecard: CRM outage mid-lookup")).wait_for()
            scorecard.get_by_text("Calls served fully").first.wait_for(timeout=10_000)
            told(page, re.compile(r"Scorecard: (PASSED|FAILED)\. \d+ calls"), 10)
            told(page, "Every fault this demo set is cleared", 10)
            show(page, ".st-key-demo_scorecard")
            time.sleep(0.5)
            page.screenshot(path=str(SHOTS / "demo-scorecard.png"))

            assert picker.get_by_role("button", name="Start").is_enabled()
            assert page.locator('[data-testid="stException"]').count() == 0
            assert not errors, errors
        except Exception:
            page.screenshot(path=str(SHOTS / "demo-failed.png"))  # what the page showed then
            raise
        finally:
            browser.close()

    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as http:
        chaos = http.get(f"{stack['mocks']}/_chaos").json()
    assert chaos["systems"] == {} and not any(chaos["system_faults"].values()), chaos
    kept = httpx.get(
        f"{stack['integration']}/scenarios/results",
        headers={"Authorization": f"Bearer {API_TOKEN}"},
        timeout=10,
    ).json()["results"]
    assert [r["name"] for r in kept] == ["crm_outage"]
    warned = [ln for ln in stack["log"] if re.search(r"warning|deprecat", ln, re.IGNORECASE)]
    assert not warned, warned
