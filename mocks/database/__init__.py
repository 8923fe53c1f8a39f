"""Core banking in a real SQL database; ``mocks.database.schema`` holds its tables."""

from mocks.database.service import DatabaseService

__all__ = ["DatabaseService"]
