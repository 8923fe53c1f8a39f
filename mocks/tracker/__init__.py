"""Project tracker: escalations and failed automations as tickets, in Jira's REST API v2."""

from mocks.tracker.service import TrackerService

__all__ = ["TrackerService"]
