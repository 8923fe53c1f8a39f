"""What the load tests run against, started on free loopback ports: the mocks and the
integration service as ``python -m app`` children, a throwaway PostgreSQL, and what the
mocks' ledgers and dataset tell about a run."""

from loadtests.stack.processes import stop_process

__all__ = ["stop_process"]
