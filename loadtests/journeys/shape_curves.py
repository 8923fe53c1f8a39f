"""How many caller lines run at each moment of a load test, as plain functions of time
(``shapes.py`` wraps them in Locust's ``LoadTestShape``; the runner integrates them to
know how many calls a run asked for). No Locust here: importing Locust monkey-patches
the whole interpreter with gevent.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = ["DEFAULT_RUN_TIME_S", "PROFILES", "Profile", "ramp", "soak", "spike", "steady"]

DEFAULT_RUN_TIME_S = 60.0  # when --run-time is not given


Profile = Callable[[float, int, float, Any], int]  # (t, users, run_time, options) -> users


def steady(t: float, users: int, run_time: float, options: Any) -> int:
    return users


def ramp(t: float, users: int, run_time: float, options: Any) -> int:
    return max(1, math.ceil(users * min(1.0, t / (0.8 * run_time))))


def spike(t: float, users: int, run_time: float, options: Any) -> int:
    factor = float(getattr(options, "spike_factor", None) or 3.0)
    if 0.4 * run_time <= t < 0.6 * run_time:
        return math.ceil(users * factor)
    return users


def soak(t: float, users: int, run_time: float, options: Any) -> int:
    climb = min(300.0, 0.1 * run_time)
    return max(1, math.ceil(users * min(1.0, t / climb)))


PROFILES: dict[str, Profile] = {"steady": steady, "ramp": ramp, "spike": spike, "soak": soak}
