"""Messaging: Twilio Programmable Messaging (SMS and WhatsApp) with signed status callbacks."""

from mocks.messaging.service import MessagingService

__all__ = ["MessagingService"]
