"""The legacy core: a mainframe customer information file behind SOAP 1.1 and a WSDL."""

from mocks.core.service import CoreService

__all__ = ["CoreService"]
