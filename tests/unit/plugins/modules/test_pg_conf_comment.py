"""pg_conf_comment: which lines are moved aside and how (pure parts)."""

from __future__ import annotations

import pytest

from ansible_collections.pgrepl.streaming.plugins.modules import pg_conf_comment as mod

CONF = """# comment
include_dir = 'conf.d'
max_wal_senders = 10
primary_conninfo = 'host=db1 user=r password=s3cret'

archive_mode = on
"""


def test_plan_checks_the_setting_of_each_line():
    assert mod.plan(CONF, [{"line": 3, "setting": "max_wal_senders"}], False) == [3]
    with pytest.raises(ValueError, match="does not set max_wal_senders"):
        mod.plan(CONF, [{"line": 2, "setting": "max_wal_senders"}], False)


def test_plan_checks_the_text_and_the_length():
    assert mod.plan(CONF, [{"line": 6, "text": "archive_mode = on"}], False) == [6]
    with pytest.raises(ValueError, match="changed since it was read"):
        mod.plan(CONF, [{"line": 6, "text": "archive_mode = off"}], False)
    with pytest.raises(ValueError, match="past the end"):
        mod.plan(CONF, [{"line": 60}], False)


def test_plan_skips_comments_and_can_take_every_line():
    assert mod.plan(CONF, [{"line": 1}], False) == []
    assert mod.plan(CONF, [], True) == [2, 3, 4, 6]


def test_rewrite_marks_and_redacts():
    out = mod.rewrite(CONF, [3, 4], "it overrides x.conf", "2026-11-25").splitlines()
    assert out[2] == ("#pgrepl.streaming 2026-11-25 moved aside (it overrides x.conf): "
                      "max_wal_senders = 10")
    assert "s3cret" not in out[3] and "password=********" in out[3]
    assert out[5] == "archive_mode = on"
