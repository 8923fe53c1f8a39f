"""The Scorecards and System map pages in headless Chromium at 1280x800, on a real stack.

Mocks, integration service and dashboard start as ``python -m app <part>`` processes under
the project's supervisor on free loopback ports. A shipped scenario with a fault on its
timeline (the payment gateway down) runs against them, sped up to a few seconds, and posts
its scorecard; then the payment gateway is taken down through ``/_chaos`` while the System
map is open. Playwright drives Debian's Chromium (never a downloaded browser), measures
what is drawn, and saves 1280x800 screenshots under ``test-output/screenshots/``.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.scenarios.library import CATALOG_DIR, load_scenario
from app.scenarios.runner import RunOptions, run_scenario
from app.simulator.conversation import Pacing
from app.simulator.personas import PersonaBook
from mocks.dataset import generate_dataset
from tests.conftest import API_TOKEN
from tests.e2e.stack import CUSTOMERS, SEED, served_stack
from tests.unit.test_dashboard_scorecards_and_map import CARD, RESULT

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not Path("/usr/bin/chromium").exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
]

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
TOKEN = "e2e-chaos-token"
VIEW = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with served_stack(tmp_path_factory.mktemp("e2e-cards"), TOKEN) as urls:
        yield urls


def run_short_scenario(stack: dict[str, Any]) -> dict[str, Any]:
    scenario = load_scenario(CATALOG_DIR / "payment_gateway_down.yaml")
    dataset = generate_dataset(customers=CUSTOMERS, seed=SEED)
    options = RunOptions(
        integration_url=stack["integration"],
        mocks_url=stack["mocks"],
        chaos_token=TOKEN,
        api_token=API_TOKEN,
        speed=scenario.duration / 2,
        seed=7,
        pacing=Pacing(think_ms=20),
        progress=False,
    )
    personas = PersonaBook.from_dataset(dataset, most=50)
    run = asyncio.run(run_scenario(scenario, personas, options, out=io.StringIO()))
    assert run.kept.startswith("kept by the integration service"), run.kept
    return run.scorecard


def choose(page: Any, option: str, typed: str = "") -> None:
    """Pick ``option`` in the page's first select box (a redraw may close a list just
    opened: then it is opened again)."""
    from playwright.sync_api import TimeoutError as NotInTime

    box = page.get_by_role("combobox").first
    for _ in range(3):
        box.click()
        if typed:
            page.keyboard.type(typed)
        try:
            page.get_by_role("option").filter(has_text=option).first.click(timeout=5_000)
            return
        except NotInTime:  # the list closed before the click
            page.keyboard.press("Escape")
    raise AssertionError(f"could not choose {option!r}")


def overlapping(boxes: list[dict[str, float]]) -> list[tuple[int, int]]:
    def hit(a: dict[str, float], b: dict[str, float]) -> bool:
        return (
            a["x"] < b["x"] + b["width"] - 0.5
            and b["x"] < a["x"] + a["width"] - 0.5
            and a["y"] < b["y"] + b["height"] - 0.5
            and b["y"] < a["y"] + a["height"] - 0.5
        )

    return [
        (i, j) for i, a in enumerate(boxes) for j in range(i + 1, len(boxes)) if hit(a, boxes[j])
    ]


# An element to the top of the view, below Streamlit's fixed header.
TO_TOP = """e => {
  e.scrollIntoView({block: 'start'});
  let p = e.parentElement;
  while (p && !(p.scrollTop > 0)) p = p.parentElement;
  (p || document.scrollingElement).scrollBy(0, -64);
}"""
MEASURE = """svg => {
  const box = svg.getBoundingClientRect();
  const texts = [...svg.querySelectorAll('text')].map(t => t.getBoundingClientRect())
    .map(r => ({x: r.x, y: r.y, width: r.width, height: r.height, right: r.right}));
  const labels = [...svg.querySelectorAll('text.edge-label')].map(t => {
    const r = t.getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height};
  });
  const sizes = [...svg.querySelectorAll('text')].map(
    t => parseFloat(getComputedStyle(t).fontSize) * box.width / svg.viewBox.baseVal.width);
  const edges = [...svg.querySelectorAll('g.edge')].map(
    g => g.dataset.source + '>' + g.dataset.target + ':' + g.dataset.mode);
  const labelled = [...svg.querySelectorAll('text.edge-label')].map(
    t => t.dataset.source + '>' + t.dataset.target + ':' + t.dataset.mode);
  return {right: box.right, left: box.left, width: box.width, texts, labels, sizes, edges,
          labelled};
}"""


def test_scorecards_and_system_map_at_1280_by_800(stack: dict[str, Any]) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    SHOTS.mkdir(parents=True, exist_ok=True)
    card = run_short_scenario(stack)
    older = {
        **RESULT,
        "started_at": "2000-01-01T09:00:00+00:00",
        "passed": False,
        "scorecard": CARD,
    }
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    kept = httpx.post(f"{stack['integration']}/scenarios/results", json=older, headers=headers)
    assert kept.status_code == 201, kept.text
    chaos = httpx.Client(
        base_url=stack["mocks"], headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport=VIEW)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            # -- Scorecards: the run just made --------------------------------------------
            page.goto(f"{stack['dashboard']}/scorecards")
            page.get_by_role("heading", name="Expectations").wait_for(timeout=20_000)
            page.get_by_text("% of calls").first.wait_for()
            verdict = "PASSED" if card["passed"] else "FAILED"
            page.get_by_text(verdict, exact=False).first.wait_for()
            tables = page.locator('[data-testid="stTable"]')
            expectations = tables.first.inner_text()
            assert "Calls failed" in expectations and "% of calls" in expectations
            rows = [r for r in expectations.splitlines() if r.strip()]
            verdicts = [r for r in rows if r.rstrip().endswith(("pass", "fail"))]
            assert len(verdicts) == len(card["expectations"]), rows
            assert page.locator('[data-testid="stMetric"]').count() == 0, "no wall of tiles"
            page.screenshot(path=str(SHOTS / "scorecards-1280x800.png"))
            page.get_by_role("heading", name="Expectations").evaluate(TO_TOP)
            page.get_by_text("traffic ends").first.wait_for()
            page.screenshot(path=str(SHOTS / "scorecards-timeline-1280x800.png"))
            choose(page, "2000-01-01")
            page.get_by_text("2 of 3 expectations met").wait_for()
            tables.first.get_by_text("4.5%").wait_for()  # failed_ratio 0.0448
            page.get_by_text("FAILED").first.evaluate(TO_TOP)
            page.screenshot(path=str(SHOTS / "scorecards-failed-run-1280x800.png"))

            # -- System map, during a payments outage --------------------------------------
            chaos.post("/_chaos/systems/payments/outage", json={"seconds": 60}).raise_for_status()
            page.goto(f"{stack['dashboard']}/system-map")
            svg = page.locator("svg.sysmap")
            svg.wait_for(timeout=20_000)
            payments = page.locator('g.node[data-key="sys:payments"] text.state')
            payments.filter(has_text="down").wait_for(timeout=15_000)
            drawn = svg.evaluate(MEASURE)
            assert drawn["right"] <= VIEW["width"] and drawn["left"] >= 0, drawn
            assert max(t["right"] for t in drawn["texts"]) <= drawn["right"] + 1
            assert min(drawn["sizes"]) >= 11.5, "readable at 1280 px"
            assert drawn["edges"] and sorted(drawn["edges"]) == sorted(drawn["labelled"])
            assert len(set(drawn["edges"])) == len(drawn["edges"]), "one label per edge"
            assert not overlapping(drawn["labels"]), "no label over another"
            svg.evaluate(TO_TOP)
            page.screenshot(path=str(SHOTS / "system-map-fault-1280x800.png"))
            page.locator('g.node[data-key="sys:payments"]').evaluate(
                "e => e.scrollIntoView({block: 'center'})"
            )
            page.screenshot(path=str(SHOTS / "system-map-fault-payments-1280x800.png"))

            # -- System map, the payment gateway's blast radius ----------------------------
            choose(page, "Payments (payments)", typed="payments")  # a long list: filtered
            page.locator('g.edge[data-verdict="delayed"]').first.wait_for(timeout=15_000)
            page.get_by_role("heading", name="Flow by flow").wait_for()
            svg.evaluate(TO_TOP)
            page.screenshot(path=str(SHOTS / "system-map-blast-1280x800.png"))
            page.get_by_role("heading", name="Flow by flow").scroll_into_view_if_needed()
            page.screenshot(path=str(SHOTS / "system-map-blast-table-1280x800.png"))
            assert page.locator('[data-testid="stException"]').count() == 0
            assert not errors, errors
        finally:
            browser.close()
            chaos.post("/_chaos/reset")
            chaos.close()
    warned = [line for line in stack["log"] if line.startswith("[dashboard]") and "arn" in line]
    assert not warned, warned
