"""The dataset's fixed "now", and helpers to draw datetimes relative to it.

Nothing reads the wall clock: a dataset generated today and next year must be identical,
so every date is an offset from REFERENCE_NOW.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

REFERENCE_NOW = datetime(2026, 11, 1, tzinfo=UTC)
EARLIEST_CUSTOMER = datetime(2008, 1, 1, tzinfo=UTC)
DAY_S = 86_400


def between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A whole-second datetime in [start, end] (start when the range is empty)."""
    span = int((end - start).total_seconds())
    # random() scaling rather than randint: this runs millions of times (see _draw).
    return start + timedelta(seconds=int(rng.random() * (span + 1))) if span > 0 else start
