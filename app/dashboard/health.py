"""The one health model: per system, up / degraded / down / unknown, and why.

Every page reads this model (``data.health_model()`` fetches its inputs once for every
viewer; ``build_model`` decides), so no two pages can disagree about a system. Inputs:

- the integration layer's ``GET /systems/health``: per system and side (read: the caller
  lookup; write: the outbox), attempts, error rate and latency p50/p95 over one rolling
  window, the same window for all of them; the breaker's state; the outbox's pending,
  retrying and dead effects and the oldest pending age;
- the mocks' ``GET /_chaos``: the faults injected now (an outage, latency, errors, a quota,
  a system's own fault such as a database lock).

The rules, in order (every match is a reason; the worst decides the state):

- **down**: an outage is injected now; a breaker is open; or half or more of the recent
  attempts failed.
- **degraded**: any other fault is injected now; a breaker is half-open; 5% or more of
  the recent attempts failed; or the recent p95 is over the system's SLA p95.
- **unknown**: the layer did not answer; or no attempt in the window and the mocks did not
  answer either (nothing says whether the system is up).
- **up** otherwise; with no traffic in the window it says so ("idle").

Numbers (error rate, p50, p95, rate) and the verdict read one rolling window
(``window_s``, 10 s by default; ``recent_s`` may judge by a shorter tail of it), and the
verdict only when it holds at least ``MIN_SAMPLES`` attempts (``MIN_LATENCY_SAMPLES`` for
the p95): so a system that recovered is up again within the window's length, the numbers
beside it agree with its state, and a system nobody called lately is judged by its faults
and breakers alone.
Latency is never failure: a slow success degrades a system through its p95 only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from app.dashboard import fmt

__all__ = [
    "COLOURS",
    "MIN_LATENCY_SAMPLES",
    "MIN_SAMPLES",
    "STATES",
    "STATE_LEVEL",
    "HealthModel",
    "Level",
    "Outbox",
    "Side",
    "State",
    "SystemHealth",
    "build_model",
    "system_states",
]

Level = Literal["ok", "warn", "bad", "idle"]
State = Literal["up", "degraded", "down", "unknown"]
STATES: tuple[State, ...] = ("up", "degraded", "down", "unknown")
STATE_LEVEL: dict[State, Level] = {"up": "ok", "degraded": "warn", "down": "bad", "unknown": "idle"}
# (fill, border/text accent) per level: light fills keep dark labels readable.
COLOURS: dict[str, tuple[str, str]] = {
    "ok": ("#c8e6c9", "#2e7d32"),
    "warn": ("#ffe082", "#e65100"),
    "bad": ("#ef9a9a", "#b71c1c"),
    "idle": ("#eceff1", "#78909c"),
}
DOWN_SHARE = 0.5
DEGRADED_SHARE = 0.05
MIN_SAMPLES = 3  # fewer attempts than this say nothing about a rate
MIN_LATENCY_SAMPLES = 10  # nor about a p95


@dataclass(frozen=True)
class Side:
    """One side of a system (read or write) over the window."""

    attempts: int = 0
    failed: int = 0
    error_rate: float | None = None
    per_s: float = 0.0
    p50_ms: float | None = None
    p95_ms: float | None = None
    cached: int = 0
    outcomes: tuple[tuple[str, int], ...] = ()
    breaker: str = "closed"
    recent_attempts: int = 0
    recent_error_rate: float | None = None
    recent_p95_ms: float | None = None

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> Side:
        recent, outcomes = _map(raw.get("recent")), _map(raw.get("outcomes"))
        return cls(
            attempts=_int(raw.get("attempts")),
            failed=_int(raw.get("failed")),
            error_rate=_num(raw.get("error_rate")),
            per_s=_num(raw.get("per_s")) or 0.0,
            p50_ms=_num(raw.get("p50_ms")),
            p95_ms=_num(raw.get("p95_ms")),
            cached=_int(raw.get("cached")),
            outcomes=tuple((str(k), _int(v)) for k, v in outcomes.items()),
            breaker=str(raw.get("breaker") or "closed"),
            recent_attempts=_int(recent.get("attempts")),
            recent_error_rate=_num(recent.get("error_rate")),
            recent_p95_ms=_num(recent.get("p95_ms")),
        )

    def evidence(self) -> tuple[float | None, float | None]:
        """(error rate, p95) the verdict reads: the recent ones, when there are enough
        attempts for each to mean something."""
        rate = self.recent_error_rate if self.recent_attempts >= MIN_SAMPLES else None
        p95 = self.recent_p95_ms if self.recent_attempts >= MIN_LATENCY_SAMPLES else None
        return rate, p95


@dataclass(frozen=True)
class Outbox:
    """A write target's queue in the outbox."""

    pending: int = 0
    in_flight: int = 0
    retrying: int = 0
    dead: int = 0
    delivered: int = 0
    oldest_pending_age_s: float | None = None

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> Outbox:
        return cls(
            pending=_int(raw.get("pending")),
            in_flight=_int(raw.get("in_flight")),
            retrying=_int(raw.get("retrying")),
            dead=_int(raw.get("dead")),
            delivered=_int(raw.get("delivered")),
            oldest_pending_age_s=_num(raw.get("oldest_pending_age_s")),
        )


@dataclass(frozen=True)
class SystemHealth:
    system: str
    state: State = "unknown"
    reasons: tuple[str, ...] = ()
    read: Side | None = None
    write: Side | None = None
    outbox: Outbox | None = None
    faults: tuple[str, ...] = ()  # the faults injected now, in words
    down_now: bool = False

    @property
    def level(self) -> Level:
        return STATE_LEVEL[self.state]

    @property
    def summary(self) -> str:
        """The state and its first reasons, in one short line."""
        return self.state + (f": {'; '.join(self.reasons[:2])}" if self.reasons else "")

    @property
    def breakers(self) -> str:
        """The breakers in words ("closed", "read open · write closed")."""
        sides = [(n, s.breaker) for n, s in (("read", self.read), ("write", self.write)) if s]
        if len({b for _, b in sides}) <= 1:
            return sides[0][1].replace("_", "-") if sides else "—"
        return " · ".join(f"{n} {b.replace('_', '-')}" for n, b in sides)


@dataclass(frozen=True)
class HealthModel:
    window_s: float = 10.0
    recent_s: float = 10.0
    systems: dict[str, SystemHealth] = field(default_factory=dict)
    layer_error: str | None = None
    mocks_error: str | None = None

    def of(self, system: str) -> SystemHealth:
        return self.systems.get(system) or SystemHealth(system, reasons=("not reported",))

    @property
    def window_words(self) -> str:
        return f"last {self.window_s:g} s"

    @property
    def rule_words(self) -> str:
        """How the model reads, in one sentence for a caption."""
        if self.recent_s >= self.window_s:
            return (
                f"Numbers and states over the {self.window_words}, with the faults injected "
                "now and the breakers."
            )
        return (
            f"Numbers over the {self.window_words}; each state from the last "
            f"{self.recent_s:g} s, the faults injected now and the breakers."
        )


def system_states(model: HealthModel) -> dict[str, State]:
    """Each system's state, by system name ("crm" -> "down"): what the system map colours.

    Take the model from ``app.dashboard.data.health_model()``; colour a state with
    ``COLOURS[STATE_LEVEL[state]]``.
    """
    return {name: entry.state for name, entry in model.systems.items()}


def build_model(
    layer: Mapping[str, Any] | None,
    chaos: Mapping[str, Any] | None,
    *,
    layer_error: str | None = None,
    mocks_error: str | None = None,
) -> HealthModel:
    """The model from ``GET /systems/health`` and ``GET /_chaos`` (None when unanswered)."""
    layer = layer or {}
    window_s = _num(layer.get("window_s")) or 10.0
    recent_s = _num(layer.get("recent_s")) or 10.0
    reported = _map(layer.get("systems"))
    chaos = chaos or {}
    profiles, own = _map(chaos.get("systems")), _map(chaos.get("system_faults"))
    known = chaos.get("known_systems")
    listed = [str(k) for k in known] if isinstance(known, list) else []
    names = sorted({*reported, *profiles, *own, *listed})
    systems = {
        name: _judge(
            name,
            reported.get(name) or {},
            profiles.get(name) or {},
            own.get(name) or [],
            window_s,
            recent_s,
            layer_ok=layer_error is None and bool(layer),
            mocks_ok=mocks_error is None and bool(chaos),
        )
        for name in names
    }
    return HealthModel(window_s, recent_s, systems, layer_error, mocks_error)


def _judge(
    name: str,
    raw: Mapping[str, Any],
    profile: Mapping[str, Any],
    own_faults: Any,
    window_s: float,
    recent_s: float,
    *,
    layer_ok: bool,
    mocks_ok: bool,
) -> SystemHealth:
    read = Side.of(raw["read"]) if isinstance(raw.get("read"), Mapping) else None
    write = Side.of(raw["write"]) if isinstance(raw.get("write"), Mapping) else None
    outbox = Outbox.of(raw["write"]) if isinstance(raw.get("write"), Mapping) else None
    target = _num(raw.get("p95_target_ms"))
    down_now = bool(profile.get("down_now"))
    faults = _fault_words(profile, own_faults)
    down: list[str] = []
    degraded: list[str] = []
    if down_now:
        down.append("outage injected")
    elif faults:  # the cause first: the numbers it moves come after
        degraded.append("fault injected: " + ", ".join(faults))
    for side_name, side in (("read", read), ("write", write)):
        if side is None:
            continue
        label = f"{side_name} " if read and write else ""
        if side.breaker == "open":
            down.append(f"{label}breaker open")
        elif side.breaker == "half_open":
            degraded.append(f"{label}breaker half-open")
        rate, p95 = side.evidence()
        over = f"last {recent_s:g} s"
        if rate is not None and rate >= DOWN_SHARE:
            down.append(f"{label}{fmt.pct(rate)} errors ({over})")
        elif rate is not None and rate >= DEGRADED_SHARE:
            degraded.append(f"{label}{fmt.pct(rate)} errors ({over})")
        if p95 is not None and target is not None and p95 > target:
            degraded.append(f"{label}p95 {fmt.ms(p95)} over its {fmt.ms(target)} SLA")
    attempts = sum(s.attempts for s in (read, write) if s)
    state: State
    if down:
        state, reasons = "down", (*down, *degraded)
    elif degraded:
        state, reasons = "degraded", tuple(degraded)
    elif not layer_ok:
        state, reasons = "unknown", ("the integration layer did not answer",)
    elif not attempts and not mocks_ok:
        state, reasons = "unknown", (f"no traffic from the layer in the last {window_s:g} s",)
    elif not attempts:
        state, reasons = "up", (f"idle: no traffic from the layer in the last {window_s:g} s",)
    else:
        state, reasons = "up", ()
    return SystemHealth(name, state, reasons, read, write, outbox, faults, down_now)


def _fault_words(profile: Mapping[str, Any], own_faults: Any) -> tuple[str, ...]:
    words: list[str] = []
    if profile.get("down_now"):
        words.append("outage")
    active = _map(profile.get("profile"))
    latency = _map(active.get("latency"))
    kind = latency.get("kind")
    if kind == "fixed":
        words.append(f"+{_num(latency.get('ms')) or 0:g} ms")
    elif kind == "uniform":
        words.append(
            f"+{_num(latency.get('min_ms')) or 0:g}–{_num(latency.get('max_ms')) or 0:g} ms"
        )
    elif kind in ("normal", "lognormal"):
        words.append(f"+p50 {_num(latency.get('p50_ms')) or 0:g} ms")
    errors = _map(active.get("errors"))
    if _num(errors.get("rate")):
        words.append(f"{fmt.pct(_num(errors.get('rate')))} errors")
    if active.get("rate_limit"):
        words.append("quota")
    if active.get("routes"):
        words.append("route rules")
    if isinstance(own_faults, list):
        words += [str(f.get("kind", "fault")) for f in own_faults if isinstance(f, Mapping)]
    return tuple(words)


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _int(value: Any) -> int:
    number = _num(value)
    return int(number) if number is not None else 0
