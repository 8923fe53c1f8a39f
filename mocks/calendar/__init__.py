"""Calendar: advisors' booking calendars in Google Calendar API v3's wire format."""

from mocks.calendar.service import CalendarService

__all__ = ["CalendarService"]
