"""The sizing rule for max_wal_senders and max_replication_slots."""

from __future__ import annotations

import pytest

from ansible_collections.pgrepl.streaming.plugins.filter.replication_capacity import (
    replication_capacity,
)


@pytest.mark.parametrize(("standbys", "batch", "cloning", "senders", "slots"), [
    (6, 0, 6, 20, 12),   # six standbys cloning at once: 12 senders for the clones + 6 + 2
    (6, 2, 2, 12, 8),    # the default batch of two
    (6, 1, 1, 10, 7),    # one at a time fits the default max_wal_senders = 10
    (2, 2, 2, 8, 4),     # the lab
    (0, 2, 0, 2, 0),
    ("6", "2", 2, 12, 8),  # -e values arrive as strings
])
def test_capacity(standbys, batch, cloning, senders, slots):
    assert replication_capacity(standbys, batch) == {
        "cloning": cloning, "wal_senders": senders, "slots": slots}


def test_six_standbys_do_not_fit_the_defaults_unless_batched():
    assert replication_capacity(6, 0)["wal_senders"] > 10
    assert replication_capacity(6, 1)["wal_senders"] <= 10
