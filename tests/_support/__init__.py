"""Test doubles shared by more than one test layer (unit and integration)."""
