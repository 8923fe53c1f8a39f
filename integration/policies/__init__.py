"""Resilience policies: small immutable values per system, composed by ``SourceExecutor``."""
