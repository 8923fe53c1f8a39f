"""Structured logs: one JSON object per line, with secrets masked before anything is written.

``configure_logging(level)`` installs one handler on the root logger with ``JsonFormatter``
and ``RedactionFilter``. The filter sits on the handler, not a logger, because handler
filters see every record that reaches the handler, including those propagated from child
loggers. It masks, in the message and in every ``extra`` field:

- card numbers, with their codes and expiry dates, by the one redactor every text entering
  the layer passes (``integration.redaction``) → ``[card ending 4242]``;
- credentials by their shape: ``Bearer``/``Basic`` values, Stripe ``sk_``/``rk_`` keys,
  Slack ``xox?-`` tokens, SendGrid ``SG.`` keys, Salesforce session ids ``00D…!…``;
- the value of any field or ``key=value`` whose name says it is a secret (password,
  secret, token, api_key, authorization).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import IO, Any

from integration.redaction import redact_cards

__all__ = ["JsonFormatter", "RedactionFilter", "configure_logging", "redact", "redact_text"]

MASK = "***"

_SECRET_NAME = re.compile(r"passw(?:or)?d|secret|token|api[_-]?key|authorization", re.I)
_KEY_VALUE = re.compile(
    r"""(?ix)
    \b([\w.-]*(?:passw(?:or)?d|secret|token|api[_-]?key|authorization)[\w-]*)  # the name
    (["']?\s*[:=]\s*["']?)                                                     # separator
    ((?:(?:bearer|basic|token)\s+)?[^\s"',;&}\]]+)                             # the value
    """
)
_SHAPES = (
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=!-]+", re.I), r"\1 " + MASK),
    (re.compile(r"\b((?:sk|rk|pk)_(?:test|live)_)[A-Za-z0-9]+"), r"\1" + MASK),
    (re.compile(r"\b(xox[abposr]-)[A-Za-z0-9-]+"), r"\1" + MASK),
    (re.compile(r"\bSG\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)?"), "SG." + MASK),
    (re.compile(r"\b00D[A-Za-z0-9]{12,15}![A-Za-z0-9._-]+"), "00D" + MASK),
)

# Everything a LogRecord carries by itself; any other attribute came in through ``extra``.
_RECORD_FIELDS = frozenset(
    {*vars(logging.LogRecord("", 0, "", 0, "", None, None)), "message", "asctime", "taskName"}
)


def redact_text(text: str) -> str:
    """``text`` with card numbers and credentials masked."""
    text = redact_cards(text)
    for pattern, replacement in _SHAPES:
        text = pattern.sub(replacement, text)
    return _KEY_VALUE.sub(lambda m: m.group(1) + m.group(2) + MASK, text)


def redact(value: Any, name: str | None = None) -> Any:
    """A copy of ``value`` with secrets masked; masked whole if ``name`` names a secret."""
    if name is not None and _SECRET_NAME.search(name):
        return MASK if value not in (None, "") else value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(v) for v in value]
    return value


class RedactionFilter(logging.Filter):
    """Masks secrets in the message and the ``extra`` fields of every record it passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in list(vars(record).items()):
            if key not in _RECORD_FIELDS:
                setattr(record, key, redact(value, key))
        try:
            message = record.getMessage()
        except Exception:
            # A broken format is the handler's to report (handleError); keep the record.
            return True
        record.msg = redact_text(message)
        record.args = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, ``extra`` fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and key not in out:
                out[key] = value
        if record.exc_info:
            # A traceback can quote a secret (a repr of a request); mask it too.
            out["exc"] = redact_text(self.formatException(record.exc_info))
        if record.stack_info:
            out["stack"] = redact_text(self.formatStack(record.stack_info))
        return json.dumps(out, default=str, ensure_ascii=False)


_HANDLER_MARK = "_switchboard_handler"


def configure_logging(
    level: int | str = "INFO", *, stream: IO[str] | None = None
) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) as redacted JSON lines; safe to call twice."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
        old.close()
    handler = logging.StreamHandler(stream or sys.stderr)
    setattr(handler, _HANDLER_MARK, True)
    handler.addFilter(RedactionFilter())
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    return handler
