"""The Scorecards and System map pages rendered by Streamlit's AppTest against a real
integration service on loopback (in front of the session's mock enterprise).

- Scorecards: a scorecard of a payments outage and an older, thinner one are kept by the
  service (``POST /scenarios/results``, as ``python -m app scenario run`` does; the browser
  test runs a real scenario). The page shows a verdict per run, a table of expectations
  with a verdict each, shares as percentages (4.48% failing reads 4.5%) and the timeline;
  no tile of field names, no raw dict.
- System map: the SVG the page draws has one label per edge, fits the 820 px column, and a
  chosen system's blast radius is painted and listed flow by flow.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app.dashboard import MAIN_SCRIPT
from mocks.settings import MockSettings
from tests.conftest import API_TOKEN, CHAOS_TOKEN
from tests.live.lookup_support import serve_layer
from tests.unit.test_dashboard_scorecards_and_map import CARD, RESULT

CLOSED = "http://127.0.0.1:9"
OLDER_RUN = {
    "name": "payment_gateway_down",
    "started_at": "2020-01-01T09:00:00+00:00",
    "passed": False,
    "scorecard": {
        "calls_total": 250,
        "failed": 11,
        "failed_ratio": 0.0448,
        "expectations": [
            {"expectation": "failed_ratio <= 0.02", "actual": 0.0448, "passed": False},
            {"expectation": "writes_lost == 0", "actual": 0, "passed": True},
        ],
    },
}


@pytest.fixture
def aim(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    st.cache_data.clear()

    def to(integration: str, mocks: str) -> None:
        monkeypatch.setenv("SWITCHBOARD_DASHBOARD_INTEGRATION_URL", integration)
        monkeypatch.setenv("SWITCHBOARD_DASHBOARD_MOCKS_URL", mocks)
        monkeypatch.setenv("SWITCHBOARD_CHAOS_TOKEN", CHAOS_TOKEN)
        monkeypatch.setenv("SWITCHBOARD_DASHBOARD_API_TOKEN", API_TOKEN)
        monkeypatch.setenv("SWITCHBOARD_DASHBOARD_LOCUST_URL", CLOSED)

    yield to
    st.cache_data.clear()


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(str(MAIN_SCRIPT), default_timeout=30)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def drawn_svgs(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("<svg")]


def cells(at: AppTest) -> list[str]:
    return [str(v) for t in at.table for v in t.value.to_numpy().ravel()]


def test_the_scorecards_page_reads_as_a_verdict_a_table_and_a_timeline(
    aim: Any, mocks_url: str, mock_settings: MockSettings, tmp_path: Path
) -> None:
    """A full scorecard (a payments outage) and an older, thinner one, kept by the real
    service; a scorecard made by running a scenario is the browser test's."""
    newest = {**RESULT, "started_at": "2026-12-06T23:10:02+00:00", "passed": False}
    with serve_layer(mocks_url, mock_settings, tmp_path) as (_, api):
        for result in (OLDER_RUN, {**newest, "scorecard": CARD}):
            assert api.post("/scenarios/results", json=result).status_code == 201
        aim(str(api.base_url).rstrip("/"), mocks_url)
        at = open_page("pages_/scorecards.py")
        assert not at.error, [e.value for e in at.error]
        assert not at.metric, "no wall of tiles"
        runs = at.dataframe[0].value
        assert list(runs["scenario"]) == ["payment_gateway_down"] * 2
        assert list(runs["verdict"]) == ["failed", "failed"]
        assert list(runs["failed"]) == ["4.5%", "4.5%"]
        assert any(m.value.startswith("### :red-background") for m in at.markdown)
        assert any("2 of 3 expectations met" in m.value for m in at.markdown)

        expectations = at.table[0].value
        assert list(expectations.columns) == [
            "expectation",
            "expected",
            "observed",
            "unit",
            "verdict",
        ]
        assert expectations.to_dict("records")[0] == {
            "expectation": "Calls failed",
            "expected": "≤ 2%",
            "observed": "4.5%",
            "unit": "% of calls",
            "verdict": "fail",
        }
        assert list(expectations["verdict"]) == ["fail", "pass", "pass"]

        story = at.table[1].value
        assert list(story.columns) == ["at", "what", "outcome"]
        assert list(story["at"]) == ["0:00", "0:30", "2:30", "3:00", "3:03"]
        assert "payment gateway down" in story["what"].iloc[1]
        assert at.get("plotly_chart"), "the faults on the run's clock"
        every = cells(at) + [str(v) for v in runs.to_numpy().ravel()]
        assert not [c for c in every if "{" in c or re.search(r"\b0\.\d{3,}", c)], every

        at.selectbox(key="scorecard_run").set_value(1).run()
        assert not at.exception
        older = at.table[0].value
        assert list(older["observed"]) == ["4.5%", "0"]
        assert list(older["verdict"]) == ["fail", "pass"]
        assert any("1 of 2 expectations met" in m.value for m in at.markdown)


def test_the_scorecards_page_names_the_real_command_when_nothing_ran(
    aim: Any, mocks_url: str, mock_settings: MockSettings, tmp_path: Path
) -> None:
    with serve_layer(mocks_url, mock_settings, tmp_path) as (_, api):
        aim(str(api.base_url).rstrip("/"), mocks_url)
        at = open_page("pages_/scorecards.py")
        hint = " ".join(i.value for i in at.info)
        assert re.search(r"`(switchboard|python -m app) scenario run NAME`", hint), hint


def test_the_system_map_draws_one_label_per_edge_and_paints_a_blast_radius(
    aim: Any, mocks_url: str, mock_settings: MockSettings, tmp_path: Path
) -> None:
    with serve_layer(mocks_url, mock_settings, tmp_path) as (_, api):
        aim(str(api.base_url).rstrip("/"), mocks_url)
        at = open_page("pages_/system_map.py")
        assert not at.error, [e.value for e in at.error]
        (svg,) = [b for b in drawn_svgs(at) if "<svg" in b]
        edges = re.findall(r'<g class="edge" data-source="([^"]+)" data-target="([^"]+)"', svg)
        labels = re.findall(r'class="edge-label" data-source="([^"]+)" data-target="([^"]+)"', svg)
        assert edges and sorted(edges) == sorted(labels)
        assert re.search(r'viewBox="0 0 820 \d+"', svg) and "max-width:820px" in svg
        for system in api.get("/system-map").json()["systems"]:
            assert f'data-key="sys:{system}"' in svg or f'data-key="mw:{system}"' in svg

        at.selectbox(key="sysmap-system").set_value("erp").run()
        assert not at.exception
        radius = at.table[0].value
        verdicts = dict(zip(radius["flow"], radius["verdict"], strict=True))
        assert verdicts["caller lookup"] == "degrades" and verdicts["payment"] == "unaffected"
        hears = radius[radius["flow"] == "caller lookup"]["the caller hears"].iloc[0]
        assert hears.startswith("I can see most of your details")  # whole, not cut
        assert any("ERP and Supply Chain" in m.value for m in at.markdown)
        (painted,) = [b for b in drawn_svgs(at) if "<svg" in b]
        assert re.search(r'data-target="sys:erp" data-mode="read" data-verdict="degrades"', painted)
