"""``Query.select``: the public filter + order + limit step, which leaves records whole."""

from __future__ import annotations

from typing import Any

from mocks.crm.soql import parse_soql

LEADS: list[dict[str, Any]] = [
    {"Id": "00QA", "LastName": "Lovelace", "Status": "Open", "Phone": "415"},
    {"Id": "00QB", "LastName": "babbage", "Status": "Qualified", "Phone": None},
    {"Id": "00QC", "LastName": "Hopper", "Status": "open", "Phone": "212"},
    {"Id": "00QD", "LastName": "Church", "Status": "Open", "Phone": ""},
]


def test_select_returns_the_records_themselves_not_projections() -> None:
    query = parse_soql("SELECT LastName FROM Lead WHERE Status = 'open' ORDER BY LastName")
    chosen = query.select(LEADS)
    assert [r["Id"] for r in chosen] == ["00QD", "00QC", "00QA"]
    assert all(any(r is lead for lead in LEADS) for r in chosen)  # same objects, all fields
    assert query.run(LEADS) == [{"LastName": r["LastName"]} for r in chosen]


def test_select_limits_after_ordering_and_counts_agree() -> None:
    query = parse_soql("SELECT Id FROM Lead ORDER BY Phone DESC NULLS LAST LIMIT 3")
    assert [r["Id"] for r in query.select(LEADS)] == ["00QA", "00QC", "00QB"]
    assert query.count(LEADS) == len(query.select(LEADS)) == 3
    assert [r["Id"] for r in parse_soql("SELECT Id FROM Lead LIMIT 2").select(iter(LEADS))] == [
        "00QA",
        "00QB",
    ]


def test_a_count_query_still_selects_what_it_counts() -> None:
    query = parse_soql("SELECT COUNT() FROM Lead WHERE Status != 'Qualified'")
    assert query.run(LEADS) == []
    assert [r["Id"] for r in query.select(LEADS)] == ["00QA", "00QC", "00QD"]
