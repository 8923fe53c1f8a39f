"""The guided demo's narration: what broke, what the layer did about it, what callers
heard, what was queued and when it was replayed, each line tied to the second it happened.

Nothing here is canned. Every line is made from one kind of observation and says only
what that observation shows: a timeline event the mocks' control plane applied, the
mocks' chaos state, the layer's own events (``GET /events``), the CRM's sessions, the
scorecard. A line that keeps happening is one line whose count (and time span) grows, so
the story stays short and never contradicts the screen beside it.

Pure and single-threaded: each observation comes with its wall-clock time (the caller's
injected clock, or an event's own ``at``), so tests replay recorded ones exactly.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from app.dashboard.chaosform import describe_profile
from app.dashboard.demo.words import clock, fault_words, name, owns, reason, seconds

__all__ = ["CATEGORIES", "Category", "Line", "Narrator"]

Category = Literal["demo", "broke", "layer", "caller", "queue", "replayed", "recovered", "verdict"]
# What each kind of line is about, as the page labels it.
CATEGORIES: dict[str, str] = {
    "demo": "demo",
    "broke": "what broke",
    "layer": "the layer",
    "caller": "caller heard",
    "queue": "queued",
    "replayed": "replayed",
    "recovered": "recovered",
    "verdict": "scorecard",
}
# Failures of a source worth telling (a "not found" is an answer; "cancelled" is a hedge).
FAILURES = frozenset(
    {
        "unavailable",
        "timeout",
        "rate_limited",
        "credentials_rejected",
        "malformed_response",
        "deadline_exceeded",
        "bulkhead_full",
        "retry_budget_exhausted",
    }
)
# The systems each tool's answer depends on (integration/tools/), beyond the caller lookup.
TOOL_SYSTEMS: dict[str, tuple[str, ...]] = {
    "take_payment": ("payments",),
    "book_appointment": ("calendar",),
    "check_eligibility": ("eligibility",),
    "update_lead": ("crm",),
    "schedule_callback": ("crm",),
    "send_confirmation": ("messaging", "email"),
}
# A timeline action's fault, as "injected now" shows it before the mocks are read again.
_IN_FORCE = {
    "outage": "DOWN (outage)",
    "lock": "write lock held",
    "slow": "queries slowed by a lock",
    "callbacks": "status callbacks bent",
    "batch_window": "batch window open",
    "transform": "fields mangled",
}
# Why a last good copy was served, as a presenter says it.
BECAUSE = {
    "breaker_open": "its breaker is open",
    "unavailable": "it is not answering",
    "timeout": "it is too slow",
    "deadline_exceeded": "the caller's turn had no time left",
    "rate_limited": "it is rate limiting us",
    "credentials_rejected": "it refused our credentials",
}
# Something that also happens on a calm day is told only under a fault, or this often.
NOISE_FLOOR = 5
CALLER_LINES_PER_TOOL = 2  # distinct sentences told per tool and stretch of the story
_REMEMBERED = 20_000  # effects and calls kept in mind (the oldest are forgotten first)
_NUMBERS = re.compile(r"\d[\d,.:]*\d|\d")


@dataclass
class Line:
    at_s: float  # since the demo started
    category: Category
    text: str
    count: int = 1
    last_s: float = 0.0
    seq: int = 0  # the order lines were first told in

    @property
    def when(self) -> str:
        """``0:20``, or ``0:20–0:41`` for something that kept happening."""
        if self.count > 1 and self.last_s - self.at_s >= 1:
            return f"{clock(self.at_s)}–{clock(self.last_s)}"
        return clock(self.at_s)


@dataclass
class _Fault:
    system: str
    start_s: float
    end_s: float | None = None
    words: str = "faulted"  # shown as in force until the chaos state is read again


class Narrator:
    """Fed observations, keeps the story. ``planned`` are the systems the scenario's
    timeline touches: a fault seen on another one was set by someone else, and is told so."""

    def __init__(
        self, started_at: float, *, planned: Iterable[str] = (), most_lines: int = 120
    ) -> None:
        self.started_at = started_at
        self.most_lines = most_lines
        self.dropped = 0  # lines not told because the story was full
        self.in_force: dict[str, str] = {}  # system -> its injected faults, as last seen
        self._planned = frozenset(planned)
        self._lines: dict[str, Line] = {}
        self._tally: Counter[str] = Counter()
        self._first: dict[str, float] = {}  # when a tallied thing first happened
        self._changes: list[float] = []  # every fault's start and end: the story's stretches
        self._faults: list[_Fault] = []
        self._breaker: dict[str, str] = {}
        self._queued: dict[Any, tuple[str, float]] = {}  # effect -> (system, first queued)
        self._waited: dict[str, float] = {}  # replay topic -> longest wait
        self._escalated: dict[str, None] = {}  # calls whose lookup handed them over
        self._troubled: dict[str, None] = {}  # calls that met a fault on their way
        self._parts: dict[str, set[str]] = {}
        self._ages: dict[str, tuple[float, float]] = {}
        self._heard: dict[str, str] = {}  # topic -> the first sentence of that shape
        self._shapes: dict[str, set[str]] = {}
        self._expired_at: float | None = None
        self._sessions_seen: int | None = None  # sessions the CRM had issued, last look
        self._sessions_base: int | None = None
        self._sessions_new = 0
        self._crm_since: Counter[str] = Counter()

    # -- the story ----------------------------------------------------------------------

    def lines(self) -> list[Line]:
        """Oldest first (observations arrive a little out of order: events lag the clock)."""
        return sorted(self._lines.values(), key=lambda line: (line.at_s, line.seq))

    def at(self, wall: float) -> float:
        return round(wall - self.started_at, 2)

    def note(self, wall: float, category: Category, text: str) -> None:
        """Something the demo itself did (traffic started, faults cleared, ...)."""
        self._say(f"note:{len(self._lines)}", self.at(wall), category, text)

    # -- observations -------------------------------------------------------------------

    def applied(
        self,
        wall: float,
        system: str,
        action: str,
        event: Mapping[str, Any],
        *,
        done: str = "",
        error: str | None = None,
    ) -> None:
        """A timeline event, as the control plane took it (``error``: it refused)."""
        t = self.at(wall)
        who = name(system)
        if error is not None:
            text = f"The demo could not apply {action} to {who}: the mocks' control plane refused"
            self._say(f"refused:{system}:{action}:{t}", t, "broke", text)
            return
        if action == "clear":
            self.in_force.pop(system, None)
            self._end(system, t, f"{owns(system)} injected faults are cleared")
            return
        self._changes.append(t)
        text = fault_words(action, system, event)
        if action == "credentials_expire":
            self._expired_at = t
            self._sessions_base = self._sessions_seen
            self._sessions_new = 0
            self._crm_since.clear()
            if ":" in done:
                text += f" ({done.split(': ', 1)[1]})"
        else:
            words = _IN_FORCE.get(action) or describe_profile(_mapping(event.get("profile")))
            self._faults.append(_Fault(system, t, words=words))
            self.in_force[system] = words
        text = text[:1].upper() + text[1:]
        note = event.get("note")
        if note:
            text += f". {str(note)[:1].upper()}{str(note)[1:]}"
        self._say(f"fault:{system}:{action}:{t}", t, "broke", text)

    def chaos(self, sent: float, snapshot: Mapping[str, Any]) -> None:
        """``GET /_chaos`` as asked at ``sent``: faults that ended on their own, and faults
        someone else set."""
        t = self.at(sent)
        active: dict[str, str] = {}
        for system, state in _mapping(snapshot.get("systems")).items():
            state = _mapping(state)
            profile = _mapping(state.get("profile"))
            down = bool(state.get("down_now"))
            if down or any(profile.values()):
                active[str(system)] = describe_profile(profile, down_now=down)
        for system, faults in _mapping(snapshot.get("system_faults")).items():
            if isinstance(faults, list) and faults:
                kinds = ", ".join(str(_mapping(f).get("kind", "fault")) for f in faults)
                active[str(system)] = f"{kinds} in force"
        for fault in self._open_faults():
            if fault.start_s >= t:  # applied after this snapshot was asked for
                active.setdefault(fault.system, fault.words)
        self.in_force = active
        for fault in self._open_faults():
            if fault.system not in active and t > fault.start_s:
                self._end(fault.system, t, f"{owns(fault.system)} injected fault is over")
        for system, words in active.items():
            if system not in self._planned and not self._under_fault(system, t):
                self._changes.append(t)
                self._faults.append(_Fault(system, t))
                text = f"{name(system)} is faulted from outside this demo: {words}"
                self._say(f"outside:{system}:{t}", t, "broke", text)

    def sessions(self, sent: float, counts: Mapping[str, Any]) -> None:
        """``GET /_mock/crm/tokens`` as asked at ``sent``: new sessions after a revocation
        are the layer logging in again."""
        try:
            issued = int(counts.get("live", 0)) + int(counts.get("expired", 0))
            live = int(counts.get("live", 0))
        except (TypeError, ValueError):
            return
        t = self.at(sent)
        expired_at = self._expired_at
        if expired_at is None or t <= expired_at:
            self._sessions_seen = issued
            return
        self._sessions_seen = issued
        if self._sessions_base is None:
            self._sessions_base = issued - live  # first look after: the live ones are new
        new = issued - self._sessions_base
        if new > 0 and new != self._sessions_new:
            self._sessions_new = new
            self._relogin(t)

    def events(self, batch: Iterable[Mapping[str, Any]]) -> None:
        """Events from ``GET /events``, in the order the layer numbered them."""
        for event in batch:
            self._event(event)

    def verdict(self, wall: float, card: Mapping[str, Any]) -> None:
        t = self.at(wall)
        passed = bool(card.get("passed"))
        text = (
            f"Scorecard: {'PASSED' if passed else 'FAILED'}. {card.get('calls_total', 0)} calls: "
            f"{card.get('ok', 0)} ok, {card.get('degraded', 0)} degraded, "
            f"{card.get('escalated', 0)} handed to a person, {card.get('failed', 0)} failed. "
            f"Writes: {card.get('writes_applied', 0)} applied, "
            f"{card.get('writes_pending', 0)} pending, {card.get('writes_dead', 0)} dead, "
            f"{card.get('writes_lost', 0)} lost, {card.get('duplicates', 0)} duplicated."
        )
        ripples = {
            "automation_runs_failed": "CRM automation runs with a failed step",
            "callbacks_duplicated": "SMS status callbacks sent twice",
            "batch_window_refusals": "requests the core refused in its batch window",
            "fields_mangled": "answer fields the middleware mangled",
        }
        for key, words in ripples.items():
            if card.get(key):
                text += f" {words[:1].upper()}{words[1:]}: {card[key]}."
        missed = [
            f"{c.get('expectation')} (was {_number(str(c.get('expectation')), c.get('actual'))})"
            for c in card.get("expectations") or ()
            if isinstance(c, Mapping) and not c.get("passed")
        ]
        if missed:
            text += " Missed: " + "; ".join(missed) + "."
        self._say("verdict", t, "verdict", text)

    # -- the layer's events ---------------------------------------------------------------

    def _event(self, event: Mapping[str, Any]) -> None:
        t = self._time_of(event)
        if t is None or t < -2:  # from before the demo
            return
        kind = event.get("kind")
        system = str(event.get("system") or "")
        outcome = str(event.get("outcome") or "ok")
        detail = _mapping(event.get("detail"))
        stretch = bisect_right(self._changes, t)
        if kind == "attempt":
            self._attempt(event, system, outcome, t, stretch)
        elif kind == "cache":
            if event.get("call_id") and self._under_fault(system, t):
                _remember(self._troubled, str(event["call_id"]))
            self._cache(system, detail, t, stretch)
        elif kind == "lookup":
            self._lookup(event, outcome, detail, t, stretch)
        elif kind == "tool":
            self._tool(event, outcome, detail, t, stretch)
        elif kind == "outbox":
            self._outbox(event, system, outcome, detail, t, stretch)

    def _attempt(
        self, event: Mapping[str, Any], system: str, outcome: str, t: float, stretch: int
    ) -> None:
        who = name(system)
        operation = str(event.get("operation") or "")
        # The outbox delivers through executors (and breakers) of its own: "crm.create_task".
        path = "write" if operation.startswith(f"{system}.") else "read"
        self._breaker_seen(system, path, event.get("breaker_state"), t, stretch)
        under = self._under_fault(system, t)
        if outcome == "breaker_open":
            self._say(
                f"refused:{system}:{stretch}",
                t,
                "layer",
                lambda n: (
                    f"{n} {who} call(s) refused at once while its breaker is open: "
                    "no caller waits on a system that is failing"
                ),
            )
        elif outcome in FAILURES:
            topic = f"fail:{system}:{outcome}:{stretch}"
            self._count(topic, t)
            if under or self._tally[topic] >= NOISE_FLOOR:
                status = event.get("status")
                http = f" (HTTP {status})" if isinstance(status, int) else ""
                self._say(
                    topic,
                    t,
                    "broke",
                    lambda n: (
                        f"The layer's calls to {who} fail: {reason(outcome)}{http}; {n} so far"
                    ),
                    count=self._tally[topic],
                )
        if under and outcome not in ("ok", "not_found", "cancelled") and event.get("call_id"):
            _remember(self._troubled, str(event["call_id"]))
        attempt = event.get("attempt")
        if isinstance(attempt, int) and attempt >= 2 and not event.get("hedge"):
            topic = f"retry:{system}:{stretch}"
            self._count(topic, t)
            if outcome == "ok":
                self._tally[topic + ":ok"] += 1
            won = self._tally[topic + ":ok"]
            if under or self._tally[topic] >= NOISE_FLOOR:
                self._say(
                    topic,
                    t,
                    "layer",
                    lambda n: (
                        f"Retried {who} with backoff: {n} retry attempt(s), {won} of them answered"
                    ),
                    count=self._tally[topic],
                )
        if outcome == "ok" and self._recovered_before(system, t):
            self._say(
                f"back:{system}:{stretch}",
                t,
                "recovered",
                f"{who} answers the layer again: the first successful call after the fault",
                bump=False,
            )
        if system == "crm" and self._expired_at is not None and t >= self._expired_at:
            self._crm_since["refused" if outcome == "credentials_rejected" else outcome] += 1
            if self._sessions_new:
                self._relogin(None)

    def _breaker_seen(self, system: str, path: str, state: Any, t: float, stretch: int) -> None:
        if not isinstance(state, str):
            return
        key = f"{system}:{path}"
        before = self._breaker.get(key, "closed")
        self._breaker[key] = state
        if state == before:
            return
        who = name(system)
        breaker = f"{owns(system)} breaker for " + (
            "reads during calls" if path == "read" else "outbox deliveries"
        )
        stops = "answers without it" if path == "read" else "holds the writes"
        if state == "open":
            self._say(
                f"breaker:{key}:open:{stretch}",
                t,
                "layer",
                lambda n: (
                    f"{breaker} opened: the layer stops calling {who} and {stops}"
                    + _times(n, "opened")
                ),
            )
        elif state == "half_open":
            self._say(
                f"breaker:{key}:half:{stretch}",
                t,
                "layer",
                lambda n: (
                    f"{breaker} is half-open: a few trial calls test whether {who} is back"
                    + _times(n)
                ),
            )
        elif state == "closed":
            self._say(
                f"breaker:{key}:closed:{stretch}",
                t,
                "recovered",
                lambda n: f"{breaker} closed: calls go through again" + _times(n),
            )

    def _cache(self, system: str, detail: Mapping[str, Any], t: float, stretch: int) -> None:
        topic = f"cache:{system}:{stretch}"
        age = detail.get("age_s")
        if isinstance(age, int | float):
            low, high = self._ages.get(topic, (float(age), float(age)))
            self._ages[topic] = (min(low, age), max(high, age))
        because = detail.get("because")
        reasons = self._parts.setdefault(topic, set())
        if because:
            reasons.add(BECAUSE.get(str(because), reason(str(because))))
        why = f" ({', '.join(sorted(reasons))})" if reasons else ""
        whose = owns(system)

        def text(n: int) -> str:
            ages = self._ages.get(topic)
            told = ""
            if ages is not None:
                low, high = ages
                span = seconds(low) if high - low < 1 else f"{seconds(low)} to {seconds(high)}"
                told = f", copies {span} old"
            return (
                f"Answered from {whose} last good copy instead of waiting{why}: {n} time(s){told}"
            )

        self._say(topic, t, "layer", text)

    def _lookup(
        self,
        event: Mapping[str, Any],
        outcome: str,
        detail: Mapping[str, Any],
        t: float,
        stretch: int,
    ) -> None:
        if outcome in ("carry_on", "ok"):
            return
        topic = f"lookup:{outcome}:{stretch}"
        self._count(topic, t)
        if outcome == "escalate" and event.get("call_id"):
            _remember(self._escalated, str(event["call_id"]))
        what = detail.get("missing") if outcome == "escalate" else detail.get("cached")
        parts = self._parts.setdefault(topic, set())
        parts.update(str(p) for p in what or () if isinstance(p, str))
        if not (self._any_fault(t) or self._tally[topic] >= NOISE_FLOOR):
            return
        listed = _few(parts) or "part of the answer"
        if outcome == "escalate":
            words = f"Lookups without the caller's {listed} hand the call to a person"
        elif outcome == "use_cached_and_say_so":
            words = f"Lookups answered with cached {listed} and told the agent to say so"
        else:
            words = f"Lookups recommended: {outcome.replace('_', ' ')}"
        self._say(topic, t, "layer", lambda n: f"{words}: {n} call(s)", count=self._tally[topic])

    def _tool(
        self,
        event: Mapping[str, Any],
        outcome: str,
        detail: Mapping[str, Any],
        t: float,
        stretch: int,
    ) -> None:
        said = detail.get("say")
        tool = str(event.get("operation") or "a tool")
        call = str(event.get("call_id"))
        handed = tool == "escalate_to_human" and call in self._escalated
        if not isinstance(said, str) or not said:
            return
        if outcome not in ("degraded", "failed") and not handed:
            return
        # Told only when the fault is why: the tool needs a system under fault, or this
        # call already met the fault (a failed read, a refusal, a copy from the cache).
        needs = TOOL_SYSTEMS.get(tool, ())
        if not (handed or call in self._troubled or any(self._under_fault(s, t) for s in needs)):
            return
        shape = _NUMBERS.sub("N", said)
        shapes = self._shapes.setdefault(f"{tool}:{stretch}", set())
        if shape not in shapes and len(shapes) >= CALLER_LINES_PER_TOOL:
            return
        shapes.add(shape)
        topic = f"heard:{tool}:{stretch}:{shape}"
        first = self._heard.setdefault(topic, said)
        self._say(topic, t, "caller", lambda n: f'({tool}) "{first}" — {n} call(s)')

    def _outbox(
        self,
        event: Mapping[str, Any],
        system: str,
        outcome: str,
        detail: Mapping[str, Any],
        t: float,
        stretch: int,
    ) -> None:
        status = detail.get("status")
        effect = detail.get("effect_id")
        who = name(system)
        what = str(event.get("operation") or "write")
        if status in ("retry", "waiting") and effect is not None:
            topic = f"queued:{system}:{stretch}"
            if effect not in self._queued:
                _remember(self._queued, effect, (system, t))
                self._count(topic, t)
            why = self._parts.setdefault(topic, set())
            why.add(reason(outcome))
            self._say(
                topic,
                t,
                "queue",
                lambda n: (
                    f"Held in the outbox for {who}: {n} write(s) waiting "
                    f"({', '.join(sorted(why))}); the dispatcher retries them in the background"
                ),
                count=self._tally[topic],
            )
        elif status == "delivered" and effect in self._queued:
            _, since = self._queued.pop(effect)
            topic = f"replayed:{system}:{stretch}"
            self._waited[topic] = max(self._waited.get(topic, 0.0), t - since)
            longest = self._waited[topic]
            self._say(
                topic,
                t,
                "replayed",
                lambda n: (
                    f"Replayed to {who}: {n} held write(s) delivered, each once, "
                    f"after waiting up to {seconds(longest)}"
                ),
            )
        elif status == "dead":
            self._say(
                f"dead:{system}:{outcome}:{stretch}",
                t,
                "broke",
                lambda n: (
                    f"{n} {what} write(s) to {who} became dead letters "
                    f"({reason(outcome)}); they wait on the Write path page for a replay"
                ),
            )

    # -- helpers ----------------------------------------------------------------------------

    def _count(self, topic: str, t: float) -> None:
        self._tally[topic] += 1
        self._first.setdefault(topic, t)

    def _relogin(self, t: float | None) -> None:
        since = self._crm_since
        answered = sum(n for outcome, n in since.items() if outcome in ("ok", "not_found"))
        text = (
            f"The layer logged in to the CRM again: {self._sessions_new} new session(s) "
            f"since the revocation; CRM calls since: {answered} answered, "
            f"{since['refused']} refused (401)"
        )
        topic = f"relogin:{self._expired_at}"  # one line per revocation
        line = self._lines.get(topic)
        if line is not None:
            line.text = text
            return
        if t is not None:
            self._say(topic, t, "layer", text)

    def _end(self, system: str, t: float, text: str) -> None:
        ended = False
        for fault in self._faults:
            if fault.system == system and fault.end_s is None:
                fault.end_s = t
                ended = True
        if ended:
            self._changes.append(t)
            self._say(f"over:{system}:{t}", t, "recovered", text)

    def _open_faults(self) -> list[_Fault]:
        return [f for f in self._faults if f.end_s is None]

    def _under_fault(self, system: str, t: float) -> bool:
        return any(
            f.system == system and f.start_s <= t and (f.end_s is None or t < f.end_s)
            for f in self._faults
        )

    def _any_fault(self, t: float) -> bool:
        return any(f.start_s <= t and (f.end_s is None or t < f.end_s) for f in self._faults)

    def _recovered_before(self, system: str, t: float) -> bool:
        """``system`` had a fault that ended at or before ``t``, and none is on it now."""
        ended = [f for f in self._faults if f.system == system and f.end_s is not None]
        return bool(ended) and not self._under_fault(system, t) and ended[-1].end_s <= t  # type: ignore[operator]

    def _time_of(self, event: Mapping[str, Any]) -> float | None:
        try:
            return self.at(datetime.fromisoformat(str(event.get("at"))).timestamp())
        except ValueError:
            return None

    def _say(
        self,
        topic: str,
        t: float,
        category: Category,
        text: str | Callable[[int], str],
        *,
        count: int | None = None,
        bump: bool = True,
    ) -> None:
        """Tell ``topic`` at ``t``, or count it again. ``count``: the topic's own tally,
        which may have started (at ``_first[topic]``) before it was worth telling."""
        line = self._lines.get(topic)
        if line is None:
            if len(self._lines) >= self.most_lines and category not in ("demo", "verdict"):
                self.dropped += 1
                return
            since = min(t, self._first.get(topic, t))
            line = Line(since, category, "", count or 1, t, len(self._lines))
            self._lines[topic] = line
        elif bump:
            line.count = count if count is not None else line.count + 1
            line.at_s, line.last_s = min(line.at_s, t), max(line.last_s, t)
        line.text = text if isinstance(text, str) else text(line.count)


def _number(expectation: str, value: Any) -> str:
    """An expectation's observed value as written beside it: ``0.012`` of a ratio is 1.2%."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "none"
    if expectation.split(" ", 1)[0].endswith("_ratio"):
        return f"{value:.1%}"
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:g}"


def _few(parts: set[str], most: int = 2) -> str:
    """``contact and accounts``, ``contact, accounts and 3 more`` (the contact first: the
    lookup reads it first, and the others after it)."""
    ordered = sorted(parts, key=lambda p: (p != "contact", p))
    if len(ordered) <= most:
        return " and ".join(ordered)
    return f"{', '.join(ordered[:most])} and {len(ordered) - most} more"


def _times(n: int, verb: str = "") -> str:
    return f" ({verb + ' ' if verb else ''}{n} times)" if n > 1 else ""


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _remember(kept: dict[Any, Any], key: Any, value: Any = None) -> None:
    kept[key] = value
    while len(kept) > _REMEMBERED:
        del kept[next(iter(kept))]
