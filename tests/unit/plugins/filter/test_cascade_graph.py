"""The cascade graph: standby_upstream checked and ordered (plugins/filter/cascade_graph.py)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.pgrepl.streaming.plugins.filter import cascade_graph as cg
from ansible_collections.pgrepl.streaming.plugins.filter import (
    cascade_order as order_file,
)
from ansible_collections.pgrepl.streaming.plugins.filter import (
    downstreams_of as downstreams_file,
)
from ansible_collections.pgrepl.streaming.plugins.filter import upstream_of as upstream_file
from ansible_collections.pgrepl.streaming.plugins.filter.cascade_graph import (
    cascade_levels,
    cascade_order,
    cascade_problems,
    downstreams_of,
    upstream_of,
)

PRIMARY = "db1"
ALL = ("db1", "db2", "db3", "db4", "db5", "db6", "db7", "mon1")


def standbys_of(upstreams: dict) -> list:
    return [host for host in upstreams if host != PRIMARY]


def problems(upstreams: dict, standbys: list | None = None,
             hosts: tuple | None = ALL) -> list:
    return cascade_problems(upstreams, PRIMARY,
                            standbys_of(upstreams) if standbys is None else standbys, hosts)


# --- valid maps ---------------------------------------------------------------------------

@pytest.mark.parametrize("direct", ["", None, "db1", " db1 ", "  "])
def test_empty_null_or_the_primary_means_direct(direct) -> None:
    upstreams = {"db2": direct}
    assert problems(upstreams) == []
    assert upstream_of("db2", upstreams, PRIMARY) == "db1"
    assert cascade_order(upstreams, PRIMARY) == [["db2"]]


def test_a_standby_missing_from_the_map_streams_from_the_primary() -> None:
    assert problems({}, ["db2", "db3"]) == []
    assert upstream_of("db3", {}, PRIMARY) == "db1"
    assert cascade_order({}, PRIMARY, ["db2", "db3"]) == [["db2", "db3"]]


def test_no_standbys() -> None:
    assert problems({}, []) == []
    assert cascade_order({}, PRIMARY, []) == []
    assert cascade_order(None, PRIMARY) == []
    assert downstreams_of(PRIMARY, {}, PRIMARY, []) == []


def test_a_valid_cascade_has_no_problems() -> None:
    upstreams = {"db2": "", "db3": "db2", "db4": "db3", "db5": "db2"}
    assert problems(upstreams) == []


def test_the_primarys_own_entry_is_ignored() -> None:
    """A promoted standby may keep the standby_upstream it had."""
    assert problems({"db1": "db3", "db2": "", "db3": "db2"}) == []
    assert cascade_order({"db1": "db3", "db2": "", "db3": "db2"}, PRIMARY) == [["db2"], ["db3"]]
    assert upstream_of(PRIMARY, {"db1": "db3"}, PRIMARY) == ""


def test_entries_for_hosts_outside_the_standbys_are_ignored() -> None:
    assert problems({"db2": "", "mon1": "db9"}, ["db2"]) == []


# --- refused ------------------------------------------------------------------------------

def test_an_unknown_upstream_is_refused_naming_the_variable_and_hosts() -> None:
    assert problems({"db2": "", "db3": "db9"}) == [
        "db3: standby_upstream is db9, which is not a host of the inventory; name the primary "
        "db1 or a standby (db2, db3)"]


def test_an_upstream_in_the_inventory_but_not_a_standby_is_refused() -> None:
    assert problems({"db2": "", "db3": "mon1"}) == [
        "db3: standby_upstream is mon1, which is in the inventory but not in the group "
        "'standby'; name the primary db1 or a standby (db2, db3)"]


def test_without_the_hosts_any_other_name_is_neither_primary_nor_standby() -> None:
    assert problems({"db2": "", "db3": "mon1"}, hosts=None) == [
        "db3: standby_upstream is mon1, which is neither the primary nor a standby of the "
        "inventory; name the primary db1 or a standby (db2, db3)"]


def test_an_upstream_is_compared_exactly() -> None:
    """Inventory names are case-sensitive: DB2 is not db2."""
    found = problems({"db2": "", "db3": "DB2"})
    assert len(found) == 1 and "standby_upstream is DB2" in found[0]


@pytest.mark.parametrize("value", [["db2"], 2, {"host": "db2"}, True])
def test_an_upstream_that_is_not_a_name_is_refused(value) -> None:
    found = problems({"db2": "", "db3": value})
    assert found == ["db3: standby_upstream must be the inventory name of the primary db1 or a "
                     "standby (db2, db3), got %r" % (value,)]


def test_a_self_upstream_is_refused_and_not_also_as_a_loop() -> None:
    assert problems({"db2": "", "db3": "db3"}) == [
        "db3: standby_upstream is db3 itself; a standby cannot stream from itself: unset it "
        "(the primary) or name another standby"]


def test_a_loop_of_two_is_named_in_order() -> None:
    assert problems({"db2": "", "db3": "db4", "db4": "db3"}) == [
        "standby_upstream makes a loop: db3 -> db4 -> db3 (db3 streams from db4, db4 from db3); "
        "none of them reaches the primary db1. Set standby_upstream of one of them to the "
        "primary or to a standby outside the loop"]


def test_a_loop_is_named_from_its_first_standby_in_inventory_order() -> None:
    upstreams = {"db5": "db3", "db3": "db4", "db4": "db5"}
    found = problems(upstreams, ["db3", "db4", "db5"])
    assert len(found) == 1
    assert "loop: db3 -> db4 -> db5 -> db3 (db3 streams from db4, db4 from db5, db5 from db3)" \
        in found[0]
    found = problems(upstreams, ["db5", "db4", "db3"])
    assert "loop: db5 -> db3 -> db4 -> db5 " in found[0]


def test_two_loops_are_both_named() -> None:
    upstreams = {"db2": "db3", "db3": "db2", "db4": "db5", "db5": "db6", "db6": "db4",
                 "db7": ""}
    found = problems(upstreams)
    assert len(found) == 2
    assert "loop: db2 -> db3 -> db2 " in found[0]
    assert "loop: db4 -> db5 -> db6 -> db4 " in found[1]


def test_a_loop_not_reachable_from_the_primary_beside_a_healthy_chain() -> None:
    """Everything else reaches the primary; the loop hangs in the air on its own."""
    upstreams = {"db2": "", "db3": "db2", "db4": "db3", "db5": "db6", "db6": "db5"}
    found = problems(upstreams)
    assert len(found) == 1
    assert "loop: db5 -> db6 -> db5 " in found[0]
    assert "none of them reaches the primary db1" in found[0]
    assert "cut off" not in found[0]


def test_the_standbys_hanging_below_a_loop_are_named() -> None:
    upstreams = {"db2": "db3", "db3": "db2", "db4": "db2", "db5": "db4", "db6": ""}
    found = problems(upstreams)
    assert len(found) == 1
    assert found[0].endswith("; cut off below it as well: db4, db5")


def test_a_loop_and_an_unknown_upstream_are_both_reported() -> None:
    found = problems({"db2": "db3", "db3": "db2", "db4": "db9"})
    assert len(found) == 2
    assert found[0].startswith("db4: standby_upstream is db9")
    assert found[1].startswith("standby_upstream makes a loop: db2 -> db3 -> db2")


def test_every_message_names_standby_upstream() -> None:
    found = problems({"db2": "db2", "db3": "db9", "db4": "mon1", "db5": "db6", "db6": "db5",
                      "db7": 3})
    assert len(found) == 5
    assert all("standby_upstream" in message for message in found)


def test_a_map_that_is_not_a_dict_is_a_wiring_error() -> None:
    with pytest.raises(AnsibleFilterError, match="must be a dict"):
        cascade_problems(["db2"], PRIMARY, ["db2"])


# --- order --------------------------------------------------------------------------------

def test_a_deep_chain_is_ordered_upstream_first() -> None:
    upstreams = {"db7": "db6", "db6": "db5", "db5": "db4", "db4": "db3", "db3": "db2", "db2": ""}
    order = cascade_order(upstreams, PRIMARY)
    assert order == [["db2"], ["db3"], ["db4"], ["db5"], ["db6"], ["db7"]]
    assert cascade_levels(upstreams, PRIMARY) == {
        "db2": 1, "db3": 2, "db4": 3, "db5": 4, "db6": 5, "db7": 6}


def test_levels_keep_the_inventory_order() -> None:
    upstreams = {"db2": "", "db3": "db2", "db4": "db3", "db5": ""}
    assert cascade_order(upstreams, PRIMARY) == [["db2", "db5"], ["db3"], ["db4"]]
    standbys = ["db5", "db4", "db3", "db2"]
    assert cascade_order(upstreams, PRIMARY, standbys) == [["db5", "db2"], ["db3"], ["db4"]]


def test_a_tree_is_ordered_by_level() -> None:
    upstreams = {"db2": "", "db3": "", "db4": "db2", "db5": "db3", "db6": "db4", "db7": "db2"}
    assert cascade_order(upstreams, PRIMARY) == [["db2", "db3"], ["db4", "db5", "db7"], ["db6"]]


def test_every_standby_comes_after_its_upstream() -> None:
    upstreams = {"db7": "db3", "db6": "", "db5": "db7", "db4": "db6", "db3": "db4", "db2": "db5"}
    flat = [host for level in cascade_order(upstreams, PRIMARY) for host in level]
    assert sorted(flat) == sorted(upstreams)
    for host, upstream in upstreams.items():
        if upstream:
            assert flat.index(upstream) < flat.index(host)


def test_generators_from_map_are_read_like_lists() -> None:
    upstreams = {"db2": "", "db3": "db2"}
    assert cascade_order(upstreams, PRIMARY, (h for h in ["db2", "db3"])) == [["db2"], ["db3"]]
    assert cascade_problems(upstreams, PRIMARY, (h for h in ["db2", "db3"]),
                            (h for h in ALL)) == []
    assert downstreams_of("db2", upstreams, PRIMARY, (h for h in ["db2", "db3"])) == ["db3"]


def test_no_order_for_a_map_with_problems() -> None:
    with pytest.raises(AnsibleFilterError, match="no cascade order: standby_upstream makes a "
                                                 "loop: db2 -> db3 -> db2"):
        cascade_order({"db2": "db3", "db3": "db2"}, PRIMARY)
    with pytest.raises(AnsibleFilterError, match="db9"):
        cascade_order({"db2": "db9"}, PRIMARY)


# --- upstream_of and downstreams_of -------------------------------------------------------

def test_upstream_of() -> None:
    upstreams = {"db2": "", "db3": " db2 ", "db4": None}
    assert upstream_of("db2", upstreams, PRIMARY) == "db1"
    assert upstream_of("db3", upstreams, PRIMARY) == "db2"
    assert upstream_of("db4", upstreams, PRIMARY) == "db1"
    assert upstream_of("db5", upstreams, PRIMARY) == "db1"
    assert upstream_of("db1", upstreams, PRIMARY) == ""


def test_downstreams_of_say_where_the_slots_are_made() -> None:
    upstreams = {"db2": "", "db3": "db2", "db4": "db2", "db5": "db1", "db6": "db4"}
    standbys = ["db2", "db3", "db4", "db5", "db6", "db7"]
    assert downstreams_of("db1", upstreams, PRIMARY, standbys) == ["db2", "db5", "db7"]
    assert downstreams_of("db2", upstreams, PRIMARY, standbys) == ["db3", "db4"]
    assert downstreams_of("db4", upstreams, PRIMARY, standbys) == ["db6"]
    assert downstreams_of("db6", upstreams, PRIMARY, standbys) == []


def test_downstreams_of_without_standbys_uses_the_map() -> None:
    assert downstreams_of("db1", {"db2": "", "db3": "db2"}, PRIMARY) == ["db2"]


def test_every_standby_is_downstream_of_exactly_its_upstream() -> None:
    upstreams = {"db2": "", "db3": "db2", "db4": "db3", "db5": "", "db6": "db5"}
    hosts = [PRIMARY, *upstreams]
    for standby in upstreams:
        holders = [h for h in hosts if standby in downstreams_of(h, upstreams, PRIMARY)]
        assert holders == [upstream_of(standby, upstreams, PRIMARY)]


def test_the_filters_are_exported_by_their_files() -> None:
    assert cg.FilterModule().filters() == {"cascade_problems": cascade_problems}
    assert order_file.FilterModule().filters() == {"cascade_order": cascade_order}
    assert upstream_file.FilterModule().filters() == {"upstream_of": upstream_of}
    assert downstreams_file.FilterModule().filters() == {"downstreams_of": downstreams_of}
