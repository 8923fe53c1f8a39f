"""Load shapes for the call journeys: how many users run, second by second.

Each user starts calls at a constant rate (``--calls-per-hour`` divided among ``--users``),
so the number of users IS the load: twice the users, twice the calls per hour. The shapes
read Locust's own ``--users`` and ``--run-time`` (``use_common_options``):

* ``steady``: all users within a few seconds, held to the end;
* ``ramp``: from none to ``--users`` over the first 80% of the run, then held;
* ``spike``: ``--users`` throughout, multiplied by ``--spike-factor`` (3) from 40% to 60%
  of the run (a burst of calls, then back, to see whether the layer recovers);
* ``soak``: a gentle climb over the first 10% (at most five minutes), then held for
  hours: slow leaks, growing queues and stores show up here, not in a minute.

``locustfile.py`` uses ``SelectedShape``, which follows ``--shape`` (or ``LOCUST_SHAPE``);
the other classes each work on their own, imported into a locustfile of yours (Locust
takes the first shape class it finds in a locustfile, so import only one).
"""

from __future__ import annotations

from typing import Any

from locust import LoadTestShape

from loadtests.journeys.shape_curves import (
    DEFAULT_RUN_TIME_S,
    PROFILES,
    Profile,
    ramp,
    soak,
    spike,
    steady,
)

__all__ = [
    "PROFILES",
    "RampShape",
    "SelectedShape",
    "SoakShape",
    "SpikeShape",
    "SteadyShape",
]


class _JourneyShape(LoadTestShape):
    abstract = True
    use_common_options = True

    def profile(self, options: Any) -> Profile:
        raise NotImplementedError

    def tick(self) -> tuple[int, float] | None:
        assert self.runner is not None
        options = self.runner.environment.parsed_options
        users = max(1, int(getattr(options, "num_users", None) or 1))
        run_time = float(getattr(options, "run_time", None) or DEFAULT_RUN_TIME_S)
        t = self.get_run_time()
        if t >= run_time:
            return None
        wanted = self.profile(options)(t, users, run_time, options)
        # Spawn (or stop) the difference within about a second: the shape, not the spawn
        # rate, decides how fast the load changes.
        return wanted, float(max(1, abs(wanted - self.get_current_user_count())))


class SteadyShape(_JourneyShape):
    def profile(self, options: Any) -> Profile:
        return steady


class RampShape(_JourneyShape):
    def profile(self, options: Any) -> Profile:
        return ramp


class SpikeShape(_JourneyShape):
    def profile(self, options: Any) -> Profile:
        return spike


class SoakShape(_JourneyShape):
    def profile(self, options: Any) -> Profile:
        return soak


class SelectedShape(_JourneyShape):
    """The profile named by the ``--shape`` option (``locustfile.py`` adds it)."""

    def profile(self, options: Any) -> Profile:
        name = getattr(options, "shape", None) or "steady"
        if name not in PROFILES:
            raise ValueError(f"unknown shape {name!r}: one of {', '.join(PROFILES)}")
        return PROFILES[name]
