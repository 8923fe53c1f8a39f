"""The mock CRM (Salesforce REST API). Importing it opens nothing; the registry builds it."""

from mocks.crm.service import CrmService

__all__ = ["CrmService"]
