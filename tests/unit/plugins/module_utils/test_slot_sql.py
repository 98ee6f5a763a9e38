"""Version boundaries of slot_sql, from the server_version_num the connection reports."""

import pytest

from ansible_collections.pgrepl.streaming.plugins.module_utils import slot_sql as s
from ansible_collections.pgrepl.streaming.plugins.module_utils.connection import server_major

FACTS = {"in_recovery": False, "wal_level": "logical", "database": "postgres",
         "max_slots": 10, "slots_used": 0}


def logical(**over):
    p = {"name": "slot_1", "state": "present", "slot_type": "logical",
         "immediately_reserve": False, "output_plugin": "pgoutput", "two_phase": None,
         "failover": None}
    p.update(over)
    return p


@pytest.mark.parametrize("version_num,two_phase_column,failover_column", [
    (130015, False, False), (140000, True, False), (160008, True, False),
    (170000, True, True), (180001, True, True)])
def test_slot_query_columns_follow_the_server_version(version_num, two_phase_column,
                                                      failover_column):
    query = s.slot_query(server_major(version_num))
    assert ("s.two_phase AS two_phase" in query) is two_phase_column
    assert ("s.failover AS failover" in query) is failover_column
    assert ("NULL::boolean AS failover" in query) is not failover_column


@pytest.mark.parametrize("version_num,problem", [
    (130015, "failover needs PostgreSQL 17 or later; this server runs PostgreSQL 13"),
    (150018, "failover needs PostgreSQL 17 or later; this server runs PostgreSQL 15"),
    (160008, "failover needs PostgreSQL 17 or later; this server runs PostgreSQL 16"),
    (170000, None), (170004, None)])
def test_failover_version_boundary(version_num, problem):
    assert s.server_problem(logical(failover=True), server_major(version_num),
                            FACTS) == problem


def test_two_phase_is_checked_before_failover():
    problem = s.server_problem(logical(two_phase=True, failover=True), 13, FACTS)
    assert problem.startswith("two_phase needs PostgreSQL 14")
