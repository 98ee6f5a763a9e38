"""cluster_probe: parsers and path facts of pg_cluster_info."""

from __future__ import annotations

import os

from ansible_collections.pgrepl.streaming.plugins.module_utils import cluster_probe as probe

CONTROLDATA = """pg_control version number:            1300
Database system identifier:           7311234567890123456
Database cluster state:               in archive recovery
Latest checkpoint's TimeLineID:       3
max_wal_senders setting:              10
max_connections setting:              100
"""


def test_parse_controldata():
    found = probe.parse_controldata(CONTROLDATA)
    assert found == {"system_identifier": "7311234567890123456", "timeline": "3",
                     "state": "in archive recovery", "max_wal_senders": "10",
                     "max_connections": "100"}


def test_parse_postmaster_pid():
    text = "4242\n/var/lib/postgresql/15/main\n1700000000\n5432\n/var/run/postgresql\n*\n"
    assert probe.parse_postmaster_pid(text) == {
        "pid": 4242, "data_dir": "/var/lib/postgresql/15/main", "port": 5432,
        "socket_dir": "/var/run/postgresql"}
    assert probe.parse_postmaster_pid("") == {}


def test_find_cluster():
    listing = '[{"version": 15, "cluster": "main", "pgdata": "/srv/x"}]'
    assert probe.find_cluster(listing, "15", "main")["pgdata"] == "/srv/x"
    assert probe.find_cluster(listing, "17", "main") is None
    assert probe.find_cluster("not json", "15", "main") is None


def test_symlinked_data_dir_is_judged_by_its_target(tmp_path):
    real = tmp_path / "disk" / "main"
    real.mkdir(parents=True)
    (real / "PG_VERSION").write_text("15\n")
    link = tmp_path / "main"
    link.symlink_to(real)
    facts = probe.path_facts(str(link))
    assert facts["is_symlink"] and facts["real_path"] == str(real) and facts["entries"] == 1
    target = probe.clone_target(facts)
    assert target == {"clone_dir": str(real) + ".pgrepl-clone", "clone_in_place": False,
                      "space_dir": str(real.parent)}


def test_absent_data_dir_and_free_space_of_its_ancestor(tmp_path):
    facts = probe.path_facts(str(tmp_path / "a" / "b"))
    assert not facts["exists"] and facts["entries"] == 0
    assert probe.free_bytes(str(tmp_path / "a" / "b")) > 0


def test_directory_in_use(tmp_path):
    assert not probe.directory_in_use(str(tmp_path / "none"))
    assert not probe.directory_in_use(str(tmp_path))
    (tmp_path / "f").write_text("x")
    assert probe.directory_in_use(str(tmp_path))


def test_process_alive():
    assert probe.process_alive(os.getpid())


def test_redact():
    assert probe.redact("host=a password=x'y user=b") == "host=a password=******** user=b"
    assert probe.redact("password = 'a b'") == "password = ********"


def test_redact_keeps_the_closing_quote_of_a_conninfo():
    line = "primary_conninfo = 'host=db1 user=r password=old-secret'"
    assert probe.redact(line) == "primary_conninfo = 'host=db1 user=r password=********'"
