"""SendGrid's checks on a v3 Mail Send body, reported the way SendGrid reports them.

Every problem becomes ``{"message", "field", "help"}`` where ``field`` is the JSON path
SendGrid uses (``personalizations.0.to.1.email``); all problems are returned at once, as
SendGrid does, rather than only the first.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["MAX_PERSONALIZATIONS", "is_email", "sendgrid_error", "validate_mail"]

MAX_PERSONALIZATIONS = 1000
MAX_RECIPIENTS = 1000
MAX_CATEGORIES = 10
_HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"
# A plain syntax check (one @, a dotted domain, no spaces): SendGrid checks syntax, not mailboxes.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_TEMPLATE_ID = re.compile(
    r"^(d-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)

Error = dict[str, Any]


def sendgrid_error(message: str, field: str | None = None, anchor: str | None = None) -> Error:
    return {"message": message, "field": field, "help": f"{_HELP}#{anchor}" if anchor else None}


def is_email(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 254 and _EMAIL.match(value) is not None


def validate_mail(mail: dict[str, Any]) -> list[Error]:
    errors = _personalizations(mail.get("personalizations"))
    errors += _sender(mail.get("from"))
    errors += _subject(mail)
    errors += _content(mail.get("content"), mail.get("template_id"))
    errors += _reply_to(mail.get("reply_to"))
    errors += _categories(mail.get("categories"))
    errors += _custom_args(mail.get("custom_args"), "custom_args")
    return errors


def _personalizations(value: Any) -> list[Error]:
    anchor = "message.personalizations"
    if not isinstance(value, list) or not value:
        return [
            sendgrid_error(
                "The personalizations field is required and must have at least one "
                "personalization.",
                "personalizations",
                anchor,
            )
        ]
    if len(value) > MAX_PERSONALIZATIONS:
        return [
            sendgrid_error(
                f"The personalizations field may not have more than {MAX_PERSONALIZATIONS} "
                f"personalization objects per request; this request has {len(value)}.",
                "personalizations",
                anchor,
            )
        ]
    errors: list[Error] = []
    for index, item in enumerate(value):
        errors += _personalization(index, item)
    return errors


def _personalization(index: int, item: Any) -> list[Error]:
    path = f"personalizations.{index}"
    anchor = "message.personalizations"
    if not isinstance(item, dict):
        return [sendgrid_error("Each personalization must be an object.", path, anchor)]
    errors: list[Error] = []
    to = item.get("to")
    if not isinstance(to, list) or not to:
        errors.append(
            sendgrid_error(
                "The to array is required for all personalization objects, and must have at least "
                "one email object with a valid email address.",
                f"{path}.to",
                "message.personalizations.to",
            )
        )
    seen: dict[str, str] = {}
    count = 0
    for kind in ("to", "cc", "bcc"):
        people = item.get(kind)
        if people is None or (kind == "to" and not isinstance(people, list)):
            continue
        if not isinstance(people, list):
            errors.append(sendgrid_error(f"The {kind} field must be an array.", f"{path}.{kind}"))
            continue
        count += len(people)
        for position, person in enumerate(people):
            where = f"{path}.{kind}.{position}"
            address = person.get("email") if isinstance(person, dict) else None
            if not is_email(address):
                errors.append(
                    sendgrid_error(
                        "Does not contain a valid address.",
                        f"{where}.email",
                        f"message.personalizations.{kind}",
                    )
                )
                continue
            assert isinstance(address, str)
            lowered = address.lower()
            if lowered in seen:
                errors.append(
                    sendgrid_error(
                        "Each email address in the personalization block should be unique between "
                        f"to, cc, and bcc. We found the first duplicate instance at {where}.email "
                        f"(it repeats an address of the {path}.{seen[lowered]} field).",
                        path,
                        "message.recipient_errors",
                    )
                )
            seen.setdefault(lowered, kind)
    if count > MAX_RECIPIENTS:
        errors.append(
            sendgrid_error(
                f"The to, cc and bcc fields of one personalization may not hold more than "
                f"{MAX_RECIPIENTS} recipients combined.",
                path,
                "message.recipient_errors",
            )
        )
    if "subject" in item and not isinstance(item["subject"], str):
        errors.append(sendgrid_error("The subject must be a string.", f"{path}.subject"))
    data = item.get("dynamic_template_data")
    if data is not None and not isinstance(data, dict):
        errors.append(
            sendgrid_error(
                "The dynamic_template_data field must be an object.",
                f"{path}.dynamic_template_data",
            )
        )
    return errors + _custom_args(item.get("custom_args"), f"{path}.custom_args")


def _sender(value: Any) -> list[Error]:
    anchor = "message.from"
    if not isinstance(value, dict) or "email" not in value:
        return [
            sendgrid_error(
                "The from object must be provided for every email send. It is an object that "
                "requires the email parameter, but may also contain a name parameter.  e.g. "
                '{"email" : "example@example.com"}  or {"email" : "example@example.com", '
                '"name" : "Example Recipient"}.',
                "from.email",
                anchor,
            )
        ]
    if not is_email(value["email"]):
        return [
            sendgrid_error("The from email does not contain a valid address.", "from.email", anchor)
        ]
    return []


def _subject(mail: dict[str, Any]) -> list[Error]:
    if mail.get("template_id"):
        return []  # the template carries its own subject
    subject = mail.get("subject")
    if isinstance(subject, str) and subject.strip():
        return []
    people = mail.get("personalizations")
    if (
        isinstance(people, list)
        and people
        and all(
            isinstance(p, dict) and isinstance(p.get("subject"), str) and p["subject"].strip()
            for p in people
        )
    ):
        return []
    return [
        sendgrid_error(
            "The subject is required. You can get around this requirement if you use a template "
            "with a subject defined or if every personalization has a subject defined.",
            "subject",
            "message.subject",
        )
    ]


def _content(content: Any, template_id: Any) -> list[Error]:
    errors: list[Error] = []
    if template_id is not None and (
        not isinstance(template_id, str) or not _TEMPLATE_ID.match(template_id)
    ):
        errors.append(
            sendgrid_error(
                "The template_id must be a valid GUID or a dynamic template id (d- followed by 32 "
                "hex characters).",
                "template_id",
                "message.template_id",
            )
        )
    if content is None or content == []:
        if template_id is None:
            errors.append(
                sendgrid_error(
                    "Unless a valid template_id is provided, the content parameter is required. "
                    "There must be at least one defined content block. We typically suggest both "
                    "text/plain and text/html blocks are included, but only one block is required.",
                    "content",
                    "message.content",
                )
            )
        return errors
    if not isinstance(content, list):
        return [*errors, sendgrid_error("The content field must be an array.", "content")]
    types: list[str] = []
    for index, block in enumerate(content):
        block = block if isinstance(block, dict) else {}
        kind, value = block.get("type"), block.get("value")
        if not isinstance(kind, str) or not kind:
            errors.append(
                sendgrid_error(
                    "The content type must be a string at least one character in length.",
                    f"content.{index}.type",
                    "message.content.type",
                )
            )
        else:
            types.append(kind)
        if not isinstance(value, str) or not value:
            errors.append(
                sendgrid_error(
                    "The content value must be a string at least one character in length.",
                    f"content.{index}.value",
                    "message.content.value",
                )
            )
    expected = [t for t in ("text/plain", "text/html") if t in types]
    if types[: len(expected)] != expected:
        errors.append(
            sendgrid_error(
                "If present, text/plain content must be first, followed by text/html, followed by "
                "any other content.",
                "content",
                "message.content.type",
            )
        )
    return errors


def _reply_to(value: Any) -> list[Error]:
    if value is None:
        return []
    if not isinstance(value, dict) or not is_email(value.get("email")):
        return [
            sendgrid_error(
                "The reply_to email does not contain a valid address.",
                "reply_to.email",
                "message.reply_to",
            )
        ]
    return []


def _categories(value: Any) -> list[Error]:
    if value is None:
        return []
    anchor = "message.categories"
    if not isinstance(value, list):
        return [sendgrid_error("The categories field must be an array of strings.", "categories")]
    if len(value) > MAX_CATEGORIES:
        return [
            sendgrid_error(
                f"Too many categories on this message: at most {MAX_CATEGORIES} are allowed.",
                "categories",
                anchor,
            )
        ]
    return [
        sendgrid_error(
            "A category must be a string of at most 255 characters.", f"categories.{i}", anchor
        )
        for i, category in enumerate(value)
        if not isinstance(category, str) or not category or len(category) > 255
    ]


def _custom_args(value: Any, path: str) -> list[Error]:
    if value is None:
        return []
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        return [
            sendgrid_error(
                "The custom_args field must be an object whose values are all strings.",
                path,
                "message.custom_args",
            )
        ]
    return []
