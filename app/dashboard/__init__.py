"""The live Streamlit dashboard: what stakeholders watch during a demo.

``main.py`` is the entry script; ``pages_/`` holds one script per page; the modules
beside them are plain Python (an HTTP client that never raises, health verdicts, the
flow map's DOT, chart data) so they can be tested without Streamlit. Importing this
package starts nothing.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["MAIN_SCRIPT"]

MAIN_SCRIPT = Path(__file__).with_name("main.py")
