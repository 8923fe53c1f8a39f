"""Twilio's Calls resource over the shared dataset's call history."""

from mocks.telephony.service import TelephonyService

__all__ = ["TelephonyService"]
