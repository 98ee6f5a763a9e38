"""The failover decision table, row by row (plugins/filter/promotion_check.py)."""

from __future__ import annotations

import pytest

from ansible_collections.pgrepl.streaming.plugins.filter import promotion_check as pc


def standby(position: str, timeline: int = 1) -> dict:
    return {"answered": True, "in_recovery": True, "timeline": timeline, "position": position}


def check(positions: dict, candidate: str = "db2", force: bool = False) -> dict:
    return pc.promotion_check(positions, candidate, force)


def test_every_row_is_reachable_in_order() -> None:
    seen = {check({"db2": {"answered": False, "error": "timeout"}})["found"],
            check({"db2": standby("0/5000000"), "db1": {"answered": True,
                                                        "in_recovery": False}})["found"],
            check({"db2": {"answered": True, "in_recovery": False, "timeline": 2}})["found"],
            check({"db2": standby("0/5000000"), "db3": standby("0/5000100")})["found"],
            check({"db2": standby("0/5000000"), "db3": standby("0/5000100")},
                  force=True)["found"],
            check({"db2": standby("0/5000000")})["found"]}
    assert seen == {row.name for row in pc.ROWS}


def test_the_candidate_behind_is_refused_naming_the_advanced_one() -> None:
    verdict = check({"db2": standby("0/5000000"), "db3": standby("0/5000100"),
                     "db4": standby("0/4000000")})
    assert verdict["decision"] == "refuse"
    assert verdict["ahead"] == ["db3"]
    assert verdict["behind_bytes"] == 0x100
    assert "Promote db3 instead" in verdict["reason"]
    assert "promote_force=true" in verdict["reason"]


def test_the_standby_to_promote_instead_is_the_most_advanced() -> None:
    verdict = check({"db2": standby("0/5000000"), "db3": standby("0/5000100"),
                     "db4": standby("0/6000000")})
    assert verdict["ahead"] == ["db3", "db4"]
    assert verdict["behind_bytes"] == 0x1000000
    assert "Promote db4 instead" in verdict["reason"]


def test_a_higher_timeline_wins_over_a_higher_position() -> None:
    verdict = check({"db2": standby("1/0", timeline=1), "db3": standby("0/100", timeline=2)})
    assert verdict["found"] == "behind"
    assert verdict["ahead"] == ["db3"]
    assert "unknown number of" in verdict["reason"]


def test_equal_positions_promote() -> None:
    verdict = check({"db2": standby("0/5000000"), "db3": standby("0/5000000")})
    assert verdict["decision"] == "promote"
    assert verdict["ahead"] == []


def test_hosts_that_do_not_answer_are_not_compared() -> None:
    verdict = check({"db2": standby("0/5000000"), "db3": {"answered": False}})
    assert verdict["decision"] == "promote"


def test_force_promotes_and_says_what_is_lost() -> None:
    verdict = check({"db2": standby("0/5000000"), "db3": standby("0/5000100")}, force=True)
    assert verdict["decision"] == "promote"
    assert "256 more bytes" in verdict["reason"]
    assert "rejoin.yml" in verdict["reason"]


def test_a_running_primary_elsewhere_refuses_even_forced() -> None:
    verdict = check({"db2": standby("0/5000000"), "db1": {"answered": True,
                                                          "in_recovery": False}}, force=True)
    assert verdict["decision"] == "refuse"
    assert "db1 already runs as a primary" in verdict["reason"]


def test_a_candidate_that_does_not_answer_is_refused() -> None:
    verdict = check({"db3": standby("0/1")})
    assert verdict["decision"] == "refuse"
    assert "does not answer" in verdict["reason"]


@pytest.mark.parametrize("row", pc.ROWS, ids=lambda row: row.name)
def test_every_row_is_in_the_rendered_table(row: pc.Row) -> None:
    assert "`%s`" % row.name in pc.render_markdown()


def test_server_position_of_a_standby_is_the_larger_of_received_and_replayed() -> None:
    status = {"in_recovery": True, "timeline": 2, "receive_lsn": "0/5000100",
              "replay_lsn": "0/5000000", "system_identifier": "7441184467925331478"}
    assert pc.server_position(status) == {"answered": True, "in_recovery": True, "timeline": 2,
                                          "position": "0/5000100", "error": "",
                                          "system_identifier": "7441184467925331478"}
    status["receive_lsn"] = None
    assert pc.server_position(status)["position"] == "0/5000000"


def test_server_position_of_a_primary_and_of_a_silent_server() -> None:
    primary = {"in_recovery": False, "timeline": 1, "current_lsn": "0/6000000"}
    assert pc.server_position(primary)["position"] == "0/6000000"
    down = {"failed": True, "msg": "connection refused"}
    assert pc.server_position(down) == {"answered": False, "in_recovery": None, "timeline": None,
                                        "position": None, "error": "connection refused",
                                        "system_identifier": None}


def test_server_position_of_a_host_without_postgresql() -> None:
    skipped = {"skipped": True, "changed": False}
    assert pc.server_position(skipped)["answered"] is False
    assert pc.server_position(skipped)["error"] == "no PostgreSQL on it yet"
