"""The mock CRM's SOQL subset: grammar, Salesforce-like semantics, and its errors."""

from __future__ import annotations

import dataclasses
import pickle
from types import MappingProxyType
from typing import Any

import pytest

from mocks.crm.soql import Condition, OrderItem, SoqlError, index_key, parse_soql

CONTACTS: list[dict[str, Any]] = [
    {
        "Id": "003A",
        "Name": "Ada Lovelace",
        "Phone": "(415) 555-0123",
        "Age": 36,
        "Active__c": True,
        "Customer_Id__c": "C-1",
    },
    {
        "Id": "003B",
        "Name": "brian O'Brien",
        "Phone": None,
        "Age": 52,
        "Active__c": False,
        "Customer_Id__c": "C-2",
    },
    {
        "Id": "003C",
        "Name": "Chen Wei",
        "Phone": "",
        "Age": 29.5,
        "Active__c": True,
        "Customer_Id__c": "C_3",
    },
    {
        "Id": "003D",
        "Name": "dana 50% Off",
        "Phone": "(212) 555-0199",
        "Age": None,
        "Active__c": True,
        "Customer_Id__c": "C-4",
    },
]


def ids(query: str, records: list[dict[str, Any]] = CONTACTS) -> list[str]:
    return [r["Id"] for r in parse_soql(query).run(records)]


def soql_error(query: str) -> SoqlError:
    with pytest.raises(SoqlError) as info:
        parse_soql(query)
    return info.value


# ------------------------------------------------------------------ grammar


def test_parses_the_documented_example() -> None:
    q = parse_soql("SELECT Id, Name FROM Contact WHERE Phone = '(415) 555-0123' LIMIT 5")
    assert q.object_name == "Contact"
    assert q.fields == ("Id", "Name")
    assert q.limit == 5
    assert q.is_count is False
    assert q.conditions == (Condition("Phone", "=", ("(415) 555-0123",), 35),)
    assert q.order_by == ()


def test_keywords_are_case_insensitive_and_whitespace_free_form() -> None:
    q = parse_soql("select Id\n  from Contact\twhere Age = 36 and Name != 'x'\norder by Name desc")
    assert q.object_name == "Contact"
    assert [c.op for c in q.conditions] == ["=", "!="]
    assert q.order_by == (OrderItem("Name", descending=True),)


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("36", 36),
        ("-4", -4),
        ("29.5", 29.5),
        (".5", 0.5),
        ("true", True),
        ("FALSE", False),
        ("null", None),
        ("'O\\'Brien'", "O'Brien"),
        ("'a\\\\b'", "a\\b"),
        ("'l1\\nl2'", "l1\nl2"),
        ("'caf\\u00e9'", "café"),
        ("'say \\\"hi\\\"'", 'say "hi"'),
        ("'tab\\Tend'", "tab\tend"),
    ],
)
def test_literals_decode_like_soql(literal: str, value: Any) -> None:
    (cond,) = parse_soql(f"SELECT Id FROM Contact WHERE X = {literal}").conditions
    assert cond.values == (value,)
    assert type(cond.values[0]) is type(value)


def test_not_equal_spelled_as_angle_brackets() -> None:
    assert parse_soql("SELECT Id FROM Contact WHERE Age <> 36").conditions[0].op == "!="


def test_parse_is_cached_and_the_query_is_immutable() -> None:
    text = "SELECT Id FROM Contact WHERE Name = 'Ada Lovelace'"
    q = parse_soql(text)
    assert parse_soql(text) is q
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.limit = 3  # type: ignore[misc]


# ---------------------------------------------------------------- semantics


def test_field_names_and_text_equality_ignore_case() -> None:
    assert ids("SELECT Id FROM Contact WHERE name = 'ADA LOVELACE'") == ["003A"]
    assert ids("SELECT Id FROM Contact WHERE NAME = 'Brian o\\'brien'") == ["003B"]


def test_escaped_quote_matches_the_stored_apostrophe() -> None:
    assert ids("SELECT Id FROM Contact WHERE Name LIKE '%o\\'brien'") == ["003B"]


def test_records_with_other_key_spellings_and_non_dict_mappings_still_match() -> None:
    q = parse_soql("SELECT Id FROM Contact WHERE Phone = '1'")
    assert q.matches({"Phone": "1"})
    assert q.matches({"PHONE": "1"})  # the remembered spelling misses, scan finds it
    assert q.matches(MappingProxyType({"phone": "1"}))
    assert not q.matches({"Id": "x"})


def test_null_matches_none_missing_and_empty_text() -> None:
    assert ids("SELECT Id FROM Contact WHERE Phone = null") == ["003B", "003C"]
    assert ids("SELECT Id FROM Contact WHERE Phone = ''") == ["003B", "003C"]
    assert ids("SELECT Id FROM Contact WHERE Phone != null") == ["003A", "003D"]
    assert parse_soql("SELECT Id FROM Contact WHERE Fax = null").matches({"Id": "1"})


def test_not_equal_keeps_nulls_as_salesforce_does() -> None:
    assert ids("SELECT Id FROM Contact WHERE Phone != '(415) 555-0123'") == [
        "003B",
        "003C",
        "003D",
    ]


def test_numbers_and_booleans_compare_by_type() -> None:
    assert ids("SELECT Id FROM Contact WHERE Age = 36") == ["003A"]
    assert ids("SELECT Id FROM Contact WHERE Age = 29.5") == ["003C"]
    assert ids("SELECT Id FROM Contact WHERE Active__c = false") == ["003B"]
    assert not parse_soql("SELECT Id FROM C WHERE Flag = 1").matches({"Flag": True})
    assert not parse_soql("SELECT Id FROM C WHERE Flag = true").matches({"Flag": 1})
    assert not parse_soql("SELECT Id FROM C WHERE Age = 36").matches({"Age": "36"})
    assert not parse_soql("SELECT Id FROM C WHERE Tags = 'a'").matches({"Tags": ["a"]})


def test_in_mixes_text_numbers_and_null() -> None:
    assert ids("SELECT Id FROM Contact WHERE Customer_Id__c IN ('c-1', 'C-4')") == ["003A", "003D"]
    assert ids("SELECT Id FROM Contact WHERE Age IN (52, 29.5, null)") == ["003B", "003C", "003D"]
    assert ids("SELECT Id FROM Contact WHERE Id IN ('nope')") == []


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("ada%", ["003A"]),
        ("%WEI", ["003C"]),
        ("%O\\'B%", ["003B"]),
        ("%e%", ["003A", "003B", "003C"]),
        ("c_en wei", ["003C"]),
        ("d%50%off", ["003D"]),
        ("%50\\%%", ["003D"]),
        ("%50\\%", []),
        ("ada lovelace", ["003A"]),
        ("%", ["003A", "003B", "003C", "003D"]),
        ("ada.*", []),
    ],
)
def test_like_wildcards_and_escapes(pattern: str, expected: list[str]) -> None:
    assert ids(f"SELECT Id FROM Contact WHERE Name LIKE '{pattern}'") == expected


def test_like_escaped_underscore_is_literal_and_non_text_never_matches() -> None:
    assert ids("SELECT Id FROM Contact WHERE Customer_Id__c LIKE 'C\\_3'") == ["003C"]
    assert ids("SELECT Id FROM Contact WHERE Customer_Id__c LIKE 'C_3'") == ["003C"]
    assert ids("SELECT Id FROM Contact WHERE Customer_Id__c LIKE 'C\\__'") == ["003C"]
    assert ids("SELECT Id FROM Contact WHERE Phone LIKE '%'") == ["003A", "003D"]
    assert ids("SELECT Id FROM Contact WHERE Phone LIKE '(415)%'") == ["003A"]


def test_conditions_join_with_and() -> None:
    query = "SELECT Id FROM Contact WHERE Active__c = true AND Name LIKE '%a%' AND Age != 36"
    assert ids(query) == ["003D"]


def test_order_by_text_ignores_case_and_nulls_sort_first_by_default() -> None:
    assert ids("SELECT Id FROM Contact ORDER BY Name") == ["003A", "003B", "003C", "003D"]
    assert ids("SELECT Id FROM Contact ORDER BY Name DESC") == ["003D", "003C", "003B", "003A"]
    assert ids("SELECT Id FROM Contact ORDER BY Age") == ["003D", "003C", "003A", "003B"]
    assert ids("SELECT Id FROM Contact ORDER BY Age DESC") == ["003D", "003B", "003A", "003C"]
    assert ids("SELECT Id FROM Contact ORDER BY Age ASC NULLS LAST") == [
        "003C",
        "003A",
        "003B",
        "003D",
    ]
    assert ids("SELECT Id FROM Contact ORDER BY Age DESC NULLS LAST")[-1] == "003D"


def test_order_by_several_fields_then_limit() -> None:
    query = "SELECT Id FROM Contact ORDER BY Active__c DESC, Name DESC LIMIT 2"
    assert ids(query) == ["003D", "003C"]


def test_limit_without_order_keeps_input_order_and_zero_is_empty() -> None:
    assert ids("SELECT Id FROM Contact WHERE Active__c = true LIMIT 2") == ["003A", "003C"]
    assert ids("SELECT Id FROM Contact LIMIT 0") == []


def test_order_by_mixed_types_never_raises() -> None:
    rows: list[dict[str, Any]] = [
        {"Id": "1", "V": "b"},
        {"Id": "2", "V": 3},
        {"Id": "3", "V": ("x",)},
    ]
    assert ids("SELECT Id FROM X ORDER BY V", rows) == ["2", "1", "3"]


def test_project_uses_the_record_key_spelling_and_only_selected_fields() -> None:
    q = parse_soql("SELECT id, customer_id__c, Fax FROM Contact WHERE phone = '(415) 555-0123'")
    assert q.run(CONTACTS) == [{"Id": "003A", "Customer_Id__c": "C-1", "Fax": None}]


def test_count_returns_no_records_and_counts_within_the_limit() -> None:
    q = parse_soql("select count() from Contact where Active__c = true")
    assert q.is_count and q.fields == ()
    assert q.run(CONTACTS) == []
    assert q.count(CONTACTS) == 3
    assert parse_soql("SELECT COUNT() FROM Contact LIMIT 2").count(CONTACTS) == 2


def test_validate_fields_names_the_first_unknown_field_in_clause_order() -> None:
    known = ["Id", "Name", "Phone", "Age"]
    fine = parse_soql("SELECT id, NAME FROM Contact WHERE phone = null ORDER BY age")
    fine.validate_fields(known)  # no error: known names match whatever the casing
    for query, bad in [
        ("SELECT Id, Emial FROM Contact WHERE Nope = 1", "Emial"),
        ("SELECT Id FROM Contact WHERE Name = 'a' AND Nope = 1 ORDER BY Zzz", "Nope"),
        ("SELECT Id FROM Contact ORDER BY Zzz", "Zzz"),
    ]:
        with pytest.raises(SoqlError) as info:
            parse_soql(query).validate_fields(known, "Contact")
        assert info.value.error_code == "INVALID_FIELD"
        assert "No such column on entity 'Contact'" in info.value.message
        assert f"Column:{query.index(bad) + 1}" in info.value.message
        assert bad not in info.value.message  # the position names it; the text is not echoed


def test_equality_lookups_for_an_index() -> None:
    q = parse_soql(
        "SELECT Id FROM Contact WHERE Phone = '(415) 555-0123' AND CUSTOMER_ID__C IN ('C-1', "
        "'c-1', '', null, 7) AND Name LIKE 'a%' AND Age != 3 AND customer_id__c != 'x'"
    )
    assert q.equality_lookups() == {
        "phone": ("(415) 555-0123",),
        "customer_id__c": ("c-1", None, 7),
    }
    both = parse_soql("SELECT Id FROM C WHERE Name IN ('a', 'B') AND name = 'b'")
    assert both.equality_lookups() == {"name": ("b",)}


def test_equality_lookups_agree_with_matches() -> None:
    q = parse_soql("SELECT Id FROM Contact WHERE Phone IN ('(212) 555-0199', null)")
    allowed = q.equality_lookups()["phone"]
    for record in CONTACTS:
        if q.matches(record):
            assert index_key(record["Phone"]) in allowed


# ------------------------------------------------------------------- errors


def test_misspelt_keyword_names_the_token_and_position() -> None:
    err = soql_error("SELECT Id FORM Contact")
    assert err.error_code == "MALFORMED_QUERY"
    assert "unexpected token: a name (expected FROM)" in err.message
    assert "ERROR at Row:1:Column:11" in err.message
    assert "FORM" not in err.message  # the query's own text is never repeated


def test_position_on_a_later_line() -> None:
    err = soql_error("SELECT Id\nFROM Contact\nWHERE Name == 'x'")
    assert "ERROR at Row:3:Column:13" in err.message
    assert "unexpected token: '='" in err.message


@pytest.mark.parametrize(
    ("query", "token", "words"),
    [
        ("SELECT Id FROM Contact WHERE Name = 'a' OR Name = 'b'", "OR", "only be joined with AND"),
        ("SELECT Id FROM Contact WHERE (Name = 'a')", "(", "parenthesised"),
        ("SELECT Id FROM Contact WHERE NOT Name = 'a'", "NOT", "NOT is not supported"),
        ("SELECT Id FROM Contact WHERE Age > 3", ">", "operator '>' is not supported"),
        ("SELECT Id FROM Contact WHERE Name NOT IN ('a')", "NOT", "unexpected token: 'NOT'"),
        ("SELECT Id FROM Contact WHERE Name = Phone", "Phone", "expected a value"),
        ("SELECT Id FROM Contact WHERE Name LIKE 5", "5", "expected a quoted LIKE pattern"),
        ("SELECT Id FROM Contact WHERE Age IN (1, 2", "<EOF>", "expected ')'"),
        ("SELECT Id, FROM Contact", "FROM", "expected a field name"),
        ("SELECT Id FROM WHERE", "WHERE", "expected an object name"),
        ("SELECT Id Contact", "Contact", "expected FROM"),
        ("Id FROM Contact", "Id", "expected SELECT"),
        ("", "<EOF>", "expected SELECT"),
        ("SELECT Id FROM Contact LIMIT 5 ORDER BY Id", "ORDER", "expected end of query"),
        ("SELECT Id FROM Contact WHERE Age = 1 Name", "Name", "expected AND, ORDER BY, LIMIT"),
        ("SELECT Id FROM Contact ORDER Id", "Id", "expected BY"),
        ("SELECT Id FROM Contact ORDER BY Id NULLS MIDDLE", "MIDDLE", "expected FIRST or LAST"),
        ("SELECT Id FROM Contact LIMIT -1", "-1", "expected a non-negative whole number"),
        ("SELECT Id FROM Contact LIMIT 2.5", "2.5", "expected a non-negative whole number"),
        ("SELECT Id FROM Contact LIMIT 2147483648", "2147483648", "numeric value out of range"),
        ("SELECT COUNT(Id) FROM Contact", "Id", "only COUNT() is supported"),
        ("SELECT COUNT(), Id FROM Contact", ",", "COUNT() must be the only element"),
        ("SELECT Id, COUNT() FROM Contact", "COUNT", "COUNT() must be the only element"),
        ("SELECT COUNT() FROM Contact ORDER BY Id", "ORDER", "cannot be used with COUNT()"),
        ("SELECT FORMAT(Name) FROM Contact", "FORMAT", "only COUNT() is"),
        ("SELECT Id FROM Contact WHERE CreatedDate = 2024-01-31", "2024-01-31", "date literals"),
        ("SELECT Id FROM Contact WHERE Name = 'Ann", "'Ann", "unterminated string literal"),
        ('SELECT Id FROM Contact WHERE Name = "Ann"', '"Ann', "unexpected character"),
        ("SELECT Id FROM Contact WHERE Name = 'a\\qb'", "\\q", "invalid escape sequence"),
        ("SELECT Id FROM Contact WHERE Name = '50\\%'", "\\%", "only valid in a LIKE pattern"),
    ],
)
def test_malformed_queries_point_at_the_offending_token(query: str, token: str, words: str) -> None:
    err = soql_error(query)
    assert err.error_code == "MALFORMED_QUERY"
    assert words in err.message
    column = len(query) + 1 if token == "<EOF>" else query.rindex(token) + 1
    assert f"ERROR at Row:1:Column:{column}" in err.message
    assert str(err).startswith("MALFORMED_QUERY: ")


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("SELECT Id, Name, name FROM Contact", "duplicate field selected"),
        ("SELECT Account.Name FROM Contact", "Didn't understand relationship"),
        ("SELECT Id FROM Contact WHERE Account.Name = 'x'", "relationship fields are not"),
    ],
)
def test_field_level_errors_use_invalid_field(query: str, words: str) -> None:
    err = soql_error(query)
    assert err.error_code == "INVALID_FIELD"
    assert words in err.message


def test_order_and_group_are_valid_object_names() -> None:
    assert parse_soql("SELECT Id FROM Order ORDER BY Id").object_name == "Order"
    assert parse_soql("select Id from group").object_name == "group"


def test_error_survives_pickling_with_its_code() -> None:
    err = pickle.loads(pickle.dumps(soql_error("SELECT Account.Name FROM Contact")))
    assert err.error_code == "INVALID_FIELD"
    assert "Didn't understand relationship" in err.message
