"""pg_replication_slot through the real ``ansible`` CLI against the lab's primary and standby.

The lab is shared by the whole session: every slot created here is dropped again, and the
fixture's own slot ``standby1`` is only ever refused, never dropped.
"""

from __future__ import annotations

import pytest

from .ansible_runner import run_module
from .pgcluster import SUPERUSER_PASSWORD, free_port

MODULE = "pg_replication_slot"


def slots(node) -> dict:
    """name -> (type, plugin, database, active) of every slot on ``node``."""
    rows = node.sql("SELECT slot_name, slot_type, plugin, database, active"
                    " FROM pg_replication_slots")
    return {r[0]: r[1:] for r in rows}


@pytest.fixture
def cleanup(lab):
    """Names of slots a test creates; dropped afterwards on both nodes if still there."""
    names: list[str] = []
    yield names
    for node in (lab.primary, lab.standby):
        for name in names:
            node.sql("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                     " WHERE slot_name = %s AND NOT active", (name,))


def test_physical_lifecycle(lab, module, cleanup):
    cleanup.append("it_phys")
    before = slots(lab.primary)

    dry = module(MODULE, {"name": "it_phys"}, check=True)
    assert not dry.failed and dry.changed
    assert dry["queries"] == ["SELECT pg_create_physical_replication_slot('it_phys', false)"]
    assert dry["slot"] is None
    assert slots(lab.primary) == before

    made = module(MODULE, {"name": "it_phys"})
    assert made.changed and made["queries"] == dry["queries"]
    assert made["slot"]["name"] == "it_phys" and made["slot"]["type"] == "physical"
    assert made["slot"]["restart_lsn"] is None and made["slot"]["active"] is False
    assert slots(lab.primary)["it_phys"] == ("physical", None, None, False)

    again = module(MODULE, {"name": "it_phys"})
    assert not again.failed and not again.changed and again["queries"] == []

    dry_drop = module(MODULE, {"name": "it_phys", "state": "absent"}, check=True)
    assert dry_drop.changed
    assert dry_drop["queries"] == ["SELECT pg_drop_replication_slot('it_phys')"]
    assert "it_phys" in slots(lab.primary)

    dropped = module(MODULE, {"name": "it_phys", "state": "absent"})
    assert dropped.changed and dropped["slot"] is None
    assert dropped["queries"] == dry_drop["queries"]
    assert slots(lab.primary) == before

    gone = module(MODULE, {"name": "it_phys", "state": "absent"})
    assert not gone.failed and not gone.changed and gone["queries"] == []


def test_immediately_reserve_gives_restart_lsn(lab, module, cleanup):
    cleanup.append("it_reserved")
    result = module(MODULE, {"name": "it_reserved", "immediately_reserve": True})
    assert result.changed
    slot = result["slot"]
    assert slot["restart_lsn"] and slot["wal_status"] == "reserved"
    assert isinstance(slot["retained_bytes"], int) and slot["retained_bytes"] >= 0
    assert lab.primary.scalar("SELECT restart_lsn::text FROM pg_replication_slots"
                              " WHERE slot_name = 'it_reserved'") == slot["restart_lsn"]
    # WAL written afterwards is retained by the slot and shows in retained_bytes.
    lab.primary.sql("SELECT pg_switch_wal()")
    lab.primary.sql("CREATE TABLE IF NOT EXISTS it_filler AS"
                    " SELECT g FROM generate_series(1, 1000) g")
    later = module(MODULE, {"name": "it_reserved"})
    assert not later.changed and later["slot"]["retained_bytes"] > slot["retained_bytes"]
    lab.primary.sql("DROP TABLE it_filler")


def test_logical_lifecycle_and_mismatches(lab, module, cleanup):
    cleanup.append("it_logical")
    lab.primary.sql("DROP DATABASE IF EXISTS it_other")
    lab.primary.sql("CREATE DATABASE it_other")
    args = {"slot_name": "it_logical", "slot_type": "logical", "output_plugin": "test_decoding",
            "db": "postgres"}

    dry = module(MODULE, args, check=True)
    assert dry.changed and "it_logical" not in slots(lab.primary)
    assert dry["queries"] == [
        "SELECT pg_create_logical_replication_slot('it_logical', 'test_decoding')"]

    made = module(MODULE, args)
    assert made.changed
    slot = made["slot"]
    assert (slot["type"], slot["plugin"], slot["database"]) == (
        "logical", "test_decoding", "postgres")
    assert slot["confirmed_flush_lsn"] and slot["restart_lsn"] and slot["two_phase"] is False

    assert not module(MODULE, args).changed

    other_plugin = module(MODULE, dict(args, output_plugin="pgoutput"))
    assert other_plugin.failed and "output plugin 'test_decoding', not 'pgoutput'" in \
        other_plugin.msg
    other_db = module(MODULE, dict(args, db="it_other"))
    assert other_db.failed and "database 'postgres', not 'it_other'" in other_db.msg
    other_type = module(MODULE, {"name": "it_logical"})
    assert other_type.failed and "exists as a logical slot, not physical" in other_type.msg
    assert other_type["queries"] == []
    assert slots(lab.primary)["it_logical"] == ("logical", "test_decoding", "postgres", False)

    # The name is cluster-wide: absent drops it from whichever database we connect to.
    dropped = module(MODULE, {"name": "it_logical", "state": "absent", "db": "it_other"})
    assert dropped.changed and "it_logical" not in slots(lab.primary)
    lab.primary.sql("DROP DATABASE it_other")


def test_logical_defaults_to_pgoutput_and_two_phase(lab, module, cleanup):
    cleanup.extend(["it_pgoutput", "it_two_phase"])
    made = module(MODULE, {"name": "it_pgoutput", "slot_type": "logical"})
    assert made.changed and made["slot"]["plugin"] == "pgoutput"
    two = module(MODULE, {"name": "it_two_phase", "slot_type": "logical", "two_phase": True})
    assert two.changed and two["slot"]["two_phase"] is True
    assert two["queries"] == ["SELECT pg_create_logical_replication_slot("
                              "'it_two_phase', 'pgoutput', false, true)"]
    mismatch = module(MODULE, {"name": "it_pgoutput", "slot_type": "logical",
                               "two_phase": True})
    assert mismatch.failed and "two_phase" in mismatch.msg
    for name in ("it_pgoutput", "it_two_phase"):
        assert module(MODULE, {"name": name, "state": "absent"}).changed


def test_failover_needs_postgresql_17(lab, module, cleanup):
    """The lab runs PostgreSQL 15: failover is refused before anything is created."""
    cleanup.extend(["it_failover", "it_no_failover"])
    major = int(lab.primary.scalar("SHOW server_version_num")) // 10000
    if major >= 17:
        pytest.skip("the lab's PostgreSQL %d has failover slots" % major)
    before = slots(lab.primary)
    for check in (True, False):
        refused = module(MODULE, {"name": "it_failover", "slot_type": "logical",
                                  "failover": True}, check=check)
        assert refused.failed and not refused.changed
        assert refused.msg == ("failover needs PostgreSQL 17 or later; this server runs"
                               " PostgreSQL %d" % major)
        assert refused["queries"] == [] and refused["slot"] is None
    assert slots(lab.primary) == before
    # On a physical slot it is refused whatever the version, before connecting.
    physical = module(MODULE, {"name": "it_failover", "failover": True,
                               "login_port": free_port()})
    assert physical.failed and physical.msg == (
        "failover applies to logical slots only (slot_type: logical)")
    assert slots(lab.primary) == before
    # failover: false asks for nothing the server lacks: a plain logical slot, and the
    # column, missing before PostgreSQL 17, comes back as null.
    plain = module(MODULE, {"name": "it_no_failover", "slot_type": "logical",
                            "failover": False})
    assert plain.changed and not plain.failed, plain.msg
    assert plain["queries"] == ["SELECT pg_create_logical_replication_slot("
                                "'it_no_failover', 'pgoutput')"]
    assert plain["slot"]["failover"] is None
    assert module(MODULE, {"name": "it_no_failover", "state": "absent"}).changed


def test_existing_physical_slot_refuses_logical(lab, module, cleanup):
    cleanup.append("it_kind")
    assert module(MODULE, {"name": "it_kind"}).changed
    for check in (True, False):
        result = module(MODULE, {"name": "it_kind", "slot_type": "logical"}, check=check)
        assert result.failed and not result.changed
        assert "exists as a physical slot, not logical" in result.msg
    assert slots(lab.primary)["it_kind"][0] == "physical"


@pytest.mark.parametrize("name", ["UpperCase", "pg-2", "x" * 64, "",
                                  "x'); DROP TABLE t; --", "it_ok\n"])
def test_invalid_names_fail_before_connecting(lab, module, name):
    lab.primary.sql("CREATE TABLE IF NOT EXISTS t(i int)")
    before = slots(lab.primary)
    result = module(MODULE, {"name": name})
    assert result.failed and "invalid replication slot name" in result.msg
    assert "1 to 63 characters" in result.msg and "a-z" in result.msg
    assert result["queries"] == []
    # Same answer against a closed port: the name is refused before any connection.
    offline = module(MODULE, {"name": name, "login_port": free_port()})
    assert offline.failed and "invalid replication slot name" in offline.msg
    assert slots(lab.primary) == before
    assert lab.primary.scalar("SELECT to_regclass('t') IS NOT NULL") is True


def test_injection_in_output_plugin_is_refused(lab, module):
    lab.primary.sql("CREATE TABLE IF NOT EXISTS t(i int)")
    before = slots(lab.primary)
    result = module(MODULE, {"name": "it_inject", "slot_type": "logical",
                             "output_plugin": "x'); DROP TABLE t; --"})
    assert result.failed and "invalid output_plugin" in result.msg
    assert slots(lab.primary) == before
    assert lab.primary.scalar("SELECT to_regclass('t') IS NOT NULL") is True


def test_community_postgresql_slot_playbook_runs_unchanged(lab, cleanup):
    """Options spelled as for community.postgresql.postgresql_slot, aliases included."""
    cleanup.append("it_community")
    args = {"slot_name": "it_community", "immediately_reserve": True, "db": "postgres",
            "login": "postgres", "login_password": SUPERUSER_PASSWORD,
            "host": "127.0.0.1", "port": lab.primary.port, "ssl_mode": "prefer",
            "session_role": "postgres", "trust_input": False, "connect_params": {}}
    made = run_module(MODULE, args)
    assert not made.failed and made.changed, made.msg
    assert slots(lab.primary)["it_community"][0] == "physical"
    assert lab.primary.scalar("SELECT restart_lsn IS NOT NULL FROM pg_replication_slots"
                              " WHERE slot_name = 'it_community'") is True
    logical_reserve = run_module(MODULE, dict(args, slot_name="it_community2",
                                              slot_type="logical"))
    assert logical_reserve.failed and "immediately_reserve" in logical_reserve.msg
    dropped = run_module(MODULE, dict(args, state="absent"))
    assert dropped.changed and "it_community" not in slots(lab.primary)


def test_active_slot_drop_is_refused_then_terminated(lab, module, cleanup):
    cleanup.append("it_active")
    assert module(MODULE, {"name": "it_active", "immediately_reserve": True}).changed
    with lab.wal_consumer("it_active") as receiver:
        pid = lab.primary.scalar("SELECT active_pid FROM pg_replication_slots"
                                 " WHERE slot_name = 'it_active'")
        for check in (True, False):
            refused = module(MODULE, {"name": "it_active", "state": "absent"}, check=check)
            assert refused.failed and not refused.changed
            assert "pid %d" % pid in refused.msg
            assert "'pg_receivewal'" in refused.msg and "127.0.0.1" in refused.msg
            assert "terminate_active" in refused.msg
        assert slots(lab.primary)["it_active"][3] is True

        dry = module(MODULE, {"name": "it_active", "state": "absent",
                              "terminate_active": True}, check=True)
        assert dry.changed and not dry.failed
        assert dry["queries"] == ["SELECT pg_terminate_backend(%d)" % pid,
                                  "SELECT pg_drop_replication_slot('it_active')"]
        assert slots(lab.primary)["it_active"][3] is True and receiver.poll() is None

        done = module(MODULE, {"name": "it_active", "state": "absent",
                               "terminate_active": True})
        assert done.changed and not done.failed, done.msg
        assert done["queries"][0] == "SELECT pg_terminate_backend(%d)" % pid
        assert done["queries"][-1] == "SELECT pg_drop_replication_slot('it_active')"
        assert done["slot"] is None
        assert "it_active" not in slots(lab.primary)
        assert receiver.wait(10) != 0  # pg_receivewal lost its connection


def test_the_standbys_own_slot_is_refused(lab, module):
    pid = lab.primary.scalar("SELECT active_pid FROM pg_replication_slots"
                             " WHERE slot_name = 'standby1'")
    for check in (True, False):
        refused = module(MODULE, {"name": "standby1", "state": "absent"}, check=check)
        assert refused.failed and "pid %d" % pid in refused.msg
        assert "application_name 'standby1'" in refused.msg and "walsender" in refused.msg
        assert refused["slot"]["active"] is True
    assert slots(lab.primary)["standby1"][3] is True
    assert lab.primary.scalar("SELECT state FROM pg_stat_replication"
                              " WHERE application_name = 'standby1'") == "streaming"


def test_slot_on_a_standby(lab, module, cleanup):
    """Cascading slot on the standby: retained WAL is measured from what it received."""
    cleanup.append("it_cascade")
    made = module(MODULE, {"name": "it_cascade", "immediately_reserve": True},
                  node=lab.standby)
    assert made.changed and made["slot"]["restart_lsn"]
    assert made["slot"]["retained_bytes"] >= 0
    assert "it_cascade" in slots(lab.standby) and "it_cascade" not in slots(lab.primary)
    # PostgreSQL 15 cannot decode on a standby: refused before trying, in check mode too.
    for check in (True, False):
        logical = module(MODULE, {"name": "it_cascade_l", "slot_type": "logical"},
                         node=lab.standby, check=check)
        assert logical.failed and "standby only from PostgreSQL 16" in logical.msg
    assert "it_cascade_l" not in slots(lab.standby)
    dropped = module(MODULE, {"name": "it_cascade", "state": "absent"}, node=lab.standby)
    assert dropped.changed and "it_cascade" not in slots(lab.standby)


def test_wrong_password_is_an_authentication_error(lab, module):
    result = module(MODULE, {"name": "it_auth", "login_password": "wrong"})
    assert result.failed and result.msg.startswith("authentication failed for postgres@")
    assert "wrong" not in result.msg
    assert "it_auth" not in slots(lab.primary)


def test_closed_port_is_a_connection_error(module):
    port = free_port()
    result = module(MODULE, {"name": "it_unreachable", "login_port": port})
    assert result.failed
    assert result.msg.startswith("cannot connect to PostgreSQL at postgres@127.0.0.1:%d" % port)
