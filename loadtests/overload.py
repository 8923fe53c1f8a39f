"""The overload burst: far more call starts at once than a worker can look up in time.

    python -m loadtests.overload --url http://127.0.0.1:8000 [--calls 2000] [--concurrency 200]

``concurrency`` clients each start calls back to back (``POST /calls`` with an id of its
own) until ``calls`` have been asked for. Every answer is timed at the client: a start the
service admitted (201) must come back within its deadline + 25 ms; one it refused (503
with Retry-After) within 50 ms, at once rather than after waiting in a queue. Afterwards
every id is read back (``GET /calls/{id}``): each admitted call is stored once, and no
refused one was stored at all.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from integration.access import API_TOKEN_ENV, api_token_from
from mocks.chaos.stats import percentile

__all__ = ["BurstReport", "burst", "main"]

REFUSAL_BUDGET_MS = 50.0
DEADLINE_SLACK_MS = 25.0


@dataclass
class BurstReport:
    calls: int = 0
    concurrency: int = 0
    deadline_ms: float = 800.0
    admitted_ms: list[float] = field(default_factory=list)
    refused_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0
    stored_admitted: int = 0
    stored_refused: int = 0  # refused starts that were stored anyway: must be none
    missing_admitted: int = 0  # admitted starts not stored: must be none

    def pct(self, values: list[float], q: float) -> float | None:
        found = percentile(sorted(values), q)
        return round(found, 1) if found is not None else None

    @property
    def admitted_late(self) -> int:
        return sum(ms > self.deadline_ms + DEADLINE_SLACK_MS for ms in self.admitted_ms)

    @property
    def refused_slow(self) -> int:
        return sum(ms > REFUSAL_BUDGET_MS for ms in self.refused_ms)

    @property
    def passed(self) -> bool:
        return (
            not self.errors
            and self.admitted_late == 0
            and self.refused_slow == 0
            and self.stored_refused == 0
            and self.missing_admitted == 0
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "concurrency": self.concurrency,
            "seconds": round(self.elapsed_s, 2),
            "admitted": len(self.admitted_ms),
            "refused": len(self.refused_ms),
            "errors": self.errors,
            "admitted_ms": {f"p{q}": self.pct(self.admitted_ms, q) for q in (50, 95, 99, 100)},
            "refused_ms": {f"p{q}": self.pct(self.refused_ms, q) for q in (50, 95, 99, 100)},
            "admitted_late": self.admitted_late,
            "refused_slow": self.refused_slow,
            "stored_admitted": self.stored_admitted,
            "stored_refused": self.stored_refused,
            "missing_admitted": self.missing_admitted,
            "passed": self.passed,
        }

    def lines(self) -> list[str]:
        j = self.as_json()
        a, r = j["admitted_ms"], j["refused_ms"]
        return [
            f"{self.calls} starts from {self.concurrency} clients in {j['seconds']} s: "
            f"{j['admitted']} admitted, {j['refused']} refused, errors {self.errors or 0}",
            f"admitted p50/p95/max {a['p50']}/{a['p95']}/{a['p100']} ms; "
            f"{self.admitted_late} past the deadline + {DEADLINE_SLACK_MS:.0f} ms",
            f"refused p50/p95/max {r['p50']}/{r['p95']}/{r['p100']} ms; "
            f"{self.refused_slow} slower than {REFUSAL_BUDGET_MS:.0f} ms",
            f"stored: {self.stored_admitted} admitted calls, {self.missing_admitted} missing, "
            f"{self.stored_refused} refused ones stored",
        ]


async def burst(
    url: str,
    phones: Sequence[str],
    *,
    calls: int = 2000,
    concurrency: int = 200,
    deadline_ms: float = 800.0,
    prefix: str = "burst",
    headers: dict[str, str] | None = None,
) -> BurstReport:
    report = BurstReport(calls=calls, concurrency=concurrency, deadline_ms=deadline_ms)
    numbers = itertools.count()
    outcome: dict[str, int] = {}  # call id -> status
    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=concurrency)

    async def client(http: aiohttp.ClientSession) -> None:
        while (n := next(numbers)) < calls:
            call_id = f"{prefix}-{n}"
            body = {"phone": phones[n % len(phones)], "call_id": call_id}
            began = time.perf_counter()
            try:
                async with http.post(f"{url}/calls", json=body) as answer:
                    await answer.read()
                    status = answer.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                kind = type(exc).__name__
                report.errors[kind] = report.errors.get(kind, 0) + 1
                continue
            ms = (time.perf_counter() - began) * 1000
            outcome[call_id] = status
            if status == 201:
                report.admitted_ms.append(ms)
            elif status == 503:
                report.refused_ms.append(ms)
            else:
                report.errors[f"HTTP {status}"] = report.errors.get(f"HTTP {status}", 0) + 1

    began = time.perf_counter()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, headers=headers) as http:
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
        report.elapsed_s = time.perf_counter() - began
        await _read_back(http, url, outcome, report)
    return report


async def _read_back(
    http: aiohttp.ClientSession, url: str, outcome: dict[str, int], report: BurstReport
) -> None:
    gate = asyncio.Semaphore(32)

    async def one(call_id: str, status: int) -> None:
        async with gate, http.get(f"{url}/calls/{call_id}") as answer:
            stored = answer.status == 200
            await answer.read()
        if status == 201:
            report.stored_admitted += stored
            report.missing_admitted += not stored
        elif stored:
            report.stored_refused += 1

    await asyncio.gather(*(one(c, s) for c, s in outcome.items()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.overload", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--customers", type=int, default=1000, help="as the mocks were started")
    parser.add_argument("--seed", type=int, default=42, help="as the mocks were started")
    parser.add_argument(
        "--state-dir",
        default=".state",
        help=f"where the service keeps its secrets (or set {API_TOKEN_ENV})",
    )
    args = parser.parse_args(argv)
    token = api_token_from(args.state_dir)
    if token is None:
        parser.error(f"no API token: set {API_TOKEN_ENV}, or start the stack (make up) first")
    from loadtests.stack.callers import real_callers

    phones = [c.phone for c in real_callers(args.customers, args.seed)]
    prefix = f"burst-{int(time.time())}"
    headers = {"Authorization": f"Bearer {token}"}
    report = asyncio.run(
        burst(
            args.url,
            phones,
            calls=args.calls,
            concurrency=args.concurrency,
            prefix=prefix,
            headers=headers,
        )
    )
    print("\n".join(report.lines()))
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
