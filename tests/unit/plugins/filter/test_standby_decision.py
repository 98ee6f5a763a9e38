"""The standby decision table, row by row (plugins/filter/standby_decision.py)."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.pgrepl.streaming.plugins.filter import standby_decision as sd

PRIMARY_ID = "7400000000000000001"
GIB = 1024 ** 3


def standby_evidence(**changes) -> dict:
    """pg_cluster_info's result for a healthy, running standby of the primary."""
    ev = {
        "data_dir": {"path": "/var/lib/postgresql/15/main",
                     "real_path": "/var/lib/postgresql/15/main", "exists": True,
                     "is_dir": True, "is_symlink": False, "is_mount": False, "entries": 24},
        "clone": {"clone_dir": "/var/lib/postgresql/15/main.pgrepl-clone",
                  "clone_in_place": False, "space_dir": "/var/lib/postgresql/15",
                  "free_bytes": 50 * GIB, "leftover": False},
        "pg_version": "15",
        "standby_signal": True,
        "control": {"system_identifier": PRIMARY_ID, "timeline": "1"},
        "server": {"running": True, "in_recovery": True, "error": ""},
        "tablespace_targets": [],
    }
    for path, value in changes.items():
        target = ev
        *parents, leaf = path.split(".")
        for key in parents:
            target = target[key]
        target[leaf] = value
    return ev


def decide(ev, **ctx):
    args = {"version": "15", "primary_system_identifier": PRIMARY_ID, "primary_bytes": GIB}
    args.update(ctx)
    return sd.decide(ev, **args)


# One case per row of FOUND_ROWS, in the table's order: (changes, found, decision).
FOUND_CASES = [
    ({"data_dir.entries": 0}, "empty", "clone"),
    ({"pg_version": ""}, "not_a_cluster", "refuse"),
    ({"pg_version": "17"}, "other_version", "refuse"),
    ({"server.in_recovery": None, "server.error": "timeout"}, "running_unknown", "refuse"),
    ({"server.in_recovery": False}, "running_primary", "refuse"),
    ({"control.system_identifier": "42"}, "other_system", "refuse"),
    ({"standby_signal": False}, "not_a_standby", "refuse"),
    ({}, "standby", "keep"),
]


def test_every_row_has_a_case_in_order():
    assert [case[1] for case in FOUND_CASES] == [row.found for row in sd.FOUND_ROWS]


@pytest.mark.parametrize(("changes", "found", "decision"), FOUND_CASES,
                         ids=[case[1] for case in FOUND_CASES])
def test_found_row(changes, found, decision):
    result = decide(standby_evidence(**changes))
    assert (result["found"], result["decision"]) == (found, decision)
    assert result["row"] == [row.found for row in sd.FOUND_ROWS].index(found) + 1
    assert result["reason"] and "{" not in result["reason"]
    assert result["forced"] is False


@pytest.mark.parametrize(("changes", "found", "decision"), FOUND_CASES,
                         ids=[case[1] for case in FOUND_CASES])
def test_force_clones_whatever_is_found(changes, found, decision):
    result = decide(standby_evidence(**changes), force="true")
    assert (result["found"], result["decision"]) == (found, "clone")
    assert result["forced"] is (decision != "clone")


@pytest.mark.parametrize("force", ["false", "no", "False", "0", False, ""])
def test_force_strings_that_mean_false(force):
    assert decide(standby_evidence(pg_version=""), force=force)["decision"] == "refuse"


def test_absent_data_dir_is_empty():
    ev = standby_evidence(**{"data_dir.exists": False, "data_dir.entries": 0})
    assert decide(ev)["found"] == "empty"


def test_no_evidence_at_all_is_empty():
    # Check mode on a host without PostgreSQL: nothing to read, the decision is still set.
    assert decide({})["decision"] == "clone"


def test_symlinked_standby_is_kept():
    ev = standby_evidence(**{"data_dir.is_symlink": True, "data_dir.real_path": "/srv/pg/15"})
    assert decide(ev)["decision"] == "keep"


def test_running_unknown_names_the_server_error():
    ev = standby_evidence(**{"server.in_recovery": None, "server.error": "FATAL: boom"})
    assert "FATAL: boom" in decide(ev)["reason"]


# Guards: one case per row of GUARD_ROWS, on a forced clone of a healthy standby.
def guard_cases():
    tablespace = [{"name": "ts1", "location": "/srv/ts1", "target": "/srv/ts1"}]
    return [
        ({"data_dir.is_mount": True}, {}, "mount_point_in_use"),
        ({"clone.free_bytes": GIB}, {"primary_bytes": GIB}, "no_space"),
        ({"tablespace_targets": [{"path": "/srv/ts1", "in_use": True}]},
         {"tablespaces": tablespace}, "tablespace_in_use"),
    ]


def test_every_guard_has_a_case_in_order():
    assert [case[2] for case in guard_cases()] == [row.found for row in sd.GUARD_ROWS]


@pytest.mark.parametrize(("changes", "ctx", "guard"), guard_cases(),
                         ids=[case[2] for case in guard_cases()])
def test_guard_refuses_even_when_forced(changes, ctx, guard):
    result = decide(standby_evidence(**changes), force=True, **ctx)
    assert (result["decision"], result["guard"]) == ("refuse", guard)
    assert "{" not in result["reason"]


def test_guards_do_not_touch_a_kept_standby():
    ev = standby_evidence(**{"clone.free_bytes": 0, "data_dir.is_mount": True})
    assert decide(ev)["decision"] == "keep"


def test_space_figures_in_the_message():
    ev = standby_evidence(**{"data_dir.entries": 0, "clone.free_bytes": 100 * 1024 * 1024})
    result = decide(ev, primary_bytes=10 * GIB)
    assert result["guard"] == "no_space"
    assert "11328 MiB" in result["reason"] and "100 MiB" in result["reason"]


def test_empty_mount_point_is_cloned_in_place():
    ev = standby_evidence(**{"data_dir.entries": 0, "data_dir.is_mount": True,
                             "clone.clone_in_place": True,
                             "clone.clone_dir": "/var/lib/postgresql/15/main"})
    result = decide(ev)
    assert (result["decision"], result["clone_in_place"]) == ("clone", True)


def test_unmapped_free_tablespace_dir_is_fine():
    ev = standby_evidence(**{"data_dir.entries": 0,
                             "tablespace_targets": [{"path": "/srv/new", "in_use": False}]})
    ts = [{"name": "ts1", "location": "/srv/ts1", "target": "/srv/new"}]
    assert decide(ev, tablespaces=ts)["decision"] == "clone"


def test_input_is_not_modified():
    ev = standby_evidence()
    before = copy.deepcopy(ev)
    decide(ev, force=True)
    assert ev == before


def test_render_has_every_row():
    text = sd.render_markdown()
    for row in sd.FOUND_ROWS + sd.GUARD_ROWS:
        assert "`%s`" % row.found in text


def test_filter_is_registered():
    assert sd.FilterModule().filters()["standby_decision"] is sd.decide


def test_tablespace_targets_follow_the_mapping():
    spaces = [{"name": "a", "location": "/srv/a"}, {"name": "b", "location": "/srv/b"}]
    mapped = sd.standby_tablespaces(spaces, {"/srv/a": "/data/a"})
    assert [t["target"] for t in mapped] == ["/data/a", "/srv/b"]
    assert [t["arg"] for t in mapped] == ["--tablespace-mapping=/srv/a=/data/a", ""]
    odd = sd.standby_tablespaces([{"name": "c", "location": "/x=y"}], {"/x=y": "/z"})
    assert odd[0]["arg"] == "--tablespace-mapping=/x\\=y=/z"
    assert sd.standby_tablespaces(None) == []
