"""synchronous_standby_names and its preflight check (plugins/filter/synchronous_standbys.py)."""

from __future__ import annotations

import pytest

from ansible_collections.pgrepl.streaming.plugins.filter import synchronous_problems as sp_file
from ansible_collections.pgrepl.streaming.plugins.filter import synchronous_standbys as ss
from ansible_collections.pgrepl.streaming.plugins.filter.synchronous_standbys import (
    quote_name,
    synchronous_problems,
    synchronous_standby_names,
)

GROUP = ["db2", "db3", "db4"]
SLOTS = {"db2": "db2", "db3": "db3", "db4": "db4"}


def build(standbys, method="ANY", count=1, streaming=(), slot_names=None, **kwargs) -> dict:
    return synchronous_standby_names(standbys, method, count,
                                     SLOTS if slot_names is None else slot_names,
                                     list(streaming), **kwargs)


def row(state: str, app: str) -> dict:
    """A row of pg_replication_status's standbys."""
    return {"application_name": app, "state": state, "sync_state": "async"}


# --- the value ---------------------------------------------------------------------------

def test_every_row_is_reachable_in_order() -> None:
    seen = [build(["db2"], count=0)["found"],
            build([])["found"],
            build(["db2", "db3"])["found"],
            build(["db2", "db3"], count=2, streaming=["db2"])["found"],
            build(["db2", "db3"], streaming=["db2"])["found"],
            build(["db2", "db3"], streaming=["db2", "db3"])["found"]]
    assert seen == [r.name for r in ss.ROWS]
    assert [build(["db2", "db3"], streaming=["db2", "db3"])["row"]] == [len(ss.ROWS)]


def test_any_one_of_two_streaming() -> None:
    result = build(["db2", "db3"], streaming=["db2", "db3"])
    assert result["value"] == 'ANY 1 ("db2", "db3")'
    assert result["method"] == "ANY"
    assert result["count"] == result["effective_count"] == 1
    assert result["listed"] == result["synchronous"] == ["db2", "db3"]
    assert result["waiting"] == [] and result["problems"] == [] and result["warning"] == ""


def test_first_keeps_the_listed_order_as_priority() -> None:
    result = build(["db4", "db2", "db3"], "FIRST", 2, streaming=["db2", "db3", "db4"])
    assert result["value"] == 'FIRST 2 ("db4", "db2", "db3")'


def test_the_order_is_the_list_not_the_order_they_stream_in() -> None:
    result = build(["db3", "db2"], streaming=[row("streaming", "db2"), row("streaming", "db3")])
    assert result["value"] == 'ANY 1 ("db3", "db2")'


def test_the_application_names_are_written_not_the_inventory_names() -> None:
    slots = {"db-2.example.com": "db_2_example_com", "DB3": "db3"}
    result = build(["db-2.example.com", "DB3"], streaming=["db-2.example.com", "DB3"],
                   slot_names=slots)
    assert result["value"] == 'ANY 1 ("db_2_example_com", "db3")'
    assert result["synchronous"] == ["db-2.example.com", "DB3"]


def test_without_slot_names_the_application_names_are_the_inventory_names() -> None:
    assert build(["db2"], streaming=["db2"], slot_names={})["value"] == 'ANY 1 ("db2")'


def test_one_standby() -> None:
    result = build(["db2"], streaming=["db2"])
    assert result["value"] == 'ANY 1 ("db2")'
    assert result["found"] == "all_streaming"


def test_an_empty_list_is_asynchronous_without_warning() -> None:
    for empty in ([], None, ""):
        result = build(empty)
        assert result["value"] == ""
        assert result["found"] == "none_listed"
        assert result["warning"] == "" and result["problems"] == []
        assert result["effective_count"] == 0


def test_an_empty_list_ignores_the_default_count() -> None:
    """count=1 with nothing listed is not 'more than listed': that is just async."""
    assert synchronous_problems([]) == []
    assert synchronous_problems(None, "ANY", 3) == []


def test_none_streaming_stays_asynchronous_with_a_warning() -> None:
    result = build(["db2", "db3"], count=2)
    assert result["value"] == ""
    assert result["found"] == "none_streaming"
    assert result["effective_count"] == 0 and result["synchronous"] == []
    assert result["waiting"] == ["db2", "db3"]
    assert "db2, db3" in result["warning"] and "asynchronous" in result["warning"]
    assert result["problems"] == []


def test_fewer_streaming_than_count_lowers_num_sync_and_says_so() -> None:
    result = build(["db2", "db3", "db4"], "FIRST", 3, streaming=["db3"])
    assert result["value"] == 'FIRST 1 ("db3")'
    assert result["count"] == 3 and result["effective_count"] == 1
    assert result["waiting"] == ["db2", "db4"]
    assert result["found"] == "fewer_than_count"
    assert "only 1 of the 3" in result["warning"] and "db2, db4" in result["warning"]


def test_a_new_standby_is_added_only_once_it_streams() -> None:
    before = build(["db2", "db3", "db4"], streaming=["db2", "db3"])
    assert before["value"] == 'ANY 1 ("db2", "db3")'
    assert before["found"] == "some_waiting"
    assert before["waiting"] == ["db4"] and "db4" in before["warning"]
    after = build(["db2", "db3", "db4"], streaming=["db2", "db3", "db4"])
    assert after["value"] == 'ANY 1 ("db2", "db3", "db4")'
    assert after["warning"] == ""


def test_num_sync_never_exceeds_the_names_written() -> None:
    for streaming in ([], ["db2"], ["db2", "db3"], ["db2", "db3", "db4"]):
        result = build(GROUP, "ANY", 3, streaming=streaming)
        assert result["effective_count"] == min(3, len(streaming))
        assert result["effective_count"] <= len(result["synchronous"])


@pytest.mark.parametrize("method", ["any", "Any", " ANY ", "ANY"])
def test_the_method_is_accepted_in_any_case_and_written_upper(method: str) -> None:
    result = build(["db2"], method, streaming=["db2"])
    assert result["value"] == 'ANY 1 ("db2")' and result["method"] == "ANY"


def test_first_in_mixed_case() -> None:
    assert build(["db2"], "fIrSt", streaming=["db2"])["value"] == 'FIRST 1 ("db2")'


def test_a_count_given_as_a_string_is_read() -> None:
    assert build(["db2", "db3"], count="2", streaming=["db2", "db3"])["value"] == \
        'ANY 2 ("db2", "db3")'


# --- what counts as streaming ------------------------------------------------------------

def test_status_rows_count_only_when_streaming() -> None:
    rows = [row("catchup", "db2"), row("streaming", "db3"), row("startup", "db4")]
    result = build(GROUP, streaming=rows)
    assert result["synchronous"] == ["db3"] and result["waiting"] == ["db2", "db4"]


def test_status_rows_match_application_names_case_insensitively_like_postgresql() -> None:
    result = build(["db2"], streaming=[row("streaming", "DB2")])
    assert result["synchronous"] == ["db2"]


def test_a_status_row_without_state_counts() -> None:
    assert build(["db2"], streaming=[{"application_name": "db2"}])["synchronous"] == ["db2"]


def test_status_rows_are_matched_by_application_name_not_inventory_name() -> None:
    slots = {"db-2": "db_2"}
    assert build(["db-2"], streaming=[row("streaming", "db-2")],
                 slot_names=slots)["synchronous"] == []
    assert build(["db-2"], streaming=[row("streaming", "db_2")],
                 slot_names=slots)["synchronous"] == ["db-2"]


def test_strings_are_inventory_names() -> None:
    slots = {"db-2": "db_2"}
    assert build(["db-2"], streaming=["db_2"], slot_names=slots)["synchronous"] == []
    assert build(["db-2"], streaming=["db-2"], slot_names=slots)["synchronous"] == ["db-2"]


def test_streaming_hosts_not_listed_are_not_named() -> None:
    result = build(["db2"], streaming=["db2", "db3", row("streaming", "db4")])
    assert result["value"] == 'ANY 1 ("db2")'


def test_pg_basebackup_and_unknown_rows_are_ignored() -> None:
    rows = [row("backup", "pg_basebackup"), {"state": "streaming"}, {"application_name": None}]
    assert build(["db2"], streaming=rows)["found"] == "none_streaming"


# --- quoting ------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "quoted"), [
    ("db2", '"db2"'),
    ("DB2", '"DB2"'),           # kept as written; the server ignores case when it compares
    ("any", '"any"'),           # a keyword, harmless in quotes
    ("first", '"first"'),
    ("1db", '"1db"'),           # a leading digit would be a number unquoted
    ("db-2", '"db-2"'),         # '-' is not an identifier character unquoted
    ("a,b", '"a,b"'),           # a comma inside the name
    ("a (b)", '"a (b)"'),
    ('say "hi"', '"say ""hi"""'),  # a double quote inside is doubled
    ("it's", '"it\'s"'),        # a single quote is the configuration file's business
])
def test_every_name_is_double_quoted(name: str, quoted: str) -> None:
    assert quote_name(name) == quoted


def test_odd_application_names_are_quoted_in_the_value() -> None:
    result = build(["db2"], streaming=["db2"], slot_names={"db2": 'we"ird, one'})
    assert result["value"] == 'ANY 1 ("we""ird, one")'


# --- the problems ---------------------------------------------------------------------------

def problems(standbys, method="ANY", count=1, **kwargs) -> list:
    kwargs.setdefault("slot_names", SLOTS)
    kwargs.setdefault("standby_group", GROUP)
    kwargs.setdefault("primary", "db1")
    return synchronous_problems(standbys, method, count, **kwargs)


def test_valid_variables_have_no_problems() -> None:
    assert problems(["db2", "db3"], "FIRST", 2) == []
    assert problems(["db2", "db3", "db4"], "any", "3") == []


@pytest.mark.parametrize("method", ["ALL", "", None, "ANY 1", "QUORUM", 1, ["ANY"]])
def test_a_method_other_than_any_or_first_is_refused(method) -> None:
    found = problems(["db2"], method)
    assert len(found) == 1
    assert "postgresql_synchronous_method must be ANY or FIRST" in found[0]
    assert repr(method) in found[0]


@pytest.mark.parametrize("count", ["two", "1.5", 1.0, None, True, False, "-1", [1], ""])
def test_a_count_that_is_not_a_whole_number_is_refused(count) -> None:
    found = problems(["db2", "db3"], "ANY", count)
    assert len(found) == 1
    assert found[0].startswith("postgresql_synchronous_count must be a whole number")


@pytest.mark.parametrize("count", [0, -1, "0"])
def test_a_count_below_one_is_refused(count) -> None:
    found = problems(["db2", "db3"], "ANY", count)
    assert len(found) == 1 and "postgresql_synchronous_count must be at least 1" in found[0]


def test_a_count_larger_than_the_list_is_refused_naming_both_variables() -> None:
    found = problems(["db2", "db3"], "ANY", 3)
    assert found == ["postgresql_synchronous_count is 3, but postgresql_synchronous_standbys "
                     "lists only 2 (db2, db3): lower the count or list more standbys"]


def test_a_count_equal_to_the_list_is_fine() -> None:
    assert problems(["db2", "db3"], "FIRST", 2) == []


def test_a_name_outside_the_group_standby_is_refused() -> None:
    found = problems(["db2", "db9"])
    assert found == ["postgresql_synchronous_standbys names db9, which is not in the group "
                     "'standby' (db2, db3, db4)"]


def test_the_primary_is_refused_as_such() -> None:
    found = problems(["db1", "db2"])
    assert len(found) == 1 and "names db1, the primary" in found[0]


def test_without_the_group_the_names_are_not_checked() -> None:
    assert synchronous_problems(["db9"], slot_names={}) == []


def test_duplicates_are_refused_once_each() -> None:
    found = problems(["db2", "db3", "db2", "db2", "db3"], "ANY", 1)
    assert found == [
        "postgresql_synchronous_standbys lists db2 more than once; list each standby once, "
        "in priority order",
        "postgresql_synchronous_standbys lists db3 more than once; list each standby once, "
        "in priority order"]


def test_duplicates_count_once_for_the_count_check() -> None:
    found = problems(["db2", "db2"], "ANY", 2)
    assert any("lists db2 more than once" in p for p in found)
    assert any("lists only 1 (db2)" in p for p in found)


def test_a_bare_string_is_refused_with_the_fix() -> None:
    found = problems("db2")
    assert found == ["postgresql_synchronous_standbys must be a list of inventory names, got "
                     "the string 'db2'; write it as a list: [db2]"]


@pytest.mark.parametrize("value", [{"db2": 1}, 5, True, {"db2"}, b"db2"])
def test_a_list_of_another_type_is_refused(value) -> None:
    found = problems(value)
    assert found and found[0].startswith("postgresql_synchronous_standbys must be a list")


def test_a_generator_from_map_is_read_like_a_list() -> None:
    assert problems(name for name in ["db2", "db3"]) == []
    assert problems(["db2"], standby_group=(name for name in GROUP)) == []
    result = build((name for name in ["db3", "db2"]), streaming=(n for n in ["db2"]))
    assert result["value"] == 'ANY 1 ("db2")' and result["waiting"] == ["db3"]


def test_entries_that_are_not_names_are_refused_by_position() -> None:
    found = problems(["db2", 5, "", None])
    assert found[:3] == [
        "postgresql_synchronous_standbys: entry 2 is not an inventory name (got 5)",
        "postgresql_synchronous_standbys: entry 3 is not an inventory name (got '')",
        "postgresql_synchronous_standbys: entry 4 is not an inventory name (got None)"]


def test_a_listed_standby_without_an_application_name_is_refused() -> None:
    found = problems(["db2", "db3"], slot_names={"db2": "db2"})
    assert found == ["postgresql_synchronous_standbys names db3, which has no application name "
                     "(no entry in postgresql_slot_names)"]


def test_application_names_that_differ_only_in_case_are_refused() -> None:
    found = problems(["db2", "db3"], slot_names={"db2": "Node", "db3": "node"})
    assert len(found) == 1
    assert "names db2 and db3" in found[0] and "ignores case" in found[0]
    assert "standby_slot_name" in found[0]


@pytest.mark.parametrize("app", ["*", "", " ", 7])
def test_an_application_name_that_matches_any_or_none_is_refused(app) -> None:
    found = problems(["db2"], slot_names={"db2": app})
    assert len(found) == 1 and "the application name of db2" in found[0]


def test_a_cascading_standby_cannot_be_synchronous() -> None:
    upstreams = {"db2": "", "db3": None, "db4": "db2"}
    found = problems(["db2", "db3", "db4"], upstreams=upstreams)
    assert found == ["postgresql_synchronous_standbys names db4, whose standby_upstream is db2: "
                     "PostgreSQL never makes a cascading standby synchronous (only standbys "
                     "that stream from the primary); leave db4 out of "
                     "postgresql_synchronous_standbys or unset its standby_upstream"]


def test_an_upstream_that_names_the_primary_is_direct() -> None:
    assert problems(["db2"], upstreams={"db2": "db1"}) == []
    assert problems(["db2"], upstreams={"db2": " db1 "}) == []


def test_every_problem_names_its_variable() -> None:
    found = problems(["db2", "db2", "db9"], "ALL", 5, upstreams={"db2": "db3"})
    assert len(found) == 5
    for message in found:
        assert "postgresql_synchronous_" in message


def test_problems_refuse_the_value() -> None:
    result = build(["db2", "db3"], "ALL", 1, streaming=["db2", "db3"])
    assert result["found"] == "refused" and result["row"] == 1
    assert result["value"] == ""
    assert result["problems"] == synchronous_problems(["db2", "db3"], "ALL", 1, SLOTS)
    assert result["synchronous"] == [] and result["effective_count"] == 0
    assert result["method"] == "" and result["warning"] == ""
    assert "postgresql_synchronous_method" in result["reason"]


def test_the_value_filter_runs_the_same_checks_with_the_group() -> None:
    result = build(["db2", "db9"], streaming=["db2"], standby_group=GROUP, primary="db1")
    assert result["found"] == "refused"
    assert result["problems"] == problems(["db2", "db9"])


def test_the_filters_are_exported_by_their_files() -> None:
    assert ss.FilterModule().filters() == {"synchronous_standby_names": synchronous_standby_names}
    assert sp_file.FilterModule().filters() == {"synchronous_problems": synchronous_problems}


def test_the_table_renders() -> None:
    table = ss.render_markdown()
    assert table.count("\n") == len(ss.ROWS) + 2
    for r in ss.ROWS:
        assert "`%s`" % r.name in table
