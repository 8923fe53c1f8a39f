"""Credit eligibility checks, decided from the shared dataset."""

from mocks.eligibility.service import EligibilityService

__all__ = ["EligibilityService"]
