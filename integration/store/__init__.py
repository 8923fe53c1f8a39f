"""Where the layer keeps its own state: one SQL database (SQLite by default, PostgreSQL by
URL) that every worker of the service shares, and the shared pieces kept in it (who is
alive, the last good values behind cached fallbacks, vendor credentials, scorecards).
What each part stores is that part's business: calls in ``integration.calls``, effects in
``integration.outbox``, events in ``integration.events``."""
