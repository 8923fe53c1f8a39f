"""The loan origination mock, in the same generic REST style as the ERP."""

from mocks.loans.service import LoansService

__all__ = ["LoansService"]
