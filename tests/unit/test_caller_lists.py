"""Reading the hand-kept caller lists: every way people type a phone into a sheet."""

from __future__ import annotations

import pytest

from integration.clients.sheets import read_lists

DNC_HEADER = ["Phone number", "Reason", "Requested on", "Entered by"]


def test_the_mess_people_leave_in_a_sheet_is_read_as_they_meant_it() -> None:
    vip = [
        ["Name", "Phone", "Tier"],
        ["Ana Ruiz  ", 4155550101, "GOLD "],  # typed as a number
        ["Ben Ode", "  (415) 555-0102 ", " silver"],  # spaces around it
        [],  # a blank row in the middle
        ["Cy Lo", "415.555.0103 x204", "Platinum"],  # a desk line with an extension
        ["Ana Ruiz", "+1 415-555-0101", "Silver"],  # entered twice: the first row wins
        ["Count", 4],  # the formula at the foot is no phone number
    ]
    dnc = [DNC_HEADER, [4155550199.0, "asked not to be called "], ["n/a", "refused"]]
    lists = read_lists(vip, dnc)
    assert lists["vip"] == {
        "+14155550101": {"tier": "Gold"},
        "+14155550102": {"tier": "Silver"},
        "+14155550103": {"tier": "Platinum"},
    }
    assert lists["do_not_call"] == {"+14155550199": {"reason": "Asked not to be called"}}
    assert lists["skipped_rows"] == 2  # the count and "n/a"


def test_a_moved_column_is_found_by_its_header() -> None:
    moved = [["Reason", "Phone number"], ["complaint", "(415) 555-0102"]]
    lists = read_lists([["Phone"]], moved)
    assert lists["do_not_call"] == {"+14155550102": {"reason": "Complaint"}}


@pytest.mark.parametrize("header", [[], ["Name", "Tier"], None])
def test_a_tab_without_a_phone_column_is_an_error_not_an_empty_list(header: list[str]) -> None:
    rows = [] if header is None else [header, ["Ana", "Gold"]]
    with pytest.raises(ValueError, match="no phone column"):
        read_lists(rows, [DNC_HEADER])
