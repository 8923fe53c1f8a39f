"""Payments: a Stripe PaymentIntents mock that the official ``stripe`` SDK can talk to."""

from mocks.payments.service import PaymentsConfig, PaymentsService

__all__ = ["PaymentsConfig", "PaymentsService"]
