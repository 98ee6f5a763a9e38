"""Pure logic of pg_replication_slot: validation, decisions, SQL choice, version handling."""

import pytest

from ansible_collections.pgrepl.streaming.plugins.module_utils import slot_sql as s
from ansible_collections.pgrepl.streaming.plugins.module_utils.connection import (
    connection_argument_spec,
)
from ansible_collections.pgrepl.streaming.plugins.modules import pg_replication_slot as mod

FACTS = {"in_recovery": False, "wal_level": "logical", "database": "postgres",
         "max_slots": 10, "slots_used": 1}


def params(**over):
    p = {k: v.get("default") for k, v in mod.argument_spec().items()}
    p["name"] = "slot_1"
    p.update(over)
    return p


def row(**over):
    r = {"slot_name": "slot_1", "slot_type": "physical", "plugin": None, "database": None,
         "active": False, "active_pid": None, "restart_lsn": None,
         "confirmed_flush_lsn": None, "wal_status": None, "safe_wal_size": None,
         "two_phase": None, "failover": None, "application_name": None, "client_addr": None,
         "backend_type": None}
    r.update(over)
    return r


def logical_row(**over):
    return row(**dict({"slot_type": "logical", "plugin": "pgoutput", "database": "postgres",
                       "two_phase": False, "failover": False}, **over))


# ------------------------------------------------------------------ argument spec


def test_spec_accepts_every_community_postgresql_slot_option():
    spec = mod.argument_spec()
    names = set(spec)
    for opt in spec.values():
        names.update(opt.get("aliases", []))
    community = {"name", "slot_name", "slot_type", "state", "immediately_reserve",
                 "output_plugin", "session_role", "trust_input", "login_db", "db",
                 "login_user", "login", "login_password", "login_host", "host",
                 "login_unix_socket", "unix_socket", "login_port", "port", "ssl_mode",
                 "ca_cert", "ssl_rootcert", "ssl_cert", "ssl_key", "connect_params"}
    assert community <= names


def test_spec_keeps_the_shared_connection_options():
    assert set(connection_argument_spec()) <= set(mod.argument_spec())


def test_spec_defaults():
    spec = mod.argument_spec()
    assert spec["slot_type"]["default"] == "physical"
    assert spec["output_plugin"]["default"] == "pgoutput"
    assert spec["terminate_active"]["default"] is False
    assert "default" not in spec["two_phase"]  # unset = not compared
    assert "default" not in spec["failover"]


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize("name", ["a", "standby_1", "0", "_", "x" * 63])
def test_valid_names(name):
    assert s.name_problem(name) is None


@pytest.mark.parametrize("name", ["", None, "Standby1", "pg-2", "pg2.example", "x" * 64,
                                  "x'); DROP TABLE t; --", "a b", "ä", "slot\n"])
def test_invalid_names_say_what_is_allowed(name):
    problem = s.name_problem(name)
    assert problem and "1 to 63" in problem and "a-z" in problem and "'_'" in problem


@pytest.mark.parametrize("plugin", ["pgoutput", "test_decoding", "wal2json", "decoderbufs"])
def test_valid_plugins(plugin):
    assert s.plugin_problem(plugin) is None


@pytest.mark.parametrize("plugin", ["", "../../tmp/evil", "x'); DROP TABLE t; --", "p" * 64,
                                    "$libdir/x"])
def test_invalid_plugins(plugin):
    assert "invalid output_plugin" in s.plugin_problem(plugin)


def test_option_problem_checks_the_name_first():
    assert "invalid replication slot name" in s.option_problem(params(name="Bad"))
    assert "invalid replication slot name" in s.option_problem(
        params(name="Bad", state="absent"))


def test_option_problem_logical():
    assert s.option_problem(params(slot_type="logical")) is None
    assert "immediately_reserve" in s.option_problem(
        params(slot_type="logical", immediately_reserve=True))
    assert "output_plugin" in s.option_problem(params(slot_type="logical", output_plugin="a-b"))


def test_option_problem_physical_ignores_plugin_but_refuses_two_phase():
    assert s.option_problem(params(output_plugin="what-ever")) is None
    assert "logical slots only" in s.option_problem(params(two_phase=True))
    assert s.option_problem(params(two_phase=False)) is None


def test_option_problem_physical_refuses_failover():
    assert s.option_problem(params(failover=True)) == (
        "failover applies to logical slots only (slot_type: logical)")
    assert s.option_problem(params(failover=False)) is None
    assert s.option_problem(params(slot_type="logical", failover=True)) is None


def test_option_problem_absent_only_needs_a_name():
    assert s.option_problem(params(state="absent", slot_type="logical",
                                   immediately_reserve=True)) is None


# ------------------------------------------------------------------ version handling


def test_two_phase_needs_14():
    p = params(slot_type="logical", two_phase=True)
    assert "PostgreSQL 14" in s.server_problem(p, 13, FACTS)
    assert s.server_problem(p, 14, FACTS) is None
    assert s.server_problem(params(slot_type="logical", two_phase=False), 13, FACTS) is None


@pytest.mark.parametrize("major", [13, 15, 16])
def test_failover_needs_17(major):
    p = params(slot_type="logical", failover=True)
    assert s.server_problem(p, major, FACTS) == (
        "failover needs PostgreSQL 17 or later; this server runs PostgreSQL %d" % major)
    assert s.server_problem(params(slot_type="logical", failover=False), major, FACTS) is None


def test_failover_on_17():
    assert s.server_problem(params(slot_type="logical", failover=True), 17, FACTS) is None
    assert s.server_problem(params(slot_type="logical", failover=True), 18, FACTS) is None


def test_logical_on_standby_needs_16():
    standby = dict(FACTS, in_recovery=True)
    p = params(slot_type="logical")
    assert "standby only from PostgreSQL 16" in s.server_problem(p, 15, standby)
    assert s.server_problem(p, 16, standby) is None
    assert s.server_problem(params(), 13, standby) is None


@pytest.mark.parametrize("slot_type,wal_level,ok", [
    ("physical", "minimal", False), ("physical", "replica", True),
    ("physical", "logical", True), ("logical", "replica", False),
    ("logical", "logical", True)])
def test_wal_level(slot_type, wal_level, ok):
    problem = s.server_problem(params(slot_type=slot_type), 15,
                               dict(FACTS, wal_level=wal_level))
    assert (problem is None) == ok
    if not ok:
        assert "wal_level = %s" % wal_level in problem


def test_no_free_slot():
    problem = s.server_problem(params(), 15, dict(FACTS, slots_used=10))
    assert "10 of max_replication_slots = 10" in problem


def test_slot_query_columns_by_version():
    assert "s.two_phase AS two_phase" in s.slot_query(14)
    assert "NULL::boolean AS two_phase" in s.slot_query(13)
    assert "s.two_phase" not in s.slot_query(13)
    assert "s.failover AS failover" in s.slot_query(17)
    assert "NULL::boolean AS failover" in s.slot_query(16)
    assert "s.failover" not in s.slot_query(16)
    assert "s.two_phase AS two_phase" in s.slot_query(16)
    # Placeholder survives the version substitution.
    assert s.slot_query(17).endswith("WHERE s.slot_name = %(name)s")


def test_current_lsn_query_by_role():
    assert "pg_current_wal_lsn()" in s.current_lsn_query(False)
    standby = s.current_lsn_query(True)
    assert "pg_last_wal_receive_lsn()" in standby and "pg_current_wal_lsn" not in standby


# ------------------------------------------------------------------ SQL choice


def test_create_physical_statement():
    sql, args = s.create_statement(params(immediately_reserve=True))
    assert sql == s.CREATE_PHYSICAL_SQL and args == {"name": "slot_1", "reserve": True}


def test_create_logical_statements():
    sql, args = s.create_statement(params(slot_type="logical", output_plugin="test_decoding"))
    assert sql == s.CREATE_LOGICAL_SQL
    assert args == {"name": "slot_1", "plugin": "test_decoding"}
    sql, args = s.create_statement(params(slot_type="logical", two_phase=True))
    assert sql == s.CREATE_LOGICAL_TWO_PHASE_SQL and args["two_phase"] is True


def test_create_failover_statement_passes_it_as_a_parameter():
    sql, args = s.create_statement(params(slot_type="logical", failover=True))
    assert sql == s.CREATE_LOGICAL_FAILOVER_SQL
    assert args == {"name": "slot_1", "plugin": "pgoutput", "two_phase": False,
                    "failover": True}
    assert sql.endswith("%(two_phase)s, %(failover)s)")
    sql, args = s.create_statement(params(slot_type="logical", failover=True, two_phase=True))
    assert sql == s.CREATE_LOGICAL_FAILOVER_SQL and args["two_phase"] is True
    # failover: false is the server's default: the plain statement, as for two_phase.
    sql, args = s.create_statement(params(slot_type="logical", failover=False))
    assert sql == s.CREATE_LOGICAL_SQL and "failover" not in args


def test_statements_never_embed_values():
    for sql in (s.CREATE_PHYSICAL_SQL, s.CREATE_LOGICAL_SQL, s.CREATE_LOGICAL_TWO_PHASE_SQL,
                s.CREATE_LOGICAL_FAILOVER_SQL, s.DROP_SQL, s.TERMINATE_SQL, s.slot_query(15),
                s.slot_query(17)):
        assert "'" not in sql.replace("'wal_level'", "")
        assert "%(" in sql


# ------------------------------------------------------------------ decisions


def test_plan_present():
    assert s.plan(params(), None, "postgres") == "create"
    assert s.plan(params(), row(), "postgres") == "none"
    assert s.plan(params(slot_type="logical"), logical_row(), "postgres") == "none"


def test_plan_present_type_mismatch_fails():
    with pytest.raises(s.SlotError, match="exists as a physical slot, not logical"):
        s.plan(params(slot_type="logical"), row(), "postgres")
    with pytest.raises(s.SlotError, match="exists as a logical slot, not physical"):
        s.plan(params(), logical_row(), "postgres")


def test_plan_logical_plugin_database_two_phase_mismatch():
    p = params(slot_type="logical")
    with pytest.raises(s.SlotError, match="output plugin 'test_decoding', not 'pgoutput'"):
        s.plan(p, logical_row(plugin="test_decoding"), "postgres")
    with pytest.raises(s.SlotError, match="database 'shop', not 'postgres'"):
        s.plan(p, logical_row(database="shop"), "postgres")
    with pytest.raises(s.SlotError, match="two_phase"):
        s.plan(params(slot_type="logical", two_phase=True), logical_row(), "postgres")
    # Unset two_phase is not compared; PostgreSQL 13 (None) has nothing to compare.
    assert s.plan(p, logical_row(two_phase=True), "postgres") == "none"
    assert s.plan(params(slot_type="logical", two_phase=False),
                  logical_row(two_phase=None), "postgres") == "none"


def test_plan_logical_failover_mismatch():
    with pytest.raises(s.SlotError) as err:
        s.plan(params(slot_type="logical", failover=True), logical_row(), "postgres")
    assert str(err.value) == (
        "logical replication slot 'slot_1' has failover = False, not True")
    with pytest.raises(s.SlotError, match="failover = True, not False"):
        s.plan(params(slot_type="logical", failover=False), logical_row(failover=True),
               "postgres")
    assert s.plan(params(slot_type="logical", failover=True), logical_row(failover=True),
                  "postgres") == "none"
    # Unset failover is not compared; before PostgreSQL 17 (None) there is nothing to compare.
    assert s.plan(params(slot_type="logical"), logical_row(failover=True),
                  "postgres") == "none"
    assert s.plan(params(slot_type="logical", failover=False),
                  logical_row(failover=None), "postgres") == "none"


def test_plan_absent():
    absent = params(state="absent")
    assert s.plan(absent, None, "postgres") == "none"
    assert s.plan(absent, row(), "postgres") == "drop"
    # Absent drops whatever holds the name, whatever type was asked.
    assert s.plan(params(state="absent", slot_type="logical"), row(), "x") == "drop"


def test_plan_absent_active_names_the_consumer():
    active = row(active=True, active_pid=4242, application_name="standby1",
                 client_addr="10.0.0.2", backend_type="walsender")
    with pytest.raises(s.SlotError) as err:
        s.plan(params(state="absent"), active, "postgres")
    msg = str(err.value)
    assert "pid 4242" in msg and "'standby1'" in msg and "10.0.0.2" in msg
    assert "terminate_active" in msg
    assert s.plan(params(state="absent", terminate_active=True), active,
                  "postgres") == "terminate_and_drop"


def test_describe_consumer_without_address():
    text = s.describe_consumer(row(active_pid=7, application_name=None, client_addr=None))
    assert text == "pid 7 (application_name '', client local socket)"


def test_slot_result_computes_retained_bytes():
    result = s.slot_result(row(restart_lsn="0/3000000", wal_status="reserved"), "0/3000100")
    assert result["retained_bytes"] == 0x100 and result["name"] == "slot_1"
    assert set(result) == {"name", "type", "plugin", "database", "active", "active_pid",
                           "restart_lsn", "confirmed_flush_lsn", "wal_status",
                           "safe_wal_size", "two_phase", "failover", "retained_bytes"}
    assert s.slot_result(logical_row(failover=True), "0/1")["failover"] is True
    assert s.slot_result(row(), "0/3000100")["retained_bytes"] is None
    assert s.slot_result(None, "0/1") is None


# ------------------------------------------------------------------ terminate and drop


class FakeServer:
    """A slot whose consumer reconnects ``reconnects`` times after being terminated."""

    def __init__(self, reconnects=0, exits_after_polls=1):
        self.pid = 100
        self.active = True
        self.exists = True
        self.reconnects = reconnects
        self.exits_after_polls = exits_after_polls
        self.pending_exit = None
        self.terminated = []
        self.now = 0.0

    def read(self):
        if self.pending_exit is not None:
            self.pending_exit -= 1
            if self.pending_exit <= 0:
                self.pending_exit = None
                self.active = False
        if not self.exists:
            return None
        return row(active=self.active, active_pid=self.pid if self.active else None)

    def terminate(self, pid):
        self.terminated.append(pid)
        self.pending_exit = self.exits_after_polls

    def drop(self):
        if self.reconnects:  # the consumer grabs the slot again before our drop
            self.reconnects -= 1
            self.pid += 1
            self.active = True
            raise s.SlotInUse()
        self.exists = False

    def sleep(self, seconds):
        self.now += seconds

    def run(self, **kw):
        return s.drop_with_termination(self.read, self.terminate, self.drop, "slot_1",
                                       clock=lambda: self.now, sleep=self.sleep, **kw)


def test_terminate_then_drop():
    server = FakeServer(exits_after_polls=3)
    assert server.run() == [100]
    assert not server.exists


def test_a_reconnecting_consumer_is_terminated_again():
    server = FakeServer(reconnects=2)
    assert server.run() == [100, 101, 102]
    assert not server.exists


def test_a_consumer_that_keeps_coming_back_fails_clearly():
    server = FakeServer(reconnects=10)
    with pytest.raises(s.SlotError, match="keeps reconnecting") as err:
        server.run(max_terminations=3)
    assert server.exists and server.terminated == [100, 101, 102]
    assert "pid 103" in str(err.value)


def test_a_consumer_that_never_exits_hits_the_timeout():
    server = FakeServer(exits_after_polls=10 ** 9)
    with pytest.raises(s.SlotError, match="still in use"):
        server.run(timeout=2.0)
    assert server.terminated == [100] and server.now <= 2.0 + s.POLL_INTERVAL * 2


def test_slot_gone_meanwhile_is_success():
    server = FakeServer()
    server.exists = False
    assert server.run() == []
