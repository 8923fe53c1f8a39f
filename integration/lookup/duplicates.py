"""Choosing one contact when the CRM holds several for the same phone, and saying so.

The rule: the most recently modified contact wins (it is the one someone last looked
after); ties go to the contact with an email, then to the lowest Id, so the choice is
stable. The report names the fields on which the duplicates disagree, and whether they
even point to the same customer (if not, the agent should not trust either blindly).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from integration.lookup.view import DuplicateReport

__all__ = ["RULE", "choose_contact"]

RULE = "most recently modified contact wins; ties go to the one with an email, then the lowest Id"
_COMPARED = ("Email", "MailingStreet", "MailingCity", "MailingPostalCode", "Customer_Id__c", "Name")


def choose_contact(
    contacts: Sequence[dict[str, Any]],
) -> tuple[dict[str, Any], DuplicateReport | None]:
    if not contacts:
        raise ValueError("no contacts to choose from")
    ordered = sorted(
        contacts,
        key=lambda c: (
            str(c.get("LastModifiedDate") or ""),
            bool(c.get("Email")),
            _negated(str(c.get("Id") or "")),
        ),
        reverse=True,
    )
    chosen = ordered[0]
    if len(ordered) == 1:
        return chosen, None
    differing = [
        field for field in _COMPARED if len({str(c.get(field) or "") for c in ordered}) > 1
    ]
    return chosen, DuplicateReport(
        count=len(ordered),
        chosen_id=str(chosen.get("Id")),
        other_ids=[str(c.get("Id")) for c in ordered[1:]],
        rule=RULE,
        differing_fields=differing,
        same_customer=len({c.get("Customer_Id__c") for c in ordered}) == 1,
    )


def _negated(text: str) -> tuple[int, ...]:
    """Sorting key that puts the lowest Id first under ``reverse=True``."""
    return tuple(-ord(ch) for ch in text)
