"""The call simulator: scripted callers (personas and journeys) driving the integration
service's call and tool API with Poisson arrivals. ``python -m app simulate``."""

from app.simulator.conversation import Conversation, Pacing
from app.simulator.engine import SimulationConfig, SimulationReport, Simulator, Tally
from app.simulator.journeys import DEFAULT_MIX, JOURNEYS, Journey
from app.simulator.personas import Persona, PersonaBook
from app.simulator.results import CallResult, EffectAck, Line, ToolCall
from app.simulator.units import parse_duration, parse_rate

__all__ = [
    "DEFAULT_MIX",
    "JOURNEYS",
    "CallResult",
    "Conversation",
    "EffectAck",
    "Journey",
    "Line",
    "Pacing",
    "Persona",
    "PersonaBook",
    "SimulationConfig",
    "SimulationReport",
    "Simulator",
    "Tally",
    "ToolCall",
    "parse_duration",
    "parse_rate",
]
