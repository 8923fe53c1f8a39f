"""The integration service's HTTP API (FastAPI), served on :8000: routes that parse a
request, call one use case and answer. The app is composed in ``app.create_app``."""
