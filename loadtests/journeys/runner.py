"""Run the call journeys headless, write the reports, and pass or fail on thresholds.

    python -m loadtests.journeys --shape steady --calls-per-hour 3600 --duration 30s --users 10
    python -m loadtests.journeys --shape spike --calls-per-hour 36000 --duration 2m --users 40 \\
        --processes 2 --stack
    python -m loadtests.journeys --check loadtests/out/20300101-120000 --p95 "POST /calls=500"

Runs ``locust -f loadtests/journeys/locustfile.py --headless`` against ``--host`` (or, with
``--stack``, against mocks and an integration service it starts on free ports), writes
Locust's CSV files and HTML report under ``loadtests/out/<timestamp>/``, then checks the
thresholds (``loadtests/journeys/thresholds.yaml``, overridden by flags) and prints each one.
Exit status: 0 all thresholds met; 1 one missed (named on the last lines); 2 Locust itself
failed to run. ``--check DIR`` re-applies thresholds to an earlier run's reports.

``--processes N`` forks N Locust worker processes under one master on this machine; for
workers on other machines, see the README (master and ``--worker`` processes).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from integration.access import API_TOKEN_ENV
from loadtests.journeys.shape_curves import PROFILES
from loadtests.journeys.thresholds import (
    AGGREGATED,
    DEFAULT_THRESHOLDS,
    StepStats,
    Verdict,
    evaluate,
    load_thresholds,
    read_stats,
)

__all__ = ["expected_calls", "main", "parse_duration"]

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
OUT = Path(__file__).parent.parent / "out"  # loadtests/out
CSV_PREFIX = "locust"
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s?)?$")


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``5m``, ``1h30m`` → seconds."""
    match = _DURATION.match(text.strip())
    if not text.strip() or match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 30s, 5m or 1h")
    hours, minutes, seconds = match.groups()
    total = int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)
    if total <= 0:
        raise argparse.ArgumentTypeError("the duration must be above zero")
    return total


def expected_calls(
    shape: str, calls_per_hour: float, users: int, seconds: float, spike_factor: float = 3.0
) -> float:
    """Calls the shape asks for over the run: the rate times the users the shape runs,
    second by second, over ``users``."""
    options = SimpleNamespace(spike_factor=spike_factor)
    profile = PROFILES[shape]
    step = 0.1
    load = sum(
        profile(i * step, users, seconds, options) / users * step
        for i in range(math.ceil(seconds / step))
    )
    return calls_per_hour / 3600 * load


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.journeys", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--shape", choices=sorted(PROFILES), default="steady")
    parser.add_argument("--calls-per-hour", type=float, default=3600.0)
    parser.add_argument("--duration", type=parse_duration, default=parse_duration("30s"))
    parser.add_argument(
        "--users", type=int, default=None, help="caller lines (default: one per call a second)"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=None,
        help="Locust workers on this machine (-1: one per core)",
    )
    parser.add_argument("--spike-factor", type=float, default=3.0)
    parser.add_argument("--host", default="http://127.0.0.1:8000", help="the integration service")
    parser.add_argument(
        "--stack", action="store_true", help="start mocks and the service first (.state/loadtest)"
    )
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--without-tools",
        action="store_true",
        help="accept a service without tools (calls skip them)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="report folder (default loadtests/out/<timestamp>)"
    )
    parser.add_argument("--thresholds", type=Path, default=DEFAULT_THRESHOLDS)
    parser.add_argument("--max-failure-ratio", type=float, default=None)
    parser.add_argument(
        "--p95",
        action="append",
        default=[],
        metavar="STEP=MS",
        help='a p95 threshold, e.g. "POST /calls=900" (repeatable)',
    )
    parser.add_argument("--min-calls-ratio", type=float, default=None)
    parser.add_argument("--quiet", action="store_true", help="only Locust's final summary")
    parser.add_argument(
        "--check",
        type=Path,
        default=None,
        metavar="DIR",
        help="only apply thresholds to the reports in DIR",
    )
    return parser


def _p95_flags(parser: argparse.ArgumentParser, flags: Sequence[str]) -> dict[str, float]:
    found: dict[str, float] = {}
    for flag in flags:
        name, sep, ms = flag.rpartition("=")
        try:
            found[name.strip()] = float(ms)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            parser.error(f"--p95 {flag!r}: expected STEP=MS, e.g. 'POST /calls=900'")
    return found


def _locust_command(args: argparse.Namespace, host: str, out: Path) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        host,
        "--users",
        str(args.users),
        "--run-time",
        f"{args.duration:g}s",
        "--shape",
        args.shape,
        "--calls-per-hour",
        f"{args.calls_per_hour:g}",
        "--spike-factor",
        f"{args.spike_factor:g}",
        "--customers",
        str(args.customers),
        "--seed",
        str(args.seed),
        "--csv",
        str(out / CSV_PREFIX),
        "--html",
        str(out / "report.html"),
        # A journey under way when the time is up may finish (its end is a write).
        "--stop-timeout",
        "15",
        "--exit-code-on-error",
        "0",
        "--loglevel",
        "WARNING",
    ]
    if args.processes:
        command += ["--processes", str(args.processes)]
    if args.without_tools:
        command.append("--without-tools")
    if args.quiet:
        command.append("--only-summary")
    return command


def _judge(out: Path, args: argparse.Namespace, p95: dict[str, float]) -> int:
    try:
        thresholds = load_thresholds(args.thresholds).overridden(
            args.max_failure_ratio, p95, args.min_calls_ratio
        )
    except ValueError as exc:
        print(f"thresholds: {exc}", file=sys.stderr)
        return 2
    stats_csv = out / f"{CSV_PREFIX}_stats.csv"
    if not stats_csv.exists():
        print(f"no {stats_csv}: did Locust run?", file=sys.stderr)
        return 2
    steps = read_stats(stats_csv)
    run = _run_facts(out)
    expected = None
    if run is not None:
        expected = expected_calls(
            str(run["shape"]),
            float(run["calls_per_hour"]),
            int(run["users"]),
            float(run["duration_s"]),
            float(run["spike_factor"]),
        )
    verdicts = evaluate(steps, thresholds, calls_expected=expected)
    _print_steps(steps)
    for verdict in verdicts:
        print(f"{'PASS' if verdict.passed else 'FAIL'}  {verdict.what}")
    missed = [v for v in verdicts if not v.passed]
    (out / "thresholds.json").write_text(
        json.dumps(
            {
                "thresholds": thresholds.model_dump(),
                "passed": not missed,
                "verdicts": [{"passed": v.passed, "what": v.what} for v in verdicts],
            },
            indent=2,
        )
        + "\n"
    )
    return _verdict(missed, out)


def _verdict(missed: list[Verdict], out: Path) -> int:
    if missed:
        print(f"\n{len(missed)} threshold(s) missed:", file=sys.stderr)
        for verdict in missed:
            print(f"  FAILED: {verdict.what}", file=sys.stderr)
        return 1
    print(f"\nall thresholds met; reports in {out}")
    return 0


def _print_steps(steps: Mapping[str, StepStats]) -> None:
    print(f"\n{'step':<44}{'requests':>9}{'failed':>8}{'p50':>7}{'p95':>7}{'p99':>7}  (ms)")
    for name, s in steps.items():
        if name != AGGREGATED:
            print(
                f"{name:<44}{s.requests:>9}{s.failures:>8}"
                f"{s.p50_ms:>7.0f}{s.p95_ms:>7.0f}{s.p99_ms:>7.0f}"
            )


def _run_facts(out: Path) -> dict[str, Any] | None:
    path = out / "run.json"
    return json.loads(path.read_text()) if path.exists() else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    p95 = _p95_flags(parser, args.p95)
    if args.check is not None:
        return _judge(args.check, args, p95)
    if args.users is None:
        args.users = max(1, math.ceil(args.calls_per_hour / 3600))
    if args.users < 1:
        parser.error("--users must be at least 1")
    per_line = args.calls_per_hour / 3600 / args.users
    if per_line > 2:
        print(
            f"warning: each of {args.users} lines must start {per_line:.1f} calls/s, and a "
            "call with tools takes over half a second: add --users",
            file=sys.stderr,
        )
    out = args.out or OUT / datetime.now().strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    facts = {
        "shape": args.shape,
        "calls_per_hour": args.calls_per_hour,
        "users": args.users,
        "duration_s": args.duration,
        "spike_factor": args.spike_factor,
        "processes": args.processes,
    }
    (out / "run.json").write_text(json.dumps(facts, indent=2) + "\n")
    with ExitStack() as stop:
        host = args.host
        env = dict(os.environ)
        if args.stack:
            from loadtests.stack.services import stack

            started = stop.enter_context(
                stack(Path(".state/loadtest"), customers=args.customers, seed=args.seed)
            )
            host = started.integration_url
            env[API_TOKEN_ENV] = started.api_token  # by the environment: not in `ps`
        print(
            f"locust: {args.shape}, {args.calls_per_hour:g} calls/hour, {args.users} lines, "
            f"{args.duration:g}s against {host}; reports in {out}",
            flush=True,
        )
        code = subprocess.call(_locust_command(args, host, out), env=env)
    if code not in (0, 1):
        print(f"locust exited with status {code}", file=sys.stderr)
        return 2
    return _judge(out, args, p95)
