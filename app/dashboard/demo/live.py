"""The dashboard's one demo runner, kept across Streamlit reruns and shared by every viewer."""

from __future__ import annotations

import streamlit as st

from app.dashboard.demo.runner import DemoRunner, DemoTargets
from app.dashboard.settings import DashboardSettings

__all__ = ["demo_runner"]


@st.cache_resource(show_spinner=False)
def _runner(integration_url: str, mocks_url: str, api_token: str, chaos_token: str) -> DemoRunner:
    return DemoRunner(DemoTargets(integration_url, mocks_url, api_token, chaos_token))


def demo_runner(settings: DashboardSettings) -> DemoRunner:
    """The runner for the stack ``settings`` name (another stack gets its own)."""
    s = settings
    return _runner(s.integration_url, s.mocks_url, s.api_token, s.chaos_token)
