"""The org's limits (``GET /limits``) and the API usage every REST answer reports.

Salesforce counts each REST request against the org's rolling daily allocation and says
where it stands in ``Sforce-Limit-Info: api-usage=<used>/<max>`` on every answer. The mock
counts requests since its last reset; it reports, never refuses (running out of requests
is a fault, and faults belong to the chaos engine: ``REQUEST_LIMIT_EXCEEDED``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["DAILY_API_REQUESTS", "LIMIT_INFO_HEADER", "limit_info", "org_limits"]

LIMIT_INFO_HEADER = "Sforce-Limit-Info"
# An Enterprise org's allocation: 100,000 plus 1,000 per licence (here 200 licences).
DAILY_API_REQUESTS = 300_000

# The allocations the resource lists beside DailyApiRequests (a trimmed set), untouched here.
_FIXED = {
    "DailyAsyncApexExecutions": 250_000,
    "DailyBulkApiBatches": 15_000,
    "DailyBulkV2QueryJobs": 10_000,
    "DailyStreamingApiEvents": 1_000_000,
    "DailyWorkflowEmails": 1_000_000,
    "DataStorageMB": 1_024,
    "FileStorageMB": 2_048,
    "HourlyODataCallout": 20_000,
    "MassEmail": 5_000,
    "SingleEmail": 5_000,
}


def org_limits(used: int) -> dict[str, Any]:
    """Each limit as ``{"Max": n, "Remaining": n}``, as ``GET /limits`` answers."""
    limits: dict[str, Any] = {
        "DailyApiRequests": {
            "Max": DAILY_API_REQUESTS,
            "Remaining": max(DAILY_API_REQUESTS - used, 0),
        }
    }
    limits.update({name: {"Max": top, "Remaining": top} for name, top in _FIXED.items()})
    return dict(sorted(limits.items()))


def limit_info(used: int) -> str:
    return f"api-usage={used}/{DAILY_API_REQUESTS}"
