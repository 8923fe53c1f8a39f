"""The dashboard's entry script (``python -m app dashboard`` runs it under Streamlit).

It only sets the page up, shows which services answer, and hands over to the page the
viewer picked; each page lives in ``pages_/`` and reads the services' APIs, never files.
"""

from __future__ import annotations

import streamlit as st

from app.dashboard import data, ui
from app.dashboard.hosts import host_allowed

st.set_page_config(page_title="Switchboard", page_icon=":material/call:", layout="wide")

PAGES = [
    st.Page("pages_/flow_map.py", title="Flow map", icon=":material/account_tree:", default=True),
    st.Page("pages_/calls.py", title="Calls", icon=":material/call:", url_path="calls"),
    st.Page("pages_/chaos.py", title="Chaos", icon=":material/bolt:", url_path="chaos"),
    st.Page(
        "pages_/write_path.py", title="Write path", icon=":material/outbox:", url_path="write-path"
    ),
    st.Page("pages_/load.py", title="Load", icon=":material/speed:", url_path="load"),
    st.Page(
        "pages_/system_map.py",
        title="System map",
        icon=":material/hub:",
        url_path="system-map",
    ),
    st.Page(
        "pages_/scorecards.py",
        title="Scorecards",
        icon=":material/fact_check:",
        url_path="scorecards",
    ),
    st.Page("pages_/demo.py", title="Guided demo", icon=":material/slideshow:", url_path="demo"),
]

settings = data.settings()
if not host_allowed(st.context.headers.get("host"), settings.trusted_hosts):
    st.error(
        "This dashboard answers only at the host names it trusts "
        "(SWITCHBOARD_DASHBOARD_TRUSTED_HOSTS)."
    )
    st.stop()
page = st.navigation(PAGES)
with st.sidebar:
    st.markdown("### :material/call: Switchboard")
ui.sidebar(
    {
        "integration": data.read("integration", "/health"),
        "mocks": data.read("mocks", "/_mock/health"),
    },
    {"integration": settings.integration_url, "mocks": settings.mocks_url},
    settings.refresh_s,
)
ui.health_banner()  # the one health model, the same line above every page
page.run()
