"""The integration gateway: an iPaaS-style hop in front of the loans and ERP systems."""

from mocks.middleware.service import MiddlewareService

__all__ = ["MiddlewareService"]
