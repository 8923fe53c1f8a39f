"""Switchboard's command line, process supervisor and (later) dashboard and simulator."""
