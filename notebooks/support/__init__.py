"""What the training notebooks share: a throwaway stack (``start_stack()``: the mocks and
the integration service on loopback, stopped by ``stack.stop()``), a chaos client and
the service's answers as DataFrames."""

from notebooks.support.chaos import Chaos
from notebooks.support.frames import (
    FIELDS,
    events_cursor,
    events_frame,
    ledger_check,
    provenance_frame,
    steps_frame,
)
from notebooks.support.process import IntegrationProcess
from notebooks.support.stack import CHAOS_TOKEN, Stack, start_stack

__all__ = [
    "CHAOS_TOKEN",
    "FIELDS",
    "Chaos",
    "IntegrationProcess",
    "Stack",
    "events_cursor",
    "events_frame",
    "ledger_check",
    "provenance_frame",
    "start_stack",
    "steps_frame",
]
