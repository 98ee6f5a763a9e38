"""The lsn_int filter (plugins/filter/lsn.py): PostgreSQL LSN text -> byte position."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.pgrepl.streaming.plugins.filter import lsn


def test_the_filter_is_registered_as_lsn_int() -> None:
    assert lsn.FilterModule().filters() == {"lsn_int": lsn.lsn_int}


@pytest.mark.parametrize(
    ("text", "value"),
    [("0/0", 0),
     ("0/3000060", 0x3000060),
     ("0/16B3748", 0x16B3748),
     ("0/FFFFFFFF", 2**32 - 1)],
)
def test_normal_values(text: str, value: int) -> None:
    assert lsn.lsn_int(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("1/0", 2**32),
     ("16/B374D848", 0x16 * 2**32 + 0xB374D848),
     ("FFFFFFFF/FFFFFFFF", 2**64 - 1)],
)
def test_the_high_part_counts_in_units_of_4_gib(text: str, value: int) -> None:
    assert lsn.lsn_int(text) == value


def test_hex_digits_in_any_case() -> None:
    assert lsn.lsn_int("16/B374D848") == lsn.lsn_int("16/b374d848") == lsn.lsn_int("16/b374D848")
    assert lsn.lsn_int("AB/CDEF") == lsn.lsn_int("ab/cdef") == (0xAB << 32) + 0xCDEF


def test_ordering_follows_the_wal_not_the_text() -> None:
    assert lsn.lsn_int("0/FFFFFFFF") < lsn.lsn_int("1/0")
    assert lsn.lsn_int("1/0") - lsn.lsn_int("0/FFFFFFFF") == 1
    # The digits are not zero-padded, so the text compares wrongly: as text '0/A' > '0/10'.
    assert lsn.lsn_int("0/A") < lsn.lsn_int("0/10")
    positions = ["1/0", "0/3000060", "0/FFFFFFFF", "0/10", "0/A", "A/0"]
    assert sorted(positions, key=lsn.lsn_int) == ["0/A", "0/10", "0/3000060", "0/FFFFFFFF",
                                                  "1/0", "A/0"]


def test_none_stays_none() -> None:
    """An unknown position (NULL from the server, e.g. a standby that replayed nothing)."""
    assert lsn.lsn_int(None) is None


@pytest.mark.parametrize(
    "bad",
    ["", "abc", "1/2/3", "0/", "/0", "16", "x/1", "0x1/0", "-1/0", "123456789/0", "0/0; drop",
     " 0/1", "0 /1", 42, 1.5, True, ["0/1"]],
)
def test_bad_input_fails_naming_the_value(bad) -> None:
    with pytest.raises(AnsibleFilterError, match="lsn_int: not a WAL location") as caught:
        lsn.lsn_int(bad)
    assert repr(bad) in str(caught.value)
