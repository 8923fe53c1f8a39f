"""Sheets: a team's hand-kept caller lists in Google Sheets API v4's wire format."""

from mocks.sheets.service import SheetsService

__all__ = ["SheetsService"]
