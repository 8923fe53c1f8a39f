"""Document store: caller preferences in Amazon DynamoDB's wire format."""

from mocks.docstore.service import DocstoreService

__all__ = ["DocstoreService"]
