"""The dashboard answers only the host names it is meant to be reached by (loopback by
default): a page on another site whose name was made to point at 127.0.0.1 (DNS rebinding)
gets a refusal instead of the dashboard, its data and its chaos controls. Streamlit has
no host check of its own, so the entry script runs this before drawing anything."""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlsplit

__all__ = ["host_allowed"]


def host_allowed(host_header: str | None, allowed: Collection[str]) -> bool:
    """``host_header`` (``name[:port]``, ``[v6]:port``) names an allowed host. None (no
    request behind the run, as in Streamlit's own test runner) is allowed."""
    if host_header is None:
        return True
    name = urlsplit(f"//{host_header.strip()}").hostname
    return name is not None and ("*" in allowed or name.lower() in {a.lower() for a in allowed})
