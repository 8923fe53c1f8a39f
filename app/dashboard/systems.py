"""The systems as people name them, and which side of a call each one serves."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "HOPS",
    "OVER_SQL",
    "READ_SYSTEMS",
    "WRITE_SYSTEMS",
    "display_name",
    "read_systems",
    "reads_what",
    "vendor",
    "writes_what",
]

# The caller lookup's sources, in the order the lookup reaches them.
READ_SYSTEMS = ("crm", "telephony", "database", "eligibility", "loans", "erp", "core", "sheets")
# The outbox's targets (issue 5's contract).
WRITE_SYSTEMS = (
    "calendar",
    "crm",
    "payments",
    "messaging",
    "email",
    "slack",
    "analytics",
    "loans",
)
_WRITE_ONLY = frozenset(WRITE_SYSTEMS) - frozenset(READ_SYSTEMS)
# Reached over SQL, not HTTP: the mocks' request counters never see its queries.
OVER_SQL = frozenset({"database"})
# Hops, not sources: the System map draws them between the layer and what they front; the
# Flow map shows the sources themselves (a gateway's own numbers are on the Chaos page).
HOPS = frozenset({"middleware"})

_NAMES = {
    "crm": ("CRM", "Salesforce"),
    "telephony": ("Telephony", "Twilio Calls"),
    "database": ("Core banking", "SQL database"),
    "eligibility": ("Eligibility", "decisioning API"),
    "loans": ("Loans", "origination"),
    "erp": ("ERP", "orders"),
    "payments": ("Payments", "Stripe"),
    "messaging": ("Messaging", "Twilio SMS"),
    "email": ("Email", "SendGrid"),
    "calendar": ("Calendar", "Google"),
    "slack": ("Slack", "chat.postMessage"),
    "analytics": ("Analytics", "Segment"),
    "core": ("Core (SOAP)", "CoreLink 7"),
    "middleware": ("Middleware", "integration bus"),
    "sheets": ("Sheets", "Google Sheets"),
    "docstore": ("Docstore", "DynamoDB-shaped"),
    "tracker": ("Tracker", "Jira"),
}
_READS = {
    "crm": "contact",
    "telephony": "call history",
    "database": "accounts",
    "eligibility": "eligibility",
    "loans": "loans",
    "erp": "orders",
    "core": "holdings",
    "sheets": "caller flags",
}
_WRITES = {
    "calendar": "bookings",
    "crm": "leads, tasks",
    "payments": "charges",
    "messaging": "SMS",
    "email": "emails",
    "slack": "alerts",
    "analytics": "events",
    "loans": "stages",
}


def display_name(system: str) -> str:
    return _NAMES.get(system, (system.replace("_", " ").capitalize(), ""))[0]


def vendor(system: str) -> str:
    return _NAMES.get(system, ("", ""))[1]


def reads_what(system: str) -> str:
    return _READS.get(system, "")


def writes_what(system: str) -> str:
    return _WRITES.get(system, "")


def read_systems(known: Iterable[str] | None) -> list[str]:
    """The read sources the service reports, in lookup order (the known ones if it is down)."""
    if not known:
        return list(READ_SYSTEMS)
    reported = [s for s in known if s not in _WRITE_ONLY and s not in HOPS]
    ordered = [s for s in READ_SYSTEMS if s in reported]
    return ordered + sorted(s for s in reported if s not in READ_SYSTEMS)
