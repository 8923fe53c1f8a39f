"""The design review reads as answers to the eight questions, in plain sentences."""

from __future__ import annotations

import re

import pytest

from integration.systemmap.model import load_system_map
from integration.systemmap.review import QUESTIONS, design_review

SYSTEM_MAP, POLICIES = load_system_map()


def test_the_eight_questions_are_asked_as_questions() -> None:
    assert len(QUESTIONS) == 8
    topics = [q.split(":")[0] for q in QUESTIONS]
    assert topics == [
        "Sources",
        "Destinations",
        "Path",
        "Order",
        "Failure modes",
        "Recovery",
        "Capacity",
        "Ownership",
    ]
    assert all(q.endswith("?") and q.split(": ")[1][0].islower() for q in QUESTIONS)


@pytest.mark.parametrize("flow", sorted(SYSTEM_MAP.flows))
def test_every_flow_review_reads_as_sentences(flow: str) -> None:
    text = design_review(SYSTEM_MAP, POLICIES, flow)
    headings = re.findall(r"^## (\d)\. (.+)$", text, flags=re.MULTILINE)
    assert headings == [(str(n), q) for n, q in enumerate(QUESTIONS, 1)]
    # What one system down does to the flow: a verb, never a bare participle.
    verdicts = re.findall(r"down: the flow \*\*([^*]+)\*\*", text)
    assert verdicts
    assert set(verdicts) <= {"fails", "degrades", "is delayed", "is unaffected"}
    # The order: each step says when it runs.
    order = re.findall(r"^\d+\. \S+ \(\w+\): (.+)$", text, flags=re.MULTILINE)
    assert order and all(
        w == "first, alongside any other first step" or w.startswith("after ") for w in order
    )
    assert not [line for line in text.splitlines() if "  " in line.strip()]  # no doubled spaces
