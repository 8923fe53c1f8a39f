"""Every failure the integration layer names, in one tree.

    IntegrationError
    ├── InvalidInput                    bad input from our caller (a 422 at the API)
    │   └── InvalidPhoneNumber
    └── SourceError                     a source system did not give us what we asked for
        ├── RetryableSourceError        worth another attempt, if the deadline allows
        │   ├── SourceTimeout           no answer in time (includes hangs)
        │   ├── SourceUnavailable       5xx, outage, connection refused or dropped
        │   ├── SourceRateLimited       429; carries retry_after_s when the vendor said it
        │   │   └── SourceClosed        closed for a while (a batch window) until retry_after_s
        │   └── MalformedResponse       a 2xx whose body we cannot read
        │       └── InvalidField        ... or whose record has a field missing or wrong
        └── PermanentSourceError        another attempt would get the same answer
            ├── CredentialsRejected     401 after one refresh (a first 401 triggers a refresh)
            ├── NotFound                the source has no such record
            ├── Rejected                4xx: the source refused the request as sent
            ├── BreakerOpen             we did not call: the source's breaker is open
            ├── BulkheadFull            we did not call: too many calls in flight already
            ├── RetryBudgetExhausted    we did not retry: the system's retry budget is spent
            └── DeadlineExceeded        we did not call (again): the caller's deadline is gone

Each error carries the system, the operation and, where the mock said so, the injected
fault (``X-Injected-Fault``), so events and provenance can name what really happened.
``reason`` is the short slug the caller view and events use.
"""

from __future__ import annotations

__all__ = [
    "BreakerOpen",
    "BulkheadFull",
    "CredentialsRejected",
    "DeadlineExceeded",
    "IntegrationError",
    "InvalidField",
    "InvalidInput",
    "InvalidPhoneNumber",
    "MalformedResponse",
    "NotFound",
    "PermanentSourceError",
    "Rejected",
    "RetryBudgetExhausted",
    "RetryableSourceError",
    "SourceClosed",
    "SourceError",
    "SourceRateLimited",
    "SourceTimeout",
    "SourceUnavailable",
]


class IntegrationError(Exception):
    reason = "error"


class InvalidInput(IntegrationError):
    reason = "invalid_input"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class InvalidPhoneNumber(InvalidInput):
    reason = "invalid_phone_number"


class SourceError(IntegrationError):
    retryable = False
    # set by the executor when a retryable error was not retried: "budget", "deadline",
    # "breaker" or "retry_after"
    retry_suppressed: str | None = None

    def __init__(
        self,
        system: str,
        operation: str,
        message: str = "",
        *,
        status: int | None = None,
        injected_fault: str | None = None,
    ) -> None:
        super().__init__(f"{system}.{operation}: {message or self.reason}")
        self.system = system
        self.operation = operation
        self.status = status
        self.injected_fault = injected_fault


class RetryableSourceError(SourceError):
    retryable = True


class SourceTimeout(RetryableSourceError):
    reason = "timeout"


class SourceUnavailable(RetryableSourceError):
    reason = "unavailable"


class SourceRateLimited(RetryableSourceError):
    reason = "rate_limited"

    def __init__(self, *args: object, retry_after_s: float | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.retry_after_s = retry_after_s


class SourceClosed(SourceRateLimited):
    """The source said it serves nobody until a time (a nightly batch window): like a 429
    whose Retry-After is that long, so the executor does not retry past its cap."""

    reason = "batch_window"


class MalformedResponse(RetryableSourceError):
    reason = "malformed_response"


class InvalidField(MalformedResponse):
    """A record arrived with a field missing or of the wrong shape (a middleware mapping
    that dropped or mangled it); ``field`` names where (``items[0].status``), never the
    value. Retryable: a mapping fault may be intermittent."""

    reason = "invalid_field"

    def __init__(self, *args: object, field: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.field = field


class PermanentSourceError(SourceError):
    pass


class CredentialsRejected(PermanentSourceError):
    reason = "credentials_rejected"


class NotFound(PermanentSourceError):
    reason = "not_found"


class Rejected(PermanentSourceError):
    reason = "rejected"


class BreakerOpen(PermanentSourceError):
    reason = "breaker_open"


class BulkheadFull(PermanentSourceError):
    reason = "bulkhead_full"


class RetryBudgetExhausted(PermanentSourceError):
    reason = "retry_budget_exhausted"


class DeadlineExceeded(PermanentSourceError):
    reason = "deadline_exceeded"
