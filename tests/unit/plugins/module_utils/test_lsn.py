from datetime import timedelta

import pytest

from ansible_collections.pgrepl.streaming.plugins.module_utils import lsn


@pytest.mark.parametrize(
    ("text", "value"),
    [("0/0", 0), ("0/16B3748", 0x16B3748), ("16/B374D848", (0x16 << 32) + 0xB374D848),
     ("FFFFFFFF/FFFFFFFF", 2**64 - 1)],
)
def test_lsn_to_int(text, value):
    assert lsn.lsn_to_int(text) == value


@pytest.mark.parametrize("bad", ["", "16", "x/1", "1/2/3", "123456789/0", "0/0; drop"])
def test_lsn_to_int_rejects_garbage(bad):
    with pytest.raises(ValueError, match="not a WAL location"):
        lsn.lsn_to_int(bad)


def test_lsn_diff():
    assert lsn.lsn_diff("1/0", "0/FFFFFFFF") == 1
    assert lsn.lsn_diff("0/10", "0/20") == 0
    assert lsn.lsn_diff(None, "0/20") is None


def test_interval_seconds():
    assert lsn.interval_seconds(timedelta(milliseconds=1500)) == 1.5
    assert lsn.interval_seconds(None) is None
