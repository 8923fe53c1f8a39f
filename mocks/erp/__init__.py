"""The ERP mock: orders, inventory and fulfilment in a generic modern REST style."""

from mocks.erp.service import ErpService

__all__ = ["ErpService"]
