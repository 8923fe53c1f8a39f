"""Whole call journeys under Locust: the journeys as data (shared with the benchmark), the
load shapes, the locustfile, and the headless runner that judges a run on thresholds.

    python -m loadtests.journeys --shape steady --calls-per-hour 3600 --duration 30s

Nothing here imports Locust: it monkey-patches the whole interpreter with gevent, so only
``locustfile.py`` and ``shapes.py``, which Locust itself loads, do.
"""

from loadtests.journeys.thresholds import AGGREGATED, read_stats

__all__ = ["AGGREGATED", "read_stats"]
