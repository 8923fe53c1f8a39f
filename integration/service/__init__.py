"""The integration service's HTTP API (FastAPI), served on :8000."""
