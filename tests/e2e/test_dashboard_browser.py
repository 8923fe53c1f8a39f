"""The whole stack as real processes, and each dashboard page opened in headless Chromium.

Mocks, integration service and dashboard start through ``python -m app <part>`` under the
project's own supervisor, on free loopback ports, with their state in ``tmp_path``.
Calls are driven through the integration service (one system is broken on purpose, so
the pages have something to show), then Playwright drives Debian's Chromium (never a
downloaded browser) through every page, waits for Streamlit to finish rendering, saves
a screenshot per page under ``test-output/screenshots/`` and checks what a viewer must see.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from app.supervisor import Part, Supervisor
from integration.access import API_TOKEN_ENV, VAPI_SECRET_ENV
from mocks.dataset import generate_dataset
from tests.conftest import API_TOKEN, VAPI_SECRET

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
TOKEN = "e2e-chaos-token"
CUSTOMERS = 200
SEED = 42

# page path -> (title, texts that must be visible, CSS selectors that must be visible)
PAGES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "": ("Flow map", ("Systems at a glance",), ('[data-testid="stGraphVizChart"] svg',)),
    "calls": ("Calls", ("Calls in history", "Waterfall"), (".js-plotly-plot",)),
    "chaos": ("Chaos", ("Fault profile now", "Break one system", "Reset everything"), ()),
    "write-path": ("Write path", (), ()),
    "load": ("Load", ("Throughput", "Since the service started"), (".js-plotly-plot",)),
    "system-map": ("System map", (), ("svg.sysmap",)),
    "scorecards": ("Scorecards", (), ()),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    state = tmp_path_factory.mktemp("e2e-state")
    ports = {name: free_port() for name in ("mocks", "integration", "dashboard")}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    env = {
        "SWITCHBOARD_STATE_DIR": str(state),
        "SWITCHBOARD_CHAOS_TOKEN": TOKEN,
        "SWITCHBOARD_INTEGRATION_STATE_DIR": str(state),
        "SWITCHBOARD_INTEGRATION_DATABASE_URL": f"sqlite:///{state / 'enterprise.db'}",
        "SWITCHBOARD_DASHBOARD_LOCUST_URL": "http://127.0.0.1:9",
        # The parts' secrets, handed to each as `make up` hands them.
        API_TOKEN_ENV: API_TOKEN,
        VAPI_SECRET_ENV: VAPI_SECRET,
    }
    supervisor = Supervisor(
        [
            Part(
                "mocks",
                (
                    "mocks",
                    "--port",
                    str(ports["mocks"]),
                    "--customers",
                    str(CUSTOMERS),
                    "--seed",
                    str(SEED),
                ),
                f"{urls['mocks']}/_mock/health",
                60,
            ),
            Part(
                "integration",
                ("integration", "--port", str(ports["integration"]), "--mocks-url", urls["mocks"]),
                f"{urls['integration']}/health",
                60,
            ),
            Part(
                "dashboard",
                (
                    "dashboard",
                    "--port",
                    str(ports["dashboard"]),
                    "--integration-url",
                    urls["integration"],
                    "--mocks-url",
                    urls["mocks"],
                ),
                f"{urls['dashboard']}/_stcore/health",
                60,
            ),
        ],
        env=env,
    )
    try:
        supervisor.start()
        yield urls
    finally:
        supervisor.stop()


@contextmanager
def traffic(urls: dict[str, str], per_s: float = 5.0) -> Iterator[None]:
    """Calls in the background while the pages are open (rates on the map, fresh rows),
    with the ERP failing (a red node) and every fifth call ended (the outbox)."""
    customers = generate_dataset(customers=CUSTOMERS, seed=SEED).customers
    headers = {"Authorization": f"Bearer {TOKEN}"}
    stop = threading.Event()
    made: list[int] = []

    def run() -> None:
        with httpx.Client(timeout=10, headers={"Authorization": f"Bearer {API_TOKEN}"}) as http:
            i = 0
            while not stop.is_set():
                phone = customers[i % len(customers)].phone_e164
                started = http.post(f"{urls['integration']}/calls", json={"phone": phone})
                if started.status_code == 201 and i % 5 == 0:
                    http.post(
                        f"{urls['integration']}/calls/{started.json()['call_id']}/end",
                        json={"disposition": "resolved"},
                    )
                made.append(started.status_code)
                i += 1
                stop.wait(1 / per_s)

    with httpx.Client(timeout=10) as http:
        http.put(
            f"{urls['mocks']}/_chaos/systems/erp",
            headers=headers,
            json={"errors": {"rate": 1.0, "kinds": {"503": 1}}},
        ).raise_for_status()
    worker = threading.Thread(target=run, name="e2e-traffic", daemon=True)
    worker.start()
    try:
        while len(made) < 20:  # some history before the first page opens
            time.sleep(0.1)
        yield
    finally:
        stop.set()
        worker.join(15)
    assert set(made) == {201}, "every call was answered"


def settle(page: object, quiet_s: float = 1.0, timeout_s: float = 15.0) -> None:
    """Until Streamlit's running indicator has stayed away for ``quiet_s`` (fragments
    redraw every two seconds, so one absent check is not enough)."""
    deadline = time.monotonic() + timeout_s
    quiet_since: float | None = None
    while time.monotonic() < deadline:
        running = page.locator('[data-testid="stStatusWidget"]').count()  # type: ignore[attr-defined]
        if running:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_s:
            return
        time.sleep(0.1)


def pin_a_call(page: object) -> None:
    """Select the third row of the calls table: the detail pins that call, and stays."""
    auto = page.get_by_text("the newest call; select a row to pin another")  # type: ignore[attr-defined]
    auto.wait_for(state="visible")
    box = page.locator('[data-testid="stDataFrame"]').first.bounding_box()  # type: ignore[attr-defined]
    page.mouse.click(box["x"] + 14, box["y"] + 35 * 3 + 17)  # type: ignore[attr-defined]
    auto.wait_for(state="hidden", timeout=10_000)
    pinned = page.get_by_role("heading", name="Call call_").inner_text()  # type: ignore[attr-defined]
    time.sleep(2.5)  # a live redraw with newer calls must keep the pinned one
    assert page.get_by_role("heading", name="Call call_").inner_text() == pinned  # type: ignore[attr-defined]
    assert auto.count() == 0


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium at /usr/bin/chromium "
    "(apt-get install chromium; .ci/run does it)",
)
def test_every_page_renders_in_a_real_browser(stack: dict[str, str]) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with traffic(stack), sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1600})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            for path, (title, texts, selectors) in PAGES.items():
                page.goto(f"{stack['dashboard']}/{path}")
                heading = page.get_by_role("heading", name=title, exact=True)
                heading.wait_for(state="visible", timeout=20_000)
                for selector in selectors:
                    page.locator(selector).first.wait_for(state="visible", timeout=15_000)
                for text in texts:
                    page.get_by_text(text, exact=True).first.wait_for(
                        state="visible", timeout=15_000
                    )
                if not path:  # the map's edges carry rates once two readings exist
                    page.locator("svg text", has_text="/s").first.wait_for(timeout=15_000)
                settle(page)
                assert page.locator('[data-testid="stException"]').count() == 0, path
                page.screenshot(path=str(SHOTS / f"{path or 'flow-map'}.png"))
                if path == "calls":
                    pin_a_call(page)
            sidebar = page.locator('[data-testid="stSidebar"]')
            assert sidebar.get_by_text("integration").first.is_visible()
            assert not errors, errors
        finally:
            browser.close()
    assert {p.name for p in SHOTS.glob("*.png")} >= {f"{p or 'flow-map'}.png" for p in PAGES}


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_a_page_reached_by_another_name_is_refused(stack: dict[str, str]) -> None:
    """DNS rebinding, as a browser meets it: a name the attacker controls, resolved to
    127.0.0.1. The browser sends that name as the Host; the dashboard draws nothing of its
    own, only the refusal."""
    sync_api = pytest.importorskip("playwright.sync_api")
    port = stack["dashboard"].rsplit(":", 1)[1]
    rules = "--host-resolver-rules=MAP rebound.example 127.0.0.1"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", rules]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"http://rebound.example:{port}/chaos")
            page.get_by_text("answers only at the host names it trusts").wait_for(timeout=20_000)
            assert page.get_by_role("heading", name="Chaos", exact=True).count() == 0
            assert page.locator('[data-testid="stSidebar"]').count() == 0
        finally:
            browser.close()
