"""Reading a Create Message request (form fields) into a checked ``SendRequest``.

Checks run in the order Twilio reports them, and each failure carries Twilio's code.
Parameters this mock does not model (``MaxPrice``, ``ValidityPeriod``...) are ignored, as
Twilio ignores parameters it does not know.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from mocks.messaging.addresses import (
    Address,
    count_segments,
    parse_from,
    parse_to,
    require_same_channel,
)
from mocks.messaging.errors import TwilioError

__all__ = ["MAX_BODY_CHARS", "SendRequest", "parse_send_request"]

MAX_BODY_CHARS = 1600
MAX_MEDIA = 10
_SERVICE_SID = re.compile(r"^MG[0-9a-f]{32}$")
_CONTENT_SID = re.compile(r"^HX[0-9a-f]{32}$")


@dataclass(frozen=True, slots=True)
class SendRequest:
    to: Address
    sender: Address | None  # None: the Messaging Service picks the sender
    messaging_service_sid: str | None
    body: str
    media_urls: tuple[str, ...]
    status_callback: str | None

    @property
    def num_segments(self) -> int:
        return count_segments(self.body, self.to.channel)


def _is_web_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def parse_send_request(pairs: Sequence[tuple[str, str]]) -> SendRequest:
    fields: dict[str, str] = {}
    media: list[str] = []
    for key, value in pairs:
        if key == "MediaUrl":
            media.append(value)
        else:
            fields.setdefault(key, value)

    to = parse_to(fields.get("To"))
    service_sid = fields.get("MessagingServiceSid") or None
    raw_from = fields.get("From", "").strip()
    if not raw_from and service_sid is None:
        raise TwilioError(400, 21603, "A 'From' phone number is required.")
    if service_sid is not None and not _SERVICE_SID.match(service_sid):
        raise TwilioError(400, 21701, "The MessagingServiceSid is invalid.")
    sender = parse_from(raw_from) if raw_from else None
    if sender is not None:
        require_same_channel(to, sender)

    body = fields.get("Body", "")
    content_sid = fields.get("ContentSid")
    if content_sid is not None and not _CONTENT_SID.match(content_sid):
        raise TwilioError(400, 21656, "The ContentSid is invalid.")
    if not body.strip() and not media and content_sid is None:
        raise TwilioError(400, 21602, "Message body is required.")
    if len(body) > MAX_BODY_CHARS:
        limit = f"exceeds the {MAX_BODY_CHARS} character limit"
        raise TwilioError(400, 21617, f"The concatenated message body {limit}.")
    bad_media = [url for url in media if not _is_web_url(url)]
    if bad_media or len(media) > MAX_MEDIA:
        detail = (
            f"MediaUrl {media.index(bad_media[0])} is not an http(s) URL"
            if bad_media
            else f"at most {MAX_MEDIA}"
        )
        raise TwilioError(400, 21620, f"Invalid media URL(s): {detail}.")

    callback = fields.get("StatusCallback") or None
    if callback is not None and not _is_web_url(callback):
        raise TwilioError(400, 21609, "The StatusCallback URL is not a valid URL.")
    return SendRequest(
        to=to,
        sender=sender,
        messaging_service_sid=service_sid,
        body=body,
        media_urls=tuple(media),
        status_callback=callback,
    )
