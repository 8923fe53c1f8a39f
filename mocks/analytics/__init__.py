"""Analytics: product events in Segment's HTTP Tracking API wire format."""

from mocks.analytics.service import AnalyticsService

__all__ = ["AnalyticsService"]
