"""Email: SendGrid's v3 Mail Send, with an outbox of accepted mails."""

from mocks.email.service import EmailService

__all__ = ["EmailService"]
