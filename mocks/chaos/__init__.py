"""The chaos engine: fault profiles per system and route, applied to every request."""

from mocks.chaos.engine import ChaosEngine, Decision
from mocks.chaos.models import (
    ChaosProfile,
    ErrorKind,
    ErrorSpec,
    FaultProfile,
    LatencySpec,
    OutageWindow,
    RateLimitSpec,
    RouteFault,
    load_profile_file,
)

__all__ = [
    "ChaosEngine",
    "ChaosProfile",
    "Decision",
    "ErrorKind",
    "ErrorSpec",
    "FaultProfile",
    "LatencySpec",
    "OutageWindow",
    "RateLimitSpec",
    "RouteFault",
    "load_profile_file",
]
