"""The dashboard rendered by Streamlit's AppTest against a running stack on loopback.

Everything the pages read is real: the session's mock enterprise and integration services
built here in front of it (no stand-in for any endpoint). One service serves this module,
with calls driven through it; the write-side tests build their own, with a quick outbox:

- Write path: two targets are taken down through ``/_chaos`` so ended calls leave real
  dead letters; the page lists them, and its replay buttons (one row, then a whole
  system) are checked through the service's own outbox API and the mocks' ledgers: each
  replayed effect delivered exactly once, the others still dead and never applied.
- Scorecards: a shipped scenario, sped up to a second or two of traffic, runs and posts
  its scorecard to ``POST /scenarios/results`` as ``python -m app scenario`` does; the
  page shows it beside an older failed result posted by hand.

Every page must render without an exception; the chaos controls must change the mocks'
fault profile, checked through ``/_chaos`` itself.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app.dashboard import MAIN_SCRIPT
from app.scenarios.library import CATALOG_DIR, load_scenario
from app.scenarios.runner import RunOptions, run_scenario
from app.simulator.conversation import Pacing
from app.simulator.personas import PersonaBook
from loadtests.stack.ledgers import count_writes
from mocks.registry import MockEnterprise
from mocks.settings import MockSettings
from tests.conftest import API_TOKEN, CHAOS_TOKEN, CONTROL_HEADERS
from tests.live.lookup_support import serve_layer
from tests.live.test_outbox import outbox_policies, wait_until

PAGES = {
    "pages_/flow_map.py": "Flow map",
    "pages_/calls.py": "Calls",
    "pages_/chaos.py": "Chaos",
    "pages_/write_path.py": "Write path",
    "pages_/load.py": "Load",
    "pages_/system_map.py": "System map",
    "pages_/scorecards.py": "Scorecards",
}
CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens, refused at once


@pytest.fixture(scope="module")
def integration_url(
    mocks_url: str,
    mock_settings: MockSettings,
    enterprise: MockEnterprise,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    with serve_layer(mocks_url, mock_settings, tmp_path_factory.mktemp("dashboard")) as (_, api):
        for i, customer in enumerate(enterprise.context.dataset.customers[:12]):
            started = api.post("/calls", json={"phone": customer.phone_e164})
            started.raise_for_status()
            if i < 4:  # some calls end, so the outbox has effects
                call_id = started.json()["call_id"]
                api.post(f"/calls/{call_id}/end", json={"disposition": "resolved"})
        yield str(api.base_url).rstrip("/")


@pytest.fixture
def point_at(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Aim the dashboard at given services (through its environment settings)."""
    st.cache_data.clear()

    def aim(integration: str, mocks: str) -> None:
        monkeypatch.setenv("SWITCHBOARD_DASHBOARD_INTEGRATION_URL", integration)
        monkeypatch.setenv("SWITCHBOARD_DASHBOARD_MOCKS_URL", mocks)
        monkeypatch.setenv("SWITCHBOARD_CHAOS_TOKEN", CHAOS_TOKEN)
        monkeypatch.setenv("SWITCHBOARD_DASHBOARD_API_TOKEN", API_TOKEN)
        monkeypatch.setenv("SWITCHBOARD_DASHBOARD_LOCUST_URL", CLOSED)

    yield aim
    st.cache_data.clear()


def app() -> AppTest:
    at = AppTest.from_file(str(MAIN_SCRIPT), default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return at


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == [PAGES[page]]
    return at


def test_every_page_renders_against_the_running_stack(
    point_at: object, integration_url: str, mocks_url: str
) -> None:
    point_at(integration_url, mocks_url)  # type: ignore[operator]
    at = app()
    for page in PAGES:
        open_page(at, page)
        assert not at.error, f"{page}: {[e.value for e in at.error]}"

    open_page(at, "pages_/flow_map.py")
    assert at.get("graphviz_chart"), "the flow map is drawn"
    systems = at.table[0].value  # the health model's table, one row per system
    assert {"CRM", "Telephony", "ERP"} <= set(systems["system"])
    assert set(systems["state"]) <= {"up", "degraded", "down", "unknown"}

    open_page(at, "pages_/calls.py")
    calls = at.dataframe[0].value
    assert len(calls) == 12 and set(calls["outcome"]) <= {"carry on", "cached, say so", "escalate"}
    assert at.get("plotly_chart"), "the newest call's waterfall is drawn"
    assert any("No transcript" in c.value for c in at.caption)

    open_page(at, "pages_/write_path.py")
    cards = {m.label: int(m.value) for m in at.metric if m.label in ("Backlog", "Delivered")}
    assert sum(cards.values()) >= 4, "four ended calls wrote at least one effect each"

    open_page(at, "pages_/load.py")
    assert at.metric[0].label == "Calls/s, last minute"

    open_page(at, "pages_/scorecards.py")
    assert any("No scenario has run yet" in i.value for i in at.info)


def test_the_calls_page_pins_the_selected_call(
    point_at: object, integration_url: str, mocks_url: str
) -> None:
    point_at(integration_url, mocks_url)  # type: ignore[operator]
    at = open_page(app(), "pages_/calls.py")
    oldest = at.dataframe[0].value["call id"].iloc[-1]
    at.session_state["selected_call"] = oldest
    at.run()
    assert [h.value for h in at.subheader] == [f"Call {oldest}"]


def test_chaos_controls_change_the_mocks_fault_profile(
    point_at: object, integration_url: str, mocks_url: str, control: httpx.Client
) -> None:
    point_at(integration_url, mocks_url)  # type: ignore[operator]
    at = open_page(app(), "pages_/chaos.py")
    at.selectbox(key="chaos_system").set_value("eligibility").run()
    at.button_group(key="chaos_eligibility_latency").set_value("fixed")
    at.number_input(key="chaos_eligibility_ms").set_value(120.0)
    at.slider(key="chaos_eligibility_error_pct").set_value(40)
    at.multiselect(key="chaos_eligibility_kinds").set_value(["503", "429"])
    at.toggle(key="chaos_eligibility_quota").set_value(True)
    at.number_input(key="chaos_eligibility_quota_requests").set_value(7)
    at.button(key="chaos_eligibility_apply").click().run()
    assert not at.exception

    profile = control.get("/_chaos/systems/eligibility").json()["profile"]
    assert profile["latency"] == {**profile["latency"], "kind": "fixed", "ms": 120.0}
    assert profile["errors"]["rate"] == 0.4
    assert profile["errors"]["kinds"] == {"503": 1.0, "429": 1.0}
    assert profile["rate_limit"]["requests"] == 7
    assert any("Eligibility" in s.value for s in at.success), "the page confirms the change"

    at.button(key="chaos_eligibility_outage").click().run()
    assert control.get("/_chaos").json()["systems"]["eligibility"]["down_now"] is True

    at.button(key="preset_Slow CRM (p50 250 ms, long tail)").click().run()
    assert control.get("/_chaos/systems/crm").json()["profile"]["latency"]["p50_ms"] == 250

    at.button(key="chaos_reset").click().run()
    assert control.get("/_chaos").json()["systems"] == {}
    assert not at.exception


DOWN = ("slack", "email")  # the targets taken down while calls end
DEAD_CALLS = 3  # calls ended while they are down: one dead letter per call and target


def delivered_ids(api: httpx.Client) -> set[int]:
    found = api.get("/outbox/effects", params={"status": "delivered", "limit": 1000})
    found.raise_for_status()
    return {e["id"] for e in found.json()["effects"]}


def dead_ids(api: httpx.Client) -> set[int]:
    found = api.get("/outbox/dead", params={"limit": 1000})
    found.raise_for_status()
    return {e["id"] for e in found.json()["effects"]}


@pytest.fixture
def dead_letters(
    mocks_url: str,
    mock_settings: MockSettings,
    enterprise: MockEnterprise,
    control: httpx.Client,
    tmp_path: Path,
) -> Iterator[tuple[httpx.Client, list[dict[str, Any]]]]:
    """A real integration service (a quick outbox: four attempts within a second) whose
    outbox holds real dead letters: calls ended while Slack and Email were down. The
    outage is over when the test starts; nothing is waiting to be delivered."""
    policies = outbox_policies(tmp_path)
    with serve_layer(mocks_url, mock_settings, tmp_path, policies_file=policies) as (_, api):
        try:
            for system in DOWN:
                down = control.post(f"/_chaos/systems/{system}/outage", json={"seconds": 60})
                down.raise_for_status()
            for n, customer in enumerate(enterprise.context.dataset.customers[:DEAD_CALLS]):
                started = api.post("/calls", json={"phone": customer.phone_e164})
                assert started.status_code == 201, started.text
                outcome = {
                    "disposition": "resolved",
                    "slack": {"channel": "#voice-agent", "text": f"call {n} resolved"},
                    "messages": [
                        {
                            "channel": "email",
                            "to": f"caller{n}@example.com",
                            "subject": "Your call",
                            "text": "Thank you for calling.",
                        }
                    ],
                }
                ended = api.post(f"/calls/{started.json()['call_id']}/end", json=outcome)
                assert ended.status_code == 201, ended.text

            def settled() -> bool:
                box = api.get("/outbox").json()
                return bool(box["pending"] == box["in_flight"] == 0 and box["dead"] > 0)

            wait_until(settled, 10, "the outbox settled with dead letters")
            dead = api.get("/outbox/dead", params={"limit": 1000}).json()["effects"]
        finally:
            control.post("/_chaos/reset").raise_for_status()  # the vendors are back
        yield api, dead


def test_the_write_path_page_shows_real_dead_letters_and_replays_them_once(
    point_at: object,
    dead_letters: tuple[httpx.Client, list[dict[str, Any]]],
    mocks_url: str,
) -> None:
    api, dead = dead_letters
    ids = {s: sorted(e["id"] for e in dead if e["system"] == s) for s in DOWN}
    assert sorted(e["system"] for e in dead) == sorted(DOWN * DEAD_CALLS), dead
    assert all(e["dead_reason"] == "max_attempts" for e in dead), dead
    assert all(e["last_error"].startswith("unavailable: ") for e in dead), dead
    keys = {e["id"]: (e["idempotency_key"], e["system"]) for e in dead}

    def ledger(effect_ids: list[int]) -> Any:
        return count_writes(mocks_url, dict(keys[i] for i in effect_ids), CONTROL_HEADERS)

    never_applied = ledger(sorted(keys))
    assert never_applied.applied == 0 and never_applied.duplicates == []

    point_at(str(api.base_url).rstrip("/"), mocks_url)  # type: ignore[operator]
    at = open_page(app(), "pages_/write_path.py")
    box = api.get("/outbox").json()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Dead letters"] == str(len(dead)) and metrics["Backlog"] == "0"
    assert metrics["Delivered"] == f"{box['delivered']:,}" and box["delivered"] >= DEAD_CALLS
    buttons = {b.key: b.label for b in at.button}
    assert {f"replay_{i}" for i in keys} <= set(buttons)
    assert buttons["replay_system_slack"] == f"Replay {DEAD_CALLS} for Slack"
    assert buttons["replay_system_email"] == f"Replay {DEAD_CALLS} for Email"
    assert any(m.value == "max attempts" for m in at.markdown), "each row says why it died"
    assert any(m.value.startswith("unavailable: slack.post_message: HTTP 503") for m in at.markdown)

    # One row: that effect alone goes back to the queue and is delivered, once.
    one = ids["slack"][0]
    at.button(key=f"replay_{one}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Replayed 1 effect(s)" in t.value for t in at.toast)
    wait_until(lambda: one in delivered_ids(api), 10, f"effect {one} delivered")
    assert dead_ids(api) == set(keys) - {one}

    # One system: every Email dead letter, and nothing of Slack's.
    at.button(key="replay_system_email").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(f"Replayed {DEAD_CALLS} effect(s): Email" in t.value for t in at.toast)
    replayed = [one, *ids["email"]]
    wait_until(lambda: set(replayed) <= delivered_ids(api), 10, "the Email effects delivered")
    assert dead_ids(api) == set(ids["slack"][1:])

    once = ledger(replayed)
    assert (once.applied, once.lost, once.duplicates) == (len(replayed), [], [])
    untouched = ledger(ids["slack"][1:])
    assert untouched.applied == 0 and untouched.duplicates == []

    at.run()  # the page, redrawn: only the two Slack dead letters are left
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Dead letters"] == str(len(ids["slack"]) - 1)
    buttons = {b.key: b.label for b in at.button}
    assert {k for k in buttons if k and k.startswith("replay_")} == {
        "replay_system_slack",
        *(f"replay_{i}" for i in ids["slack"][1:]),
    }
    assert buttons["replay_system_slack"] == f"Replay {DEAD_CALLS - 1} for Slack"


@pytest.fixture(scope="module")
def personas(enterprise: MockEnterprise) -> PersonaBook:
    return PersonaBook.from_dataset(enterprise.context.dataset, most=50)


OLDER_FAILED_RUN = {
    "name": "payment_gateway_down",
    "started_at": "2020-01-01T09:00:00+00:00",
    "passed": False,
    "scorecard": {
        "calls_total": 40,
        "ok": 31,
        "degraded": 2,
        "escalated": 7,
        "writes_lost": 2,
        "expectations": [{"expectation": "writes_lost == 0", "actual": 2, "passed": False}],
    },
}


def test_the_scorecards_page_shows_a_real_scenario_run(
    point_at: object,
    mocks_url: str,
    mock_settings: MockSettings,
    personas: PersonaBook,
    tmp_path: Path,
) -> None:
    scenario = load_scenario(CATALOG_DIR / "healthy.yaml")
    policies = outbox_policies(tmp_path)
    with serve_layer(mocks_url, mock_settings, tmp_path, policies_file=policies) as (_, api):
        url = str(api.base_url).rstrip("/")
        older = api.post("/scenarios/results", json=OLDER_FAILED_RUN)
        assert older.status_code == 201, older.text
        options = RunOptions(
            integration_url=url,
            mocks_url=mocks_url,
            chaos_token=CHAOS_TOKEN,
            api_token=API_TOKEN,
            speed=scenario.duration / 1.5,
            seed=7,
            pacing=Pacing(think_ms=20),
            progress=False,
        )
        run = asyncio.run(run_scenario(scenario, personas, options, out=io.StringIO()))
        card = run.scorecard
        assert run.kept.startswith("kept by the integration service"), run.kept
        kept = api.get("/scenarios/results").json()["results"]
        assert [r["name"] for r in kept] == ["healthy", "payment_gateway_down"]
        assert kept[0]["scorecard"]["calls_total"] == card["calls_total"] > 0

        point_at(url, mocks_url)  # type: ignore[operator]
        at = open_page(app(), "pages_/scorecards.py")
        assert not at.error, [e.value for e in at.error]
        verdict = "passed" if card["passed"] else "failed"
        assert not at.metric, "a table of runs, not tiles"
        table = at.dataframe[0].value
        assert list(table["scenario"]) == ["healthy", "payment_gateway_down"]
        assert list(table["verdict"]) == [verdict, "failed"]
        assert list(table["calls"]) == [f"{card['calls_total']:,}", "40"]
        assert at.selectbox(key="scorecard_run").value == 0  # the newest run is shown
        assert any(verdict.upper() in m.value and "healthy" in m.value for m in at.markdown)
        expectations = at.table[0].value
        assert len(expectations) == len(card["expectations"])
        assert list(expectations["verdict"]) == [
            "pass" if c["passed"] else "fail" for c in card["expectations"]
        ]


def test_pages_explain_unreachable_services_instead_of_failing(point_at: object) -> None:
    point_at(CLOSED, CLOSED)  # type: ignore[operator]
    at = app()
    for page in PAGES:
        open_page(at, page)
        messages = [e.value for e in at.error] + [i.value for i in at.info]
        assert any("not reachable" in m or "No scenario" in m for m in messages), page


def test_the_system_map_page_shows_a_systems_blast_radius(
    point_at: object, integration_url: str, mocks_url: str
) -> None:
    point_at(integration_url, mocks_url)  # type: ignore[operator]
    at = open_page(app(), "pages_/system_map.py")
    assert any(m.value.startswith("<svg") for m in at.markdown), "the map is drawn"
    at.selectbox(key="sysmap-system").set_value("erp").run()
    assert not at.exception
    radius = at.table[0].value
    verdicts = dict(zip(radius["flow"], radius["verdict"], strict=True))
    assert verdicts["caller lookup"] == "degrades" and verdicts["payment"] == "unaffected"
    assert any("ERP and Supply Chain" in m.value for m in at.markdown)


def test_a_scenario_starts_and_stops_from_the_chaos_page(
    point_at: object, integration_url: str, mocks_url: str, control: httpx.Client
) -> None:
    point_at(integration_url, mocks_url)  # type: ignore[operator]
    at = open_page(app(), "pages_/chaos.py")
    at.selectbox(key="scenario_name").set_value("payment_gateway_down")
    at.select_slider(key="scenario_speed").set_value(1)
    at.button(key="scenario_start").click().run()
    assert any("payment_gateway_down** is running" in i.value for i in at.info)
    at.button(key="scenario_start").click().run()  # one run at a time
    assert any("still running" in w.value for w in at.warning)
    at.button(key="scenario_stop").click().run()
    assert not any("is running" in i.value for i in at.info)
    assert control.get("/_chaos").json()["systems"] == {}  # the runner put the mocks back
    assert not at.exception


def test_main_script_is_where_the_cli_expects_it() -> None:
    assert MAIN_SCRIPT.exists() and Path(MAIN_SCRIPT.parent, "pages_", "calls.py").exists()


def _transcript_page() -> None:
    from app.dashboard.pages_.calls import _transcript

    _transcript(
        {
            "transcript": [
                {"role": "caller", "text": "I need to move my appointment"},
                {"role": "agent", "text": "Of course. Which day suits you?"},
            ]
        }
    )
    _transcript({"transcript": "caller: hello"})
    _transcript({})


def test_a_transcript_shows_as_turns_and_its_absence_is_said() -> None:
    at = AppTest.from_function(_transcript_page, default_timeout=30).run()
    assert not at.exception
    turns = [m.value for m in at.markdown if "**caller**" in m.value or "**agent**" in m.value]
    assert turns == [
        "**caller** I need to move my appointment",
        "**agent** Of course. Which day suits you?",
    ]
    assert at.text[0].value == "caller: hello"
    assert [c.value for c in at.caption] == ["No transcript for this call."]
