"""Slack: the team's workspace in the Slack Web API's wire format."""

from mocks.slack.service import SlackService

__all__ = ["SlackService"]
