"""The guided demo: an incident of the scenario catalog, run from the dashboard and
narrated from what really happens (``pages_/demo.py`` draws it).

``incidents`` names what can be shown, ``narration`` turns observations into the story,
``runner`` runs one demo at a time in the background. Importing this package starts
nothing.
"""

from app.dashboard.demo.incidents import INCIDENTS, PACES, Incident, incident
from app.dashboard.demo.narration import CATEGORIES, Line, Narrator
from app.dashboard.demo.runner import DemoBusy, DemoRunner, DemoTargets, DemoView

__all__ = [
    "CATEGORIES",
    "INCIDENTS",
    "PACES",
    "DemoBusy",
    "DemoRunner",
    "DemoTargets",
    "DemoView",
    "Incident",
    "Line",
    "Narrator",
    "incident",
]
