"""One truth on every page: a scripted outage and its recovery, watched in a real browser.

The stack runs as processes on free loopback ports (mocks, integration service,
dashboard; the dashboard's output kept in a file). Calls flow all along, some of them
taking a payment. Then the payments gateway goes down and the CRM turns slow (through
the mocks' chaos API), and every page is opened in Debian's Chromium at 1280x800: each
must say the same thing about both systems (the banner every page carries, and the
page's own view: the flow map's nodes, the Chaos and Write path tables). The faults are
cleared and every page must say healthy again within the health model's window. A
screenshot of every page in both states goes to ``test-output/health/``; the dashboard's
server log must hold no warning.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from integration.access import API_TOKEN_ENV, VAPI_SECRET_ENV
from mocks.dataset import generate_dataset
from tests.conftest import API_TOKEN, VAPI_SECRET
from tests.e2e.test_dashboard_browser import CHROMIUM, free_port

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium"),
]

SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "health"
TOKEN = "e2e-health-chaos-token"
CUSTOMERS, SEED = 200, 42
WINDOW_S = 10.0  # the health model's window, as the pages state it
DOWN_WITHIN_S = 5.0  # issue 18: an outage is shown within 5 s...
HEALTHY_WITHIN_S = 10.0  # ...and the recovery within 10 s
# The flow map's own drawing follows the banner by one more refresh and a Graphviz layout
# in the browser: on a 2-core machine shared with other work that alone takes seconds.
MAP_SLACK_S = 6.0


def stretch() -> float:
    """How much a machine shared with other work stretches every step: 1 up to two
    runnable processes per core, then in proportion (the targets are the dashboard's;
    a starved CPU delays every redraw alike)."""
    busy = os.getloadavg()[0] / (os.cpu_count() or 1)
    return max(1.0, busy / 2)


PAGES = {  # url path -> the page's title
    "": "Flow map",
    "calls": "Calls",
    "chaos": "Chaos",
    "write-path": "Write path",
    "load": "Load",
    "system-map": "System map",
    "scorecards": "Scorecards",
}
DRAWN = {  # what must be drawn before a page's screenshot is worth looking at
    "": '[data-testid="stGraphVizChart"] svg',
    "calls": '[data-testid="stDataFrame"] canvas',
    "chaos": "table",
    "write-path": "table",
    "load": ".js-plotly-plot",
}
MOVING = """() => {
  const edge = document.querySelector('[data-testid="stGraphVizChart"] g.flow path');
  return edge ? getComputedStyle(edge).animationName : null;
}"""
BANNER = '[class*="st-key-health_banner"]'
# What a healthy Streamlit server prints; anything else in its log is a warning or worse.
QUIET = re.compile(
    r"^(|dashboard on http\S+ .*|.*Uvicorn server started on .*|\s*You can now view your "
    r"Streamlit app in your browser\.|\s*URL: http\S+)$"
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    state = tmp_path_factory.mktemp("health-state")
    ports = {name: free_port() for name in ("mocks", "integration", "dashboard")}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "SWITCHBOARD_STATE_DIR": str(state),
        "SWITCHBOARD_CHAOS_TOKEN": TOKEN,
        "SWITCHBOARD_INTEGRATION_STATE_DIR": str(state),
        "SWITCHBOARD_INTEGRATION_DATABASE_URL": f"sqlite:///{state / 'enterprise.db'}",
        "SWITCHBOARD_DASHBOARD_LOCUST_URL": "http://127.0.0.1:9",
        API_TOKEN_ENV: API_TOKEN,
        VAPI_SECRET_ENV: VAPI_SECRET,
    }
    parts = {
        "mocks": (
            ("mocks", "--port", str(ports["mocks"]), "--customers", str(CUSTOMERS)),
            "/_mock/health",
        ),
        "integration": (
            ("integration", "--port", str(ports["integration"]), "--mocks-url", urls["mocks"]),
            "/health",
        ),
        "dashboard": (
            (
                "dashboard",
                "--port",
                str(ports["dashboard"]),
                "--integration-url",
                urls["integration"],
                "--mocks-url",
                urls["mocks"],
            ),
            "/_stcore/health",
        ),
    }
    running: list[subprocess.Popen[bytes]] = []
    began = time.monotonic()
    logs = {name: state / f"{name}.log" for name in parts}
    try:
        for name, (args, health) in parts.items():
            with logs[name].open("wb") as out:
                running.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "app", *args],
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                        start_new_session=True,
                    )
                )
            wait_until(partial(_answers, f"{urls[name]}{health}"), 60, f"{name} to start")
        print(f"stack up in {time.monotonic() - began:.1f} s")
        yield {**urls, "dashboard_log": logs["dashboard"]}
    finally:
        for process in reversed(running):
            process.terminate()
        for process in running:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def wait_until(check: Callable[[], Any], timeout_s: float, what: str) -> float:
    """Poll ``check`` until it is true; the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if check():
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"waited {timeout_s:g} s for {what}")


@contextmanager
def traffic(urls: dict[str, str]) -> Iterator[list[int]]:
    """Calls at about 4/s (every fourth ended, so the outbox writes) and a card payment
    every 1.5 s on a call of its own, until the block ends; yields the status codes."""
    customers = generate_dataset(customers=CUSTOMERS, seed=SEED).customers
    stop = threading.Event()
    codes: list[int] = []
    api = {"Authorization": f"Bearer {API_TOKEN}"}

    def calls() -> None:
        with httpx.Client(base_url=urls["integration"], timeout=10, headers=api) as http:
            for i in range(10**6):
                if stop.wait(0.25):
                    return
                started = http.post("/calls", json={"phone": customers[i % CUSTOMERS].phone_e164})
                codes.append(started.status_code)
                if started.status_code == 201 and i % 4 == 0:
                    http.post(
                        f"/calls/{started.json()['call_id']}/end", json={"disposition": "resolved"}
                    )

    def payments() -> None:
        with httpx.Client(base_url=urls["integration"], timeout=15, headers=api) as http:
            for i in range(10**6):
                if stop.wait(1.5):
                    return
                phone = customers[(i * 7) % CUSTOMERS].phone_e164
                started = http.post("/calls", json={"phone": phone})
                if started.status_code != 201:
                    continue
                call = started.json()["call_id"]
                args = {"amount_cents": 4250, "payment_method": "pm_card_visa"}
                paid = http.post(f"/calls/{call}/tools/take_payment", json={"arguments": args})
                codes.append(paid.status_code)

    workers = [threading.Thread(target=f, daemon=True) for f in (calls, payments)]
    for worker in workers:
        worker.start()
    try:
        yield codes
    finally:
        stop.set()
        for worker in workers:
            worker.join(20)


def systems_health(urls: dict[str, str]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    answer = httpx.get(f"{urls['integration']}/systems/health", headers=headers, timeout=10)
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return body


def chaos(urls: dict[str, str], method: str, path: str, body: Any = None) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    httpx.request(
        method, f"{urls['mocks']}/_chaos{path}", json=body, headers=headers, timeout=10
    ).raise_for_status()


def banner(page: Any) -> str:
    return str(page.locator(BANNER).first.inner_text())


def open_page(page: Any, base: str, path: str) -> None:
    """Through the sidebar, as a viewer goes (no reload: the session and its cache stay)."""
    heading = page.get_by_role("heading", name=PAGES[path], exact=True)
    if not page.url.startswith(base):
        page.goto(f"{base}/{path}")
    elif not heading.count():
        link = page.locator('[data-testid="stSidebarNav"] a', has_text=PAGES[path]).first
        try:
            link.dispatch_event("click", timeout=5_000)  # no waiting for a quiet page
        except sync_api.Error as busy:  # a page busy redrawing can miss it: load the page
            print(f"{PAGES[path]}: {type(busy).__name__}, loading it instead")
            page.goto(f"{base}/{path}")
    heading.wait_for(timeout=20_000)
    page.locator(BANNER).first.wait_for(timeout=20_000)


def row(page: Any, name: str) -> str:
    """The text of the first table row naming ``name`` (the pages' tables are HTML)."""
    found = page.locator("table tbody tr").filter(
        has=page.locator("td", has_text=re.compile(f"^{re.escape(name)}$"))
    )
    return str(found.first.inner_text())


def node(page: Any, key: str) -> str:
    return str(
        page.locator(f'[data-testid="stGraphVizChart"] g#node_{key}').first.text_content() or ""
    )


def crm_p95(page: Any) -> int:
    found = re.search(r"p95 ([0-9,]+) ms", node(page, "read_crm"))
    return int(found[1].replace(",", "")) if found else 0


def smallest_map_text_px(page: Any) -> float:
    return float(
        page.evaluate(
            """() => {
              const svg = document.querySelector('[data-testid="stGraphVizChart"] svg');
              const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
              const sizes = [...svg.querySelectorAll('text')]
                .map(t => parseFloat(t.getAttribute('font-size')) * scale);
              return Math.min(...sizes);
            }"""
        )
    )


def page_agrees(page: Any, path: str, *, failing: bool) -> bool:
    """Does ``path``'s own view say what the banner says about the payments and the CRM?"""
    text = banner(page)
    if failing != ("Payments down" in text and "CRM degraded" in text):
        return False
    if not failing and ("Payments" in text or "CRM" in text):
        return False
    payments, crm = ("down", "degraded") if failing else ("up", "up")
    if path == "":
        return (
            payments.upper() in node(page, "write_payments").upper().split()
            and crm.upper() in node(page, "read_crm").upper().split()
        )
    if path == "chaos":
        return row(page, "Payments").split()[0] == payments and row(page, "CRM").split()[0] == crm
    if path == "write-path":
        return row(page, "Payments").split()[0] == payments
    return True


def settle(page: Any, quiet_s: float = 0.4, most_s: float = 3.0) -> None:
    """Until Streamlit's running indicator has stayed away for ``quiet_s`` (at most
    ``most_s``): a screenshot between a fragment's redraws shows faded, stale elements."""
    started, quiet_since = time.monotonic(), None
    while time.monotonic() - started < most_s:
        if page.locator('[data-testid="stStatusWidget"]').count():
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_s:
            return
        time.sleep(0.1)


def visit_all(page: Any, base: str, phase: str, *, failing: bool) -> dict[str, float]:
    seconds = {}
    for path in PAGES:
        started = time.monotonic()
        open_page(page, base, path)
        wait_until(partial(page_agrees, page, path, failing=failing), 15, f"{path} {phase}")
        assert page.locator('[data-testid="stException"]').count() == 0, path
        if path in DRAWN:
            page.locator(DRAWN[path]).first.wait_for(timeout=15_000)
        settle(page)
        shot = SHOTS / f"{phase}-{path or 'flow-map'}.png"
        page.screenshot(path=str(shot), animations="disabled", timeout=30_000)
        seconds[path or "flow-map"] = round(time.monotonic() - started, 1)
        print(phase, path or "flow-map", seconds[path or "flow-map"], "s")
    return seconds


@pytest.mark.timeout(240)  # about 90 s; more when the machine is shared with other work
def test_every_page_tells_the_same_story_through_an_outage_and_its_recovery(
    stack: dict[str, Any],
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = stack["dashboard"]
    measured: dict[str, Any] = {}
    with traffic(stack) as codes, sync_api.sync_playwright() as playwright:
        wait_until(
            lambda: systems_health(stack)["systems"]["crm"]["read"]["recent"]["attempts"] >= 10,
            30,
            "calls to flow",
        )
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(15_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            open_page(page, base, "")
            wait_until(lambda: "up" in banner(page), 15, "a healthy banner")

            chaos(stack, "PUT", "/systems/crm", {"latency": {"kind": "fixed", "ms": 250}})
            chaos(stack, "POST", "/systems/payments/outage", {"seconds": 600})
            measured["banner_down_s"] = wait_until(
                lambda: "Payments down" in banner(page) and "CRM degraded" in banner(page),
                15,
                "the outage in the banner",
            )
            measured["map_down_s"] = measured["banner_down_s"] + wait_until(
                lambda: page_agrees(page, "", failing=True), 15, "the outage on the flow map"
            )
            smallest = smallest_map_text_px(page)
            print(f"smallest text on the map: {smallest:.1f} px")
            assert smallest >= 12
            wait_until(lambda: crm_p95(page) >= 250, 15, "the CRM's p95 to show its 250 ms")
            assert page.evaluate(MOVING) == "sb-flow"  # calls in flight move along the edges
            measured["fault_pages_s"] = visit_all(page, base, "fault", failing=True)
            waiting = systems_health(stack)["systems"]["payments"]["write"]
            assert waiting["retrying"] >= 1, waiting  # the first charge queued, retrying

            open_page(page, base, "")
            wait_until(lambda: page_agrees(page, "", failing=True), 15, "the map, again")
            chaos(stack, "DELETE", "/systems/payments")
            chaos(stack, "DELETE", "/systems/crm")
            measured["banner_healthy_s"] = wait_until(
                lambda: "Payments" not in banner(page) and "CRM" not in banner(page),
                WINDOW_S,
                "the recovery in the banner",
            )
            measured["map_healthy_s"] = measured["banner_healthy_s"] + wait_until(
                lambda: page_agrees(page, "", failing=False), WINDOW_S, "recovery on the map"
            )
            measured["recovered_pages_s"] = visit_all(page, base, "recovered", failing=False)
            assert not errors, errors
        finally:
            browser.close()
    measured["stretch"] = factor = round(stretch(), 2)
    print("measured:", measured)
    assert measured["banner_down_s"] <= DOWN_WITHIN_S * factor, measured
    assert measured["map_down_s"] <= (DOWN_WITHIN_S + MAP_SLACK_S) * factor, measured
    assert measured["banner_healthy_s"] <= HEALTHY_WITHIN_S * factor, measured
    assert measured["map_healthy_s"] <= (HEALTHY_WITHIN_S + MAP_SLACK_S) * factor, measured
    assert codes and set(codes) <= {200, 201}, sorted(set(codes))
    log = stack["dashboard_log"].read_text(errors="replace").splitlines()
    assert [line for line in log if not QUIET.match(line)] == []
