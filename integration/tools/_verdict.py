"""What a settled (or still travelling) outbox effect means for a tool's answer."""

from __future__ import annotations

from integration.outbox.model import EffectRow
from integration.tools.result import FieldSource

__all__ = ["reason_of", "source_of"]


def reason_of(row: EffectRow) -> str | None:
    """The slug at the front of the effect's last error (``unavailable: HTTP 503...``)."""
    if row.last_error is None:
        return None
    return row.last_error.split(":", 1)[0].strip() or None


def source_of(row: EffectRow) -> FieldSource:
    """Delivered → live; dead → missing (with the dead reason); otherwise queued."""
    if row.status == "delivered":
        return FieldSource(status="live", system=row.system)
    if row.status == "dead":
        return FieldSource(status="missing", system=row.system, reason=row.dead_reason)
    return FieldSource(status="queued", system=row.system, reason=reason_of(row) or "pending")
