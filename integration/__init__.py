"""The integration layer: vendor clients, resilience policies, the caller lookup, events.

Nothing here opens a client, a database or a file at import time; ``integration.bootstrap.build``
is the one place that assembles the layer from settings.
"""
