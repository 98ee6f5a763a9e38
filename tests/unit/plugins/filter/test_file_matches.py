"""file_matches: a task is skipped only when the probed path already is what it would make."""

from __future__ import annotations

import hashlib

from ansible_collections.pgrepl.streaming.plugins.filter.file_matches import file_matches

CONTENT = "create_main_cluster = false\n"
PROBE = {"files": {
    "/etc/x.conf": {"exists": True, "type": "file", "mode": "0644", "owner": "root",
                    "group": "root", "sha1": hashlib.sha1(CONTENT.encode()).hexdigest()},
    "/etc/big": {"exists": True, "type": "file", "mode": "0644", "owner": "root",
                 "group": "root"},
    "/etc/gone": {"exists": False},
}}


def test_same_content_and_attributes_match():
    assert file_matches(PROBE, "/etc/x.conf", content=CONTENT, mode="0644", owner="root",
                        group="root")
    assert file_matches(PROBE["files"], "/etc/x.conf", content=CONTENT)


def test_any_difference_does_not_match():
    assert not file_matches(PROBE, "/etc/x.conf", content=CONTENT + "#\n")
    assert not file_matches(PROBE, "/etc/x.conf", content=CONTENT, mode="0600")
    assert not file_matches(PROBE, "/etc/x.conf", content=CONTENT, owner="postgres")


def test_unknown_or_unhashed_paths_never_match():
    assert not file_matches(PROBE, "/etc/other", content=CONTENT)
    assert not file_matches(PROBE, "/etc/big", content=CONTENT)
    assert not file_matches({}, "/etc/x.conf")
    assert not file_matches(None, "/etc/x.conf")


def test_absent():
    assert file_matches(PROBE, "/etc/gone", state="absent")
    assert not file_matches(PROBE, "/etc/x.conf", state="absent")
    assert not file_matches(PROBE, "/etc/unprobed", state="absent")
