"""The dashboard rendered by Streamlit's AppTest against a running stack on loopback.

The session's mock enterprise, an integration service built for this module (with calls
driven through it), and, for the write-side pages, a stand-in that answers the outbox
and scenario contracts with data. Every page must render without an exception; the chaos
controls must change the mocks' fault profile, checked through ``/_chaos`` itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app.dashboard import MAIN_SCRIPT
from app.serving import serve_in_thread
from mocks.registry import MockEnterprise
from mocks.settings import MockSettings
from tests.conftest import CHAOS_TOKEN
from tests.integration.dashboard_fakes import FakeWriteSide, fake_write_side_app
from tests.integration.lookup_support import serve_layer

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
            if i < 4:  # some calls end, so the outbox has effects (once the write path exists)
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
    systems = at.dataframe[0].value
    assert {"CRM", "Telephony", "ERP"} <= set(systems["system"])

    open_page(at, "pages_/calls.py")
    calls = at.dataframe[0].value
    assert len(calls) == 12 and set(calls["outcome"]) <= {"carry on", "cached, say so", "escalate"}
    assert at.get("plotly_chart"), "the newest call's waterfall is drawn"
    assert any("No transcript" in c.value for c in at.caption)

    open_page(at, "pages_/write_path.py")
    if not at.info or "not available yet" not in at.info[0].value:  # the outbox has landed
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


@pytest.fixture
def write_side() -> Iterator[tuple[FakeWriteSide, str]]:
    state = FakeWriteSide.seeded()
    handle = serve_in_thread(fake_write_side_app(state))
    yield state, handle.url
    handle.stop()


def test_write_path_and_scorecards_show_data_and_replay(
    point_at: object, write_side: tuple[FakeWriteSide, str], mocks_url: str
) -> None:
    state, url = write_side
    point_at(url, mocks_url)  # type: ignore[operator]
    at = open_page(app(), "pages_/write_path.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Dead letters"] == "3" and metrics["Delivered"] == "40"
    at.button(key="replay_61").click().run()
    assert state.replayed == [61]
    at.button(key="replay_system_crm").click().run()
    assert state.replayed == [61, 60]
    assert not at.exception

    open_page(at, "pages_/scorecards.py")
    verdicts = at.dataframe[0].value
    assert list(verdicts["scenario"]) == ["payments-outage", "crm-brownout"]
    assert list(verdicts["verdict"]) == ["failed", "passed"]


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
    assert at.get("graphviz_chart"), "the dependency graph is drawn"
    at.selectbox(key="sysmap-system").set_value("erp").run()
    assert not at.exception
    radius = at.dataframe[0].value
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
