"""How many requests per second one mock-enterprise worker serves with no faults.

    python -m loadtests.mock_throughput [--seconds 10] [--concurrency 64]

Starts ``python -m app mocks`` on a free loopback port (one uvicorn worker), drives a mix
of the read calls a caller lookup makes with aiohttp (the fastest client measured here),
and prints requests/s and latency percentiles per endpoint and overall.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field

import aiohttp

from loadtests.stack.processes import free_port, running
from mocks.chaos.stats import percentile
from mocks.dataset import generate_dataset
from mocks.settings import MockCredentials


@dataclass
class Tally:
    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))


Request = tuple[str, str, dict[str, str], dict[str, str] | None]


def request_mix(base: str, customers: int, seed: int) -> list[Request]:
    """(name, url, headers, json body) for each kind of read, over real customers."""
    creds = MockCredentials()
    data = generate_dataset(customers=customers, seed=seed)
    sample = random.Random(1).sample(data.customers, 200)
    pair = f"{creds.twilio_account_sid}:{creds.twilio_auth_token}".encode()
    twilio = "Basic " + base64.b64encode(pair).decode()
    calls_url = f"{base}/telephony/2010-04-01/Accounts/{creds.twilio_account_sid}/Calls.json"
    mix: list[Request] = []
    for customer in sample:
        phone = customer.phone_e164
        soql = f"SELECT Id, Name, Phone FROM Contact WHERE Phone = '{phone}'"
        mix.append(("crm.query", f"{base}/crm/services/data/v59.0/query?q={soql}", {}, None))
        mix.append(
            (
                "telephony.calls",
                f"{calls_url}?From={phone}&PageSize=20",
                {"Authorization": twilio},
                None,
            )
        )
        mix.append(
            (
                "eligibility.check",
                f"{base}/eligibility/v1/checks",
                {"X-Api-Key": creds.eligibility_api_key},
                {"customer_id": customer.customer_id, "product_code": data.products[0].code},
            )
        )
    return mix


async def crm_token(session: aiohttp.ClientSession, base: str) -> str:
    creds = MockCredentials()
    form = {
        "grant_type": "client_credentials",
        "client_id": creds.crm_client_id,
        "client_secret": creds.crm_client_secret,
    }
    async with session.post(f"{base}/crm/services/oauth2/token", data=form) as response:
        response.raise_for_status()
        return str((await response.json())["access_token"])


async def drive(base: str, seconds: float, concurrency: int, customers: int, seed: int) -> Tally:
    mix = request_mix(base, customers, seed)
    tally = Tally()
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        bearer = {"Authorization": f"Bearer {await crm_token(session, base)}"}
        stop_at = time.perf_counter() + seconds

        async def worker(offset: int) -> None:
            i = offset
            while time.perf_counter() < stop_at:
                name, url, headers, body = mix[i % len(mix)]
                i += concurrency
                if name == "crm.query":
                    headers = bearer
                started = time.perf_counter()
                method = "POST" if body is not None else "GET"
                async with session.request(method, url, headers=headers, json=body) as response:
                    await response.read()
                    ok = response.status < 400
                elapsed = (time.perf_counter() - started) * 1000
                if ok:
                    tally.latencies_ms[name].append(elapsed)
                else:
                    tally.errors[name] += 1

        await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return tally


def report(tally: Tally, seconds: float) -> None:
    print(f"{'endpoint':<20}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}")
    everything: list[float] = []
    for name, values in sorted(tally.latencies_ms.items()):
        ordered = sorted(values)
        everything.extend(values)
        print(
            f"{name:<20}{len(values) / seconds:>9.0f}{percentile(ordered, 50):>9.1f}"
            f"{percentile(ordered, 95):>9.1f}{percentile(ordered, 99):>9.1f}"
            f"{tally.errors.get(name, 0):>8}"
        )
    ordered = sorted(everything)
    print(
        f"{'all':<20}{len(everything) / seconds:>9.0f}{percentile(ordered, 50):>9.1f}"
        f"{percentile(ordered, 95):>9.1f}{percentile(ordered, 99):>9.1f}"
        f"{sum(tally.errors.values()):>8}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    if not 0 < args.seconds <= 300:
        parser.error("--seconds must be in (0, 300]")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    print(f"starting the mocks on {base} (one worker, {args.customers} customers)...")
    with running(
        [
            "mocks",
            "--port",
            str(port),
            "--customers",
            str(args.customers),
            "--seed",
            str(args.seed),
        ],
        f"{base}/_mock/health",
        env={"SWITCHBOARD_STATE_DIR": ".state/throughput"},
    ):
        print(f"driving {args.concurrency} concurrent clients for {args.seconds:.0f}s...")
        tally = asyncio.run(drive(base, args.seconds, args.concurrency, args.customers, args.seed))
    report(tally, args.seconds)


if __name__ == "__main__":
    main()
