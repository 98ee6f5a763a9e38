"""pg_hba.conf lines the primary role moves aside (plugins/filter/hba_shadowing.py)."""

from __future__ import annotations

from ansible_collections.pgrepl.streaming.plugins.filter.hba_shadowing import hba_shadowing

CONTENT = """local   all             postgres                                peer
host    replication     all             127.0.0.1/32            scram-sha-256
host    replication     all             10.0.0.2/32             trust
host    replication     all             10.0.0.0/24             md5
host    all             all             10.0.0.0/24             scram-sha-256
host    replication     all             192.168.9.9/32          scram-sha-256
# BEGIN pgrepl.streaming: replication from the standbys (managed by Ansible)
host replication replicator 10.0.0.2/32 scram-sha-256  # pg2
# END pgrepl.streaming: replication from the standbys (managed by Ansible)
host    replication     all             0.0.0.0/0               md5
local   replication     all                                     trust
"""


def rule(line, kind, database, address, netmask, method):
    return {"line_number": line, "type": kind, "database": database, "address": address,
            "netmask": netmask, "auth_method": method}


RULES = [
    rule(1, "local", ["all"], None, None, "peer"),
    rule(2, "host", ["replication"], "127.0.0.1", "255.255.255.255", "scram-sha-256"),
    rule(3, "host", ["replication"], "10.0.0.2", "255.255.255.255", "trust"),
    rule(4, "host", ["replication"], "10.0.0.0", "255.255.255.0", "md5"),
    rule(5, "host", ["all"], "10.0.0.0", "255.255.255.0", "scram-sha-256"),
    rule(6, "host", ["replication"], "192.168.9.9", "255.255.255.255", "scram-sha-256"),
    rule(8, "host", ["replication"], "10.0.0.2", "255.255.255.255", "scram-sha-256"),
    rule(10, "host", ["replication"], "0.0.0.0", "0.0.0.0", "md5"),
    rule(11, "local", ["replication"], None, None, "trust"),
]


def test_trust_and_shadowing_lines_are_moved_aside():
    found = hba_shadowing(RULES, CONTENT, ["10.0.0.2", "10.0.0.3"])
    assert [item["line"] for item in found] == [3, 4]
    assert "trust" in found[0]["why"]
    assert "10.0.0.2, 10.0.0.3" in found[1]["why"]
    assert found[0]["text"].startswith("host    replication     all             10.0.0.2/32")


def test_lines_after_the_block_only_go_when_trust():
    rules = RULES + [rule(12, "host", ["replication"], "0.0.0.0", "0.0.0.0", "trust")]
    content = CONTENT + "host replication all 0.0.0.0/0 trust\n"
    assert [item["line"] for item in hba_shadowing(rules, content, ["10.0.0.2"])] == [3, 4, 12]


def test_the_managed_block_is_never_moved():
    rules = [rule(8, "host", ["replication"], "10.0.0.2", "255.255.255.255", "trust")]
    assert hba_shadowing(rules, CONTENT, ["10.0.0.2"]) == []


def test_without_a_block_every_covering_line_shadows():
    content = "host replication all 10.0.0.0/8 md5\n"
    rules = [rule(1, "host", ["replication"], "10.0.0.0", "255.0.0.0", "md5")]
    assert [item["line"] for item in hba_shadowing(rules, content, ["10.1.2.3"])] == [1]
    assert hba_shadowing(rules, content, ["192.168.1.1"]) == []


def test_all_and_ipv6():
    content = "host replication all all md5\nhost replication all ::/0 md5\n"
    rules = [rule(1, "hostssl", ["replication"], "all", None, "md5"),
             rule(2, "host", ["replication"], "::", "::", "md5")]
    assert [item["line"] for item in hba_shadowing(rules, content, ["fd00::2"])] == [1, 2]
    assert [item["line"] for item in hba_shadowing(rules, content, ["10.0.0.2"])] == [1]


def test_host_names_are_left_alone():
    rules = [rule(1, "host", ["replication"], "db2.example.com", None, "md5")]
    assert hba_shadowing(rules, "host replication all db2.example.com md5\n", ["10.0.0.2"]) == []
