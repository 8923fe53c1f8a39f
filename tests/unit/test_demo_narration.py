"""The guided demo's narration, replayed from recorded observations on an injected clock.

Events have the shapes ``GET /events`` answered during a CRM outage run (attempts,
cache hits, lookups, tools, outbox deliveries); chaos and session snapshots have the
shapes of ``GET /_chaos`` and ``GET /_mock/crm/tokens``. No stack, no sleeps: every
observation carries its own time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from app.dashboard.demo import INCIDENTS, PACES, DemoRunner, DemoTargets, Narrator
from app.dashboard.demo.narration import CALLER_LINES_PER_TOOL, NOISE_FLOOR, Line
from app.dashboard.demo.runner import newest_seq
from app.scenarios import find_scenario

T0 = 1_800_000_000.0  # the demo's start, on the injected clock


def at(seconds: float) -> str:
    return datetime.fromtimestamp(T0 + seconds, UTC).isoformat(timespec="milliseconds")


def attempt(
    seconds: float,
    system: str = "crm",
    outcome: str = "ok",
    *,
    breaker: str = "closed",
    number: int = 1,
    operation: str = "find_contacts_by_phone",
    status: int | None = None,
    call: str | None = None,
) -> dict[str, Any]:
    return {
        "kind": "attempt",
        "at": at(seconds),
        "call_id": call,
        "system": system,
        "operation": operation,
        "attempt": number,
        "hedge": False,
        "outcome": outcome,
        "status": status,
        "breaker_state": breaker,
        "detail": {},
    }


def cache(seconds: float, age_s: float, because: str = "breaker_open") -> dict[str, Any]:
    return {
        "kind": "cache",
        "at": at(seconds),
        "system": "crm",
        "operation": "find_contacts_by_phone",
        "detail": {"age_s": age_s, "because": because},
    }


def lookup(seconds: float, outcome: str, call: str, **detail: Any) -> dict[str, Any]:
    return {
        "kind": "lookup",
        "at": at(seconds),
        "call_id": call,
        "outcome": outcome,
        "detail": detail,
    }


def tool(seconds: float, name: str, outcome: str, say: str, call: str = "c1") -> dict[str, Any]:
    return {
        "kind": "tool",
        "at": at(seconds),
        "call_id": call,
        "operation": name,
        "outcome": outcome,
        "detail": {"say": say},
    }


def outbox(
    seconds: float, effect: int, status: str, outcome: str = "ok", system: str = "crm"
) -> dict[str, Any]:
    return {
        "kind": "outbox",
        "at": at(seconds),
        "system": system,
        "operation": f"{system}.create_task",
        "outcome": outcome,
        "detail": {"effect_id": effect, "status": status},
    }


def down(system: str = "crm") -> dict[str, Any]:
    return {"systems": {system: {"profile": {}, "down_now": True}}, "system_faults": {}}


CALM: dict[str, Any] = {"systems": {}, "system_faults": {}}


def story(narrator: Narrator) -> list[tuple[str, str, str]]:
    return [(line.when, line.category, line.text) for line in narrator.lines()]


def find(narrator: Narrator, words: str) -> Line:
    found = [line for line in narrator.lines() if words in line.text]
    assert len(found) == 1, (words, story(narrator))
    return found[0]


def outage_story() -> Narrator:
    n = Narrator(T0, planned=["crm"])
    n.chaos(T0 + 19.5, CALM)
    n.events([attempt(19.8), lookup(19.9, "carry_on", "c0")])
    n.applied(T0 + 20, "crm", "outage", {"seconds": 30, "note": "CRM down mid-lookup"}, done="x")
    n.chaos(T0 + 20.5, down())
    n.events(
        [
            attempt(20.1, outcome="unavailable", status=503),
            attempt(20.2, outcome="unavailable", status=503, number=2),
            attempt(20.3, outcome="unavailable", status=503, breaker="open", number=3),
            attempt(20.4, outcome="breaker_open", breaker="open"),
            cache(20.4, age_s=42.0),
            lookup(20.4, "use_cached_and_say_so", "c1", cached=["contact"], missing=[]),
            lookup(21.0, "escalate", "c2", missing=["contact", "accounts", "loans"], cached=[]),
            tool(21.5, "escalate_to_human", "ok", "I'm passing you to a colleague now.", "c2"),
            outbox(22.0, 7, "retry", "unavailable"),
            outbox(23.0, 8, "waiting", "breaker_open"),
            outbox(24.0, 7, "waiting", "breaker_open"),  # the same effect again: still one
            attempt(30.0, outcome="breaker_open", breaker="open"),
            cache(30.0, age_s=52.0),
        ]
    )
    n.chaos(T0 + 50.5, CALM)
    n.events(
        [
            attempt(51.0, breaker="half_open"),
            attempt(52.0, breaker="closed"),
            outbox(53.0, 7, "delivered", system="crm"),
            outbox(54.0, 8, "delivered", system="crm"),
        ]
    )
    return n


def test_an_outage_is_told_from_the_fault_to_the_replay_each_line_at_its_time() -> None:
    n = outage_story()
    told = story(n)
    assert told[0] == (
        "0:20",
        "broke",
        "CRM is down: an outage for 30 s. CRM down mid-lookup",
    )
    fails = find(n, "The layer's calls to CRM fail")
    assert (fails.when, fails.text) == (
        "0:20",
        "The layer's calls to CRM fail: not answering (HTTP 503); 3 so far",
    )
    assert (
        find(n, "Retried CRM").text
        == "Retried CRM with backoff: 2 retry attempt(s), 0 of them answered"
    )
    opened = find(n, "breaker for reads during calls opened")
    assert (opened.when, opened.category) == ("0:20", "layer")
    refused = find(n, "refused at once")
    assert (refused.when, refused.count) == ("0:20–0:30", 2)
    cached = find(n, "last good copy")
    assert cached.text.endswith("2 time(s), copies 42 s to 52 s old")
    assert "(its breaker is open)" in cached.text
    assert find(n, "Lookups answered with cached contact").text.endswith(": 1 call(s)")
    handed = find(n, "hand the call to a person")
    assert "contact, accounts and 1 more" in handed.text
    heard = find(n, "passing you to a colleague")
    assert (heard.when, heard.category) == ("0:21", "caller")
    held = find(n, "Held in the outbox for CRM")
    assert held.text.startswith("Held in the outbox for CRM: 2 write(s) waiting")
    assert "its breaker is open, not answering" in held.text
    over = find(n, "injected fault is over")
    assert (over.when, over.category) == ("0:50", "recovered")
    assert find(n, "CRM answers the layer again").when == "0:51"
    assert find(n, "breaker for reads during calls closed").when == "0:52"
    replayed = find(n, "Replayed to CRM")
    assert (replayed.when, replayed.category) == ("0:53–0:54", "replayed")
    assert replayed.text == (
        "Replayed to CRM: 2 held write(s) delivered, each once, after waiting up to 31 s"
    )
    assert [line.at_s for line in n.lines()] == sorted(line.at_s for line in n.lines())


def test_calm_events_before_the_fault_and_before_the_demo_say_nothing() -> None:
    n = Narrator(T0, planned=["crm"])
    n.events([attempt(-30, outcome="unavailable"), attempt(5), lookup(6, "carry_on", "c")])
    n.events([tool(7, "take_payment", "degraded", "I've taken the card details.")])
    assert n.lines() == []


def test_what_also_happens_on_a_calm_day_is_told_only_when_it_keeps_happening() -> None:
    n = Narrator(T0)
    timeouts = [attempt(10 + i, "database", "timeout") for i in range(NOISE_FLOOR)]
    n.events(timeouts[:-1])
    assert n.lines() == []
    n.events(timeouts[-1:])
    line = find(n, "Core banking fail")
    assert (
        line.text
        == f"The layer's calls to Core banking fail: too slow, timed out; {NOISE_FLOOR} so far"
    )
    assert line.when == "0:10–0:14"


def test_a_snapshot_asked_before_the_fault_was_applied_does_not_end_it() -> None:
    n = Narrator(T0, planned=["crm"])
    n.applied(T0 + 20, "crm", "outage", {"seconds": 30})
    assert n.in_force == {"crm": "DOWN (outage)"}  # at once, not at the next look
    n.chaos(T0 + 19.9, CALM)  # sent before the fault, answered after it: says nothing
    assert [line.category for line in n.lines()] == ["broke"]
    assert n.in_force == {"crm": "DOWN (outage)"}
    n.chaos(T0 + 35, CALM)
    assert n.lines()[-1].text == "CRM's injected fault is over"
    assert n.in_force == {}


def test_a_clear_on_the_timeline_ends_the_fault_once() -> None:
    n = Narrator(T0, planned=["eligibility"])
    profile = {
        "errors": {"rate": 0.3, "kinds": {"429": 1.0}},
        "rate_limit": {"requests": 2, "per_s": 1},
    }
    n.applied(T0 + 20, "eligibility", "faults", {"profile": profile})
    n.chaos(T0 + 21, {"systems": {"eligibility": {"profile": profile, "down_now": False}}})
    n.applied(T0 + 60, "eligibility", "clear", {})
    n.chaos(T0 + 61, CALM)
    assert story(n) == [
        ("0:20", "broke", "Eligibility is faulted: 30% errors (429) · quota 2 per 1 s"),
        ("1:00", "recovered", "Eligibility's injected faults are cleared"),
    ]
    assert n.in_force == {}


def test_a_fault_someone_else_set_is_told_as_theirs() -> None:
    n = Narrator(T0, planned=["crm"])
    n.chaos(T0 + 3, {"systems": {"erp": {"profile": {"errors": {"rate": 1.0}}}}})
    assert story(n) == [
        ("0:03", "broke", "ERP is faulted from outside this demo: 100% errors (500)")
    ]
    assert n.in_force == {"erp": "100% errors (500)"}


def test_a_database_lock_is_seen_in_the_systems_own_faults_and_its_end_is_told() -> None:
    n = Narrator(T0, planned=["database"])
    n.applied(T0 + 20, "database", "lock", {"seconds": 20, "note": "a batch job"})
    n.chaos(T0 + 21, {"systems": {}, "system_faults": {"database": [{"kind": "lock"}]}})
    assert n.in_force == {"database": "lock in force"}
    n.chaos(T0 + 40.5, {"systems": {}, "system_faults": {"database": []}})
    assert [line.text for line in n.lines()] == [
        "Core banking is locked for 20 s: a batch job holds the write lock, reads queue. "
        "A batch job",
        "Core banking's injected fault is over",
    ]


def test_a_401_storm_is_told_by_the_new_sessions_and_the_crm_calls_since() -> None:
    n = Narrator(T0, planned=["crm"])
    n.sessions(T0 + 10, {"live": 1, "expired": 4, "ttl_s": 3600})
    n.applied(
        T0 + 20,
        "crm",
        "credentials_expire",
        {"ttl": 10, "note": "sessions revoked"},
        done="crm: 1 sessions expired",
    )
    n.sessions(T0 + 19.9, {"live": 0, "expired": 5, "ttl_s": 10})  # asked before: ignored
    n.events([attempt(20.2), attempt(20.4, outcome="not_found")])
    n.sessions(T0 + 20.5, {"live": 1, "expired": 5, "ttl_s": 10})
    n.events([attempt(21.0), attempt(21.5, outcome="credentials_rejected")])
    revoked, relogin = n.lines()
    assert revoked.text == (
        "Every CRM session is revoked (a 401 storm); new sessions last only 10 s "
        "(1 sessions expired). Sessions revoked"
    )
    assert relogin.when == "0:20"
    assert relogin.text == (
        "The layer logged in to the CRM again: 1 new session(s) since the revocation; "
        "CRM calls since: 3 answered, 1 refused (401)"
    )
    # Revoked again: a line of its own, counting from there.
    n.applied(T0 + 45, "crm", "credentials_expire", {}, done="crm: 1 sessions expired")
    n.sessions(T0 + 46, {"live": 2, "expired": 6, "ttl_s": 10})
    n.events([attempt(46.5)])
    again = n.lines()[-1]
    assert (again.when, again.category) == ("0:46", "layer")
    assert again.text == (
        "The layer logged in to the CRM again: 2 new session(s) since the revocation; "
        "CRM calls since: 1 answered, 0 refused (401)"
    )
    assert relogin.text.endswith("3 answered, 1 refused (401)")


def test_what_callers_heard_keeps_two_sentences_a_tool_and_counts_the_rest() -> None:
    n = Narrator(T0, planned=["payments"])
    n.applied(T0 + 20, "payments", "outage", {"seconds": 40})
    n.events(
        [
            tool(21, "take_payment", "degraded", "Our team will process the payment of $78."),
            tool(22, "take_payment", "degraded", "Our team will process the payment of $498."),
            tool(23, "take_payment", "degraded", "The payment of $27 is being processed now."),
            tool(24, "take_payment", "degraded", "A third way of saying it."),
            tool(25, "take_payment", "ok", "Thank you, your payment of $5 has gone through."),
        ]
    )
    heard = [line for line in n.lines() if line.category == "caller"]
    assert len(heard) == CALLER_LINES_PER_TOOL
    assert heard[0].text == '(take_payment) "Our team will process the payment of $78." — 2 call(s)'
    assert heard[0].when == "0:21–0:22"
    assert heard[1].text.endswith("— 1 call(s)")


def test_what_callers_heard_is_told_only_when_the_fault_is_why() -> None:
    n = Narrator(T0, planned=["slack"])
    n.applied(T0, "slack", "faults", {"profile": {"errors": {"rate": 1.0}}})
    sorry = "I couldn't find your account on this number."
    n.events([tool(3, "check_eligibility", "failed", sorry, "c1")])  # Slack is not why
    assert [line.category for line in n.lines()] == ["broke"]
    n.applied(T0 + 10, "database", "lock", {"seconds": 20})
    n.events([attempt(11, "database", "timeout", operation="accounts", call="c2")])
    n.events([tool(12, "check_eligibility", "failed", sorry, "c2")])  # its read met the lock
    heard = find(n, "couldn't find your account")
    assert (heard.when, heard.category) == ("0:12", "caller")


def test_a_dead_letter_is_told_with_its_reason() -> None:
    n = Narrator(T0)
    n.events([outbox(5, 1, "dead", "max_attempts", system="payments")])
    assert story(n) == [
        (
            "0:05",
            "broke",
            "1 payments.create_task write(s) to Payments became dead letters (every attempt "
            "failed); they wait on the Write path page for a replay",
        )
    ]


def test_the_outbox_breaker_is_told_apart_from_the_read_breaker() -> None:
    n = Narrator(T0, planned=["crm"])
    n.applied(T0 + 1, "crm", "outage", {"seconds": 5})
    n.events([attempt(2, breaker="open", operation="crm.create_task", outcome="unavailable")])
    opened = find(n, "breaker for outbox deliveries opened")
    assert opened.text == (
        "CRM's breaker for outbox deliveries opened: the layer stops calling CRM and holds "
        "the writes"
    )
    assert not [line for line in n.lines() if "reads during calls" in line.text]


def test_the_verdict_names_what_was_missed_in_the_units_it_was_written_in() -> None:
    n = Narrator(T0)
    card = {
        "passed": False,
        "calls_total": 61,
        "ok": 32,
        "degraded": 23,
        "escalated": 6,
        "failed": 0,
        "writes_applied": 216,
        "automation_runs_failed": 3,
        "expectations": [
            {"expectation": "failed_ratio <= 0.02", "actual": 0.031, "passed": False},
            {"expectation": "lookup_p95_ms <= 1200", "actual": 2152.04, "passed": False},
            {"expectation": "writes_lost == 0", "actual": 0, "passed": True},
        ],
    }
    n.verdict(T0 + 75, card)
    (line,) = n.lines()
    assert (line.when, line.category) == ("1:15", "verdict")
    assert line.text.startswith("Scorecard: FAILED. 61 calls: 32 ok, 23 degraded, 6 handed")
    assert "216 applied, 0 pending, 0 dead, 0 lost, 0 duplicated. CRM automation runs " in line.text
    assert line.text.endswith(
        "with a failed step: 3. "
        "Missed: failed_ratio <= 0.02 (was 3.1%); lookup_p95_ms <= 1200 (was 2,152)."
    )


def test_the_story_is_bounded_but_always_has_room_for_the_verdict() -> None:
    n = Narrator(T0, most_lines=3)
    n.events([outbox(i, i, "dead", reason, system="crm") for i, reason in enumerate("abcde")])
    assert len(n.lines()) == 3 and n.dropped == 2
    n.verdict(T0 + 9, {"passed": True})
    assert n.lines()[-1].category == "verdict"


# -- the runner's edges, without a stack ------------------------------------------------------


def test_every_incident_is_a_short_scenario_of_the_catalog_with_expectations() -> None:
    for incident in INCIDENTS:
        scenario = find_scenario(incident.scenario)
        assert 60 <= scenario.duration <= 120, incident.scenario
        assert scenario.expectations and scenario.timeline, incident.scenario
    # A full demo at the slowest pace, outbox drain included, stays under five minutes.
    assert max(find_scenario(i.scenario).duration for i in INCIDENTS) + 60 < 300


def test_a_pace_not_offered_is_refused_naming_the_field() -> None:
    runner = DemoRunner(DemoTargets("http://127.0.0.1:9", "http://127.0.0.1:9"))
    with pytest.raises(ValueError, match=r"^speed: must be one of 1, 2, 4, 8$"):
        runner.start(INCIDENTS[0], 3.0)
    assert 3.0 not in PACES and runner.view().phase == "idle"


@pytest.mark.parametrize("newest", [0, 1, 2, 1023, 1024, 1025, 987_654])
async def test_the_newest_event_is_found_by_galloping_then_halving(newest: int) -> None:
    asked: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        cursor = int(request.url.params["cursor"])
        asked.append(cursor)
        events = [{"seq": cursor + 1}] if cursor < newest else []
        return httpx.Response(200, json={"events": events, "next_cursor": cursor})

    async with httpx.AsyncClient(
        base_url="http://layer", transport=httpx.MockTransport(answer)
    ) as layer:
        assert await newest_seq(layer) == newest
    assert len(asked) <= 2 * max(1, newest).bit_length() + 3
