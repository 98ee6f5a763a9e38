"""site.yml's check that the inventory's primary is the running one, row by row
(plugins/filter/inventory_check.py)."""

from __future__ import annotations

from ansible_collections.pgrepl.streaming.plugins.filter import inventory_check as ic

SYSTEM = "7441184467925331478"


def server(in_recovery: bool, timeline: int = 1, system: str = SYSTEM) -> dict:
    return {"answered": True, "in_recovery": in_recovery, "timeline": timeline,
            "position": "0/5000000", "system_identifier": system}


SILENT = {"answered": False, "error": "connection refused"}


def check(positions: dict, primary: str = "db1") -> dict:
    return ic.inventory_check(positions, primary)


def test_every_row_is_reachable_in_order() -> None:
    seen = {check({"db1": server(True)})["found"],
            check({"db1": server(False), "db2": server(False, 2)})["found"],
            check({"db1": server(False), "db2": server(True)})["found"]}
    assert seen == {row.name for row in ic.ROWS}


def test_a_primary_in_recovery_is_refused_naming_the_running_primary() -> None:
    verdict = check({"db1": server(True, 2), "db2": server(False, 2), "db3": server(True, 2)})
    assert verdict["decision"] == "refuse"
    assert verdict["found"] == "primary_in_recovery"
    assert "db1, the host in the group 'primary', runs as a standby" in verdict["reason"]
    assert "move db2 to the group 'primary'" in verdict["reason"]
    assert "rejoin.yml" not in verdict["reason"]  # it is a standby already
    assert verdict["reason"].endswith("Nothing was changed.")


def test_a_primary_in_recovery_without_a_running_primary_says_promote() -> None:
    verdict = check({"db1": server(True), "db2": server(True)})
    assert verdict["running"] == []
    assert "promote.yml" in verdict["reason"]


def test_a_newer_primary_of_the_same_system_is_named() -> None:
    # The old primary came back after a failover: still a primary, on the old timeline.
    verdict = check({"db1": server(False, 1), "db2": server(False, 2), "db3": server(True, 2)})
    assert verdict["found"] == "newer_primary"
    assert verdict["running"] == ["db2"]
    assert "db2 runs as the primary of this cluster on timeline 2" in verdict["reason"]
    assert "rejoin.yml -e rejoin_host=db1" in verdict["reason"]


def test_a_silent_primary_and_a_promoted_standby_is_refused() -> None:
    verdict = check({"db1": SILENT, "db2": server(False, 2)})
    assert verdict["found"] == "newer_primary"
    assert "not answering" in verdict["reason"]


def test_unrelated_or_older_primaries_are_left_to_the_standby_role() -> None:
    # A package's own cluster on a standby host: another system, or timeline 1 when the
    # primary is not installed yet; a copy on the same or a lower timeline.
    assert check({"db1": server(False, 1), "db2": server(False, 3, "1")})["decision"] == "go"
    assert check({"db1": SILENT, "db2": server(False, 1, "1")})["decision"] == "go"
    assert check({"db1": server(False, 2), "db2": server(False, 2)})["decision"] == "go"
    assert check({"db1": server(False, 2), "db2": server(False, 1)})["decision"] == "go"


def test_nothing_running_yet_goes() -> None:
    assert check({"db1": SILENT, "db2": SILENT})["decision"] == "go"
    assert check({})["decision"] == "go"


def test_the_table_renders_one_line_per_row() -> None:
    assert ic.render_markdown().count("\n") == len(ic.ROWS) + 2
