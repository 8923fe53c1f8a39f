"""How many requests per second each client transport can drive against the mocks.

    python -m loadtests.transport_ceiling [--seconds 5] [--concurrency 100]

Starts ``python -m app mocks`` on a free loopback port (one uvicorn worker), then, one
transport after another in the same run, keeps ``--concurrency`` GETs in flight for
``--seconds`` against the cheapest vendor endpoint (the CRM's API version list: no auth,
no database, but through the whole gateway chain like every vendor call). Prints one
table: requests/s, latency percentiles and the ratio to aiohttp. The layer's default
transport (``IntegrationSettings.transport``) should be the one that wins here.

Transports: ``AiohttpTransport``; ``HttpxTransport`` with httpx's own pool; and
``HttpxTransport`` over httpx-aiohttp's transport when that package is installed.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from integration.transports import AiohttpTransport, HttpxTransport
from integration.transports.base import Transport, TransportFailure, TransportTimeout
from loadtests.stack.processes import free_port, running
from mocks.chaos.stats import percentile

ENDPOINT = "/crm/services/data"
WARM_UP_S = 1.0
REQUEST_TIMEOUT_S = 10.0


@dataclass
class Result:
    name: str
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds


def transports(concurrency: int) -> list[tuple[str, Callable[[], Transport]]]:
    """(name, factory) per transport to measure; each is built inside its own loop."""
    found: list[tuple[str, Callable[[], Transport]]] = [
        ("aiohttp", lambda: AiohttpTransport(concurrency)),
        ("httpx (stock pool)", lambda: HttpxTransport(concurrency)),
    ]
    try:
        import httpx_aiohttp
    except ImportError:
        return found

    def over_aiohttp() -> Transport:
        limits = httpx.Limits(max_connections=concurrency)
        return HttpxTransport(concurrency, transport=httpx_aiohttp.AiohttpTransport(limits=limits))

    found.append(("httpx + httpx-aiohttp", over_aiohttp))
    return found


async def drive(
    name: str, make: Callable[[], Transport], url: str, seconds: float, concurrency: int
) -> Result:
    transport = make()
    result = Result(name, seconds)
    try:
        for phase, length in (("warm-up", WARM_UP_S), ("measure", seconds)):
            stop_at = time.perf_counter() + length
            measuring = phase == "measure"

            async def worker(stop_at: float = stop_at, measuring: bool = measuring) -> None:
                while time.perf_counter() < stop_at:
                    started = time.perf_counter()
                    try:
                        response = await transport.request("GET", url, timeout_s=REQUEST_TIMEOUT_S)
                        ok = response.status == 200
                    except (TransportTimeout, TransportFailure):
                        ok = False
                    if not measuring:
                        continue
                    if ok:
                        result.latencies_ms.append((time.perf_counter() - started) * 1000)
                    else:
                        result.errors += 1

            await asyncio.gather(*(worker() for _ in range(concurrency)))
    finally:
        await transport.aclose()
    return result


def measure(
    loop_kind: str,
    name: str,
    make: Callable[[], Transport],
    url: str,
    seconds: float,
    concurrency: int,
) -> Result:
    """One transport, in a fresh event loop of its own, so no run inherits another's state."""
    coroutine = drive(name, make, url, seconds, concurrency)
    if loop_kind == "uvloop":
        import uvloop

        return uvloop.run(coroutine)
    return asyncio.run(coroutine)


def report(results: list[Result], concurrency: int, loop_kind: str) -> None:
    base = results[0].rate or 1.0
    print(
        f"\n{concurrency} concurrent GET {ENDPOINT}, {results[0].seconds:g}s each, {loop_kind} loop"
    )
    print(f"{'transport':<24}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'vs aiohttp':>12}")
    for r in results:
        ordered = sorted(r.latencies_ms)
        p50, p99 = percentile(ordered, 50), percentile(ordered, 99)
        print(
            f"{r.name:<24}{r.rate:>9.0f}{p50 or 0:>9.1f}{p99 or 0:>9.1f}{r.errors:>8}"
            f"{r.rate / base:>11.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--customers", type=int, default=200, help="a small dataset starts fast")
    parser.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="uvloop is what the integration service runs on",
    )
    args = parser.parse_args()
    if not 0 < args.seconds <= 60:
        parser.error("--seconds must be in (0, 60]")
    if not 1 <= args.concurrency <= 1000:
        parser.error("--concurrency must be in [1, 1000]")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    print(f"starting the mocks on {base} (one worker, {args.customers} customers)...")
    results: list[Result] = []
    with running(
        ["mocks", "--port", str(port), "--customers", str(args.customers)],
        f"{base}/_mock/health",
        env={"SWITCHBOARD_STATE_DIR": ".state/transport-ceiling"},
    ):
        for name, make in transports(args.concurrency):
            print(f"  {name}...")
            outcome = measure(
                args.loop, name, make, base + ENDPOINT, args.seconds, args.concurrency
            )
            results.append(outcome)
    report(results, args.concurrency, args.loop)


if __name__ == "__main__":
    main()
