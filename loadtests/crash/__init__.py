"""The crash test: kill the integration service under load, then count every write
(``python -m loadtests.crash``; ``runner.py`` says how)."""

from loadtests.crash.runner import CrashReport, CrashTest

__all__ = ["CrashReport", "CrashTest"]
