"""Locust users that make whole calls against the integration service.

    locust -f loadtests/journeys/locustfile.py --host http://127.0.0.1:8000 \\
        --calls-per-hour 3600 --users 10 --shape steady --run-time 60s --headless

Each user is a caller line: it starts calls at a constant rate (``--calls-per-hour``
divided among ``--users``, through ``constant_throughput``) and each call is one journey
(``calls.py``): the lookup, one to three tools, the end. Every step is reported under
its own name, so Locust's table and CSV show the lookup, each tool and the end apart; a
start the service refused as too busy is its own line (``REFUSED``), not a failure.
``--shape`` (or ``LOCUST_SHAPE``) picks steady, ramp, spike or soak (``shapes.py``).

``python -m loadtests.journeys`` runs this headless with reports and thresholds.
"""

from __future__ import annotations

import csv
import itertools
import os
import random
import secrets
from typing import Any

import gevent
from locust import FastHttpUser, constant_throughput, events, task
from locust.runners import WorkerRunner
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV

from integration.access import API_TOKEN_ENV, api_token_from
from loadtests.journeys.calls import (
    JOURNEYS,
    Caller,
    JourneyRun,
    Reply,
    call_journey,
    pick,
    problem,
    refused,
)
from loadtests.journeys.shapes import PROFILES, SelectedShape

__all__ = ["REFUSED", "CallerLine", "SelectedShape"]

# Where a start the service turned away (503, too busy to answer in time) is counted.
REFUSED = "POST /calls (refused: too busy)"

_callers: list[Caller] = []
_loaded: dict[str, tuple[int, int]] = {}
_call_numbers = itertools.count()
_tags: dict[int, str] = {}


def _process_tag() -> str:
    """A tag per process, made in the process itself: ``--processes`` forks its workers
    after this module is imported, and they must not share call ids."""
    pid = os.getpid()
    if pid not in _tags:
        _tags[pid] = f"{secrets.token_hex(3)}{pid:x}"
    return _tags[pid]


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    group = parser.add_argument_group("Switchboard journeys")
    group.add_argument(
        "--calls-per-hour",
        type=float,
        default=3600.0,
        env_var="LOCUST_CALLS_PER_HOUR",
        help="target calls started per hour across all --users (at the shape's full load)",
    )
    group.add_argument(
        "--shape",
        choices=sorted(PROFILES),
        default="steady",
        env_var="LOCUST_SHAPE",
        help="load shape: steady, ramp, spike or soak",
    )
    group.add_argument(
        "--spike-factor",
        type=float,
        default=3.0,
        env_var="LOCUST_SPIKE_FACTOR",
        help="users during the spike, as a multiple of --users",
    )
    group.add_argument(
        "--customers",
        type=int,
        default=1000,
        env_var="LOCUST_CUSTOMERS",
        help="callers come from the shared dataset of this size (as the mocks serve it)",
    )
    group.add_argument("--seed", type=int, default=42, env_var="LOCUST_SEED")
    group.add_argument(
        "--without-tools",
        action="store_true",
        env_var="LOCUST_WITHOUT_TOOLS",
        help="accept a service with no tool API (GET /tools 404): calls skip the tools",
    )
    # On the parser itself: only Locust's own add_argument knows a secret (masked in the UI).
    parser.add_argument(
        "--api-token",
        default="",
        env_var=API_TOKEN_ENV,
        is_secret=True,
        help="the integration service's API token (default: the one `make up` made in .state)",
    )


@events.test_start.add_listener
def _rate_per_line(environment: Any, **_: Any) -> None:
    """Each line's share of the calls per hour, worked out where ``--users`` is known (the
    master, or a lone process) and sent to the workers with the other custom options."""
    if isinstance(environment.runner, WorkerRunner):
        return
    options = environment.parsed_options
    users = max(1, int(getattr(options, "num_users", None) or 1))
    options.line_calls_per_s = float(options.calls_per_hour) / 3600 / users


@events.quitting.add_listener
def _final_csv(environment: Any, **_: Any) -> None:
    """Write the stats CSV once more with every request counted: Locust's writer refreshes
    it each second, so its last copy can miss the journeys that finished after it."""
    prefix = getattr(environment.parsed_options, "csv_prefix", None)
    if not prefix or isinstance(environment.runner, WorkerRunner):
        return
    writer = StatsCSV(environment, PERCENTILES_TO_REPORT)
    with open(f"{prefix}_stats.csv", "w", newline="") as handle:
        writer.requests_csv(csv.writer(handle))
    with open(f"{prefix}_failures.csv", "w", newline="") as handle:
        writer.failures_csv(csv.writer(handle))


def _callers_for(options: Any) -> list[Caller]:
    """The dataset's callers, built once per process that runs users (not the master)."""
    wanted = (int(options.customers), int(options.seed))
    if _loaded.get("key") != wanted:
        from loadtests.stack.callers import real_callers

        found = real_callers(*wanted)
        _callers[:] = [Caller(c.phone, c.customer_id) for c in found]
        _loaded["key"] = wanted
    return _callers


class CallerLine(FastHttpUser):
    """One line of callers: a call at a time, started on a fixed rhythm."""

    host = "http://127.0.0.1:8000"
    # Wide enough for a lookup at its deadline plus a tool waiting out its turn budget.
    network_timeout = 30.0
    connection_timeout = 10.0

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        options = environment.parsed_options
        per_s = float(options.line_calls_per_s)
        self._callers = _callers_for(options)
        self._every_s = 1 / per_s
        self._pace = constant_throughput(per_s)
        self._rng = random.Random(secrets.randbits(32))
        self._tools: frozenset[str] | None = None
        self._without_tools = bool(getattr(options, "without_tools", False))
        token = getattr(options, "api_token", "") or api_token_from(".state") or ""
        self._auth = {"Authorization": f"Bearer {token}"}

    def wait_time(self) -> float:
        return self._pace(self)

    def on_start(self) -> None:
        self._tools = self._offered_tools()
        # Lines started together would ring together: each begins at a random point of its
        # rhythm, so calls arrive spread out as real callers' do.
        gevent.sleep(self._rng.uniform(0, min(self._every_s, 10.0)))

    def _offered_tools(self) -> frozenset[str] | None:
        with self.client.get(
            "/tools", name="GET /tools", headers=self._auth, catch_response=True
        ) as response:
            if response.status_code == 404 and self._without_tools:
                response.success()
                return None
            if response.status_code != 200:
                response.failure(f"GET /tools: HTTP {response.status_code}")
                return frozenset()
            found = response.json().get("tools", [])
            return frozenset(t["function"]["name"] for t in found)

    @task
    def call(self) -> None:
        kind = pick(self._rng, JOURNEYS)
        caller = self._callers[self._rng.randrange(len(self._callers))]
        call_id = f"lt-{_process_tag()}-{next(_call_numbers)}"
        self._run(call_journey(kind, caller, call_id, self._rng, self._tools))

    def _run(self, journey: JourneyRun) -> None:
        try:
            step = next(journey)
            while True:
                with self.client.request(
                    step.method,
                    step.path,
                    json=step.body,
                    name=step.name,
                    headers=self._auth,
                    catch_response=True,
                ) as response:
                    try:
                        body = response.json()
                    except Exception:
                        body = None
                    reply = Reply(response.status_code or 0, body)
                    wrong = problem(step, reply)
                    if refused(step, reply):  # an answer, counted apart from the starts served
                        response.request_meta["name"] = REFUSED
                    if wrong is None:
                        response.success()
                    else:
                        response.failure(wrong)
                step = journey.send(reply)
        except StopIteration:
            pass
        except LookupError as exc:  # a tool the service does not offer
            events.request.fire(
                request_type="JOURNEY",
                name="missing tool",
                response_time=0,
                response_length=0,
                exception=exc,
                context={},
            )
