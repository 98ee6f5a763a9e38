"""pg_replication_status on a real primary and its real streaming standby, through ansible."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .pgcluster import SUPERUSER_PASSWORD, Lab, free_port

MODULE = "pg_replication_status"
REPO = Path(__file__).resolve().parents[2]


def _standby1(result):
    rows = [s for s in result["standbys"] if s["application_name"] == "standby1"]
    assert len(rows) == 1, result["standbys"]
    return rows[0]


def _wait_until(lab, query, args, what):
    """Poll a boolean query on the standby (test premise only, not under test)."""
    deadline = time.monotonic() + 30
    while not lab.standby.scalar(query, args):
        if time.monotonic() > deadline:
            raise AssertionError("standby did not %s" % what)
        time.sleep(0.1)


def _wait_replayed(lab):
    """Let the standby replay everything the primary wrote so far."""
    target = lab.primary.scalar("SELECT pg_current_wal_lsn()::text")
    _wait_until(lab, "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,),
                "replay up to %s" % target)


def _wait_received(lab):
    """Let the standby receive everything the primary wrote so far."""
    target = lab.primary.scalar("SELECT pg_current_wal_lsn()::text")
    _wait_until(lab, "SELECT pg_last_wal_receive_lsn() >= %s::pg_lsn", (target,),
                "receive up to %s" % target)


def test_primary_status_shows_standby_streaming(module, lab):
    result = module(MODULE, {})
    assert not result.failed, result.msg
    assert result.changed is False
    assert result["role"] == "primary" and result["in_recovery"] is False
    assert result["server_major"] == result["server_version_num"] // 10000 >= 13
    assert result["server_version"].startswith(str(result["server_major"]))
    assert isinstance(result["timeline"], int) and result["timeline"] >= 1
    assert "/" in result["current_lsn"]
    assert result["polls"] == 1

    standby = _standby1(result)
    assert standby["state"] == "streaming"
    assert standby["sync_state"] == "async"
    assert standby["client_addr"] == "127.0.0.1"
    for kind in ("sent", "write", "flush", "replay"):
        assert isinstance(standby[kind + "_lag_bytes"], int), standby
        assert standby[kind + "_lag_bytes"] >= 0
        assert "/" in standby[kind + "_lsn"]
    for kind in ("write", "flush", "replay"):
        assert standby[kind + "_lag"] is None or isinstance(standby[kind + "_lag"], float)
    assert standby["backend_start"] and standby["reply_time"]
    # The test clusters run without ssl: the join on pg_stat_ssl still gives the row.
    assert standby["ssl"] is False and standby["ssl_version"] is None

    slots = {s["slot_name"]: s for s in result["slots"]}
    slot = slots["standby1"]
    assert slot["slot_type"] == "physical"
    assert slot["active"] is True and isinstance(slot["active_pid"], int)
    assert slot["wal_status"] == "reserved"
    assert isinstance(slot["retained_bytes"], int) and slot["retained_bytes"] >= 0


def test_standby_status_shows_wal_receiver_streaming(module, lab):
    # A fresh receiver shows NULL written/latest_end positions until WAL arrives: send some.
    lab.primary.sql("CREATE TABLE IF NOT EXISTS status_receiver(i int)")
    lab.primary.sql("INSERT INTO status_receiver VALUES (1)")
    _wait_replayed(lab)
    result = module(MODULE, {}, node=lab.standby)
    assert not result.failed, result.msg
    assert result.changed is False
    assert result["role"] == "standby" and result["in_recovery"] is True
    assert isinstance(result["timeline"], int) and result["timeline"] >= 1
    receiver = result["wal_receiver"]
    assert receiver["status"] == "streaming"
    assert receiver["slot_name"] == "standby1"
    assert receiver["sender_host"] == "127.0.0.1"
    assert receiver["sender_port"] == lab.primary.port
    for key in ("written_lsn", "flushed_lsn", "latest_end_lsn"):
        assert "/" in receiver[key]
    assert receiver["last_msg_send_time"] and receiver["last_msg_receipt_time"]
    # PostgreSQL hides the password that pg_basebackup -R wrote; the module never adds it.
    assert SUPERUSER_PASSWORD not in result.stdout
    assert "password=********" in receiver["conninfo"]
    assert isinstance(result["replay_lag_bytes"], int) and result["replay_lag_bytes"] >= 0
    assert result["replay_paused"] is False
    assert result["replay_pause_state"] == "not paused"
    assert "/" in result["receive_lsn"] and "/" in result["replay_lsn"]
    assert "standbys" not in result.result


def test_check_mode_reads_the_same_and_changes_nothing(module, lab):
    result = module(MODULE, {}, check=True)
    assert not result.failed, result.msg
    assert result.changed is False
    assert _standby1(result)["state"] == "streaming"
    standby = module(MODULE, {"wait_for_streaming": True, "timeout": 10}, check=True,
                     node=lab.standby)
    assert not standby.failed, standby.msg
    assert standby.changed is False and standby["wal_receiver"]["status"] == "streaming"


def test_wait_for_count_of_standbys(module):
    result = module(MODULE, {"wait_for_standbys": 1, "timeout": 30, "poll_interval": 0.2})
    assert not result.failed, result.msg
    assert result.changed is False
    assert _standby1(result)["state"] == "streaming"


def test_wait_for_named_standby(module):
    result = module(MODULE, {"wait_for_standbys": ["standby1"], "timeout": 30})
    assert not result.failed, result.msg
    assert _standby1(result)["state"] == "streaming"


def test_wait_for_missing_standby_times_out_with_last_status(module):
    result = module(MODULE, {"wait_for_standbys": ["nope"], "timeout": 2,
                             "poll_interval": 0.5})
    assert result.failed
    assert "timed out after 2s" in result.msg
    assert "standby 'nope' streaming (not connected)" in result.msg
    # The message and the result both carry the last status read.
    assert "standby1 (streaming" in result.msg
    assert _standby1(result)["state"] == "streaming"
    assert result["polls"] >= 2
    assert result.changed is False


def test_wait_for_more_standbys_than_exist_times_out(module):
    result = module(MODULE, {"wait_for_standbys": 2, "timeout": 0})
    assert result.failed
    assert "at least 2 streaming standby(s) (found 1)" in result.msg
    assert result["polls"] == 1


def test_max_lag_bytes_after_a_write(module, lab):
    lab.primary.sql("CREATE TABLE IF NOT EXISTS status_lag(i int)")
    lab.primary.sql("INSERT INTO status_lag SELECT generate_series(1, 5000)")
    _wait_replayed(lab)
    result = module(MODULE, {"wait_for_standbys": ["standby1"], "max_lag_bytes": 1048576,
                             "timeout": 60, "poll_interval": 0.2})
    assert not result.failed, result.msg
    assert _standby1(result)["replay_lag_bytes"] <= 1048576
    on_standby = module(MODULE, {"wait_for_streaming": True, "max_lag_bytes": 1048576,
                                 "timeout": 60, "poll_interval": 0.2}, node=lab.standby)
    assert not on_standby.failed, on_standby.msg
    assert on_standby["replay_lag_bytes"] <= 1048576


def test_paused_replay_is_reported_and_fails_max_lag(module, lab):
    lab.standby.sql("SELECT pg_wal_replay_pause()")
    try:
        lab.primary.sql("CREATE TABLE IF NOT EXISTS status_paused(i int)")
        lab.primary.sql("INSERT INTO status_paused SELECT generate_series(1, 1000)")
        _wait_received(lab)

        standby = module(MODULE, {"max_lag_bytes": 0, "timeout": 0}, node=lab.standby)
        assert standby.failed
        assert standby["replay_paused"] is True
        assert standby["replay_pause_state"] in ("pause requested", "paused")
        assert standby["replay_lag_bytes"] > 0
        assert "received-to-replayed replay lag <= 0 bytes (is %d)" % (
            standby["replay_lag_bytes"]) in standby.msg

        primary = module(MODULE, {"wait_for_standbys": ["standby1"], "max_lag_bytes": 0,
                                  "timeout": 1, "poll_interval": 0.3})
        assert primary.failed
        lag = _standby1(primary)["replay_lag_bytes"]
        assert lag > 0
        assert "standby 'standby1' replay lag <= 0 bytes (is %d)" % lag in primary.msg
    finally:
        lab.standby.sql("SELECT pg_wal_replay_resume()")
    _wait_replayed(lab)


def test_wait_for_standbys_on_a_standby_is_refused(module, lab):
    result = module(MODULE, {"wait_for_standbys": 1, "timeout": 30}, node=lab.standby)
    assert result.failed
    assert "wait_for_standbys applies to a primary" in result.msg
    assert "wait_for_streaming" in result.msg
    assert result["role"] == "standby" and result["polls"] == 1


def test_wait_for_streaming_on_a_primary_is_refused(module):
    result = module(MODULE, {"wait_for_streaming": True, "timeout": 30})
    assert result.failed
    assert "wait_for_streaming applies to a standby" in result.msg


def test_conflicting_wait_options_fail_before_connecting(module, lab):
    args = dict(lab.primary.conn_args, login_port=free_port(),
                wait_for_standbys=1, wait_for_streaming=True)
    result = module(MODULE, args)
    assert result.failed
    assert "use one of them, not both" in result.msg


def test_bad_wait_for_standbys_fails_before_connecting(module, lab):
    result = module(MODULE, {"wait_for_standbys": -1, "login_port": free_port()})
    assert result.failed and "must not be negative" in result.msg
    result = module(MODULE, {"wait_for_standbys": ["x" * 64], "login_port": free_port()})
    assert result.failed and "longer than 63 bytes" in result.msg


def test_wrong_password_is_a_clear_error(module):
    result = module(MODULE, {"login_password": "wrong-password"})
    assert result.failed
    assert result.msg.startswith("authentication failed for postgres@127.0.0.1:")
    assert "wrong-password" not in result.msg


def test_unreachable_port_is_a_clear_error(module):
    port = free_port()
    result = module(MODULE, {"login_port": port, "connect_timeout": 5})
    assert result.failed
    assert result.msg.startswith("cannot connect to PostgreSQL at postgres@127.0.0.1:%d/" % port)


def test_archiver_counts_on_both_roles_and_archive_size(module, lab, tmp_path):
    (tmp_path / "000000010000000000000001").write_bytes(b"w" * 4096)
    (tmp_path / "00000002.history").write_bytes(b"h" * 10)
    (tmp_path / "subdir").mkdir()
    result = module(MODULE, {"archive_dir": str(tmp_path)})
    assert not result.failed, result.msg
    archiver = result["archiver"]
    # The session lab does not archive: counts readable, all zero, nothing archived yet.
    assert archiver["archive_mode"] == "off"
    assert archiver["archived_count"] == 0 and archiver["failed_count"] == 0
    assert archiver["last_archived_wal"] is None and archiver["last_failed_wal"] is None
    assert archiver["stats_reset"]
    assert result["archive"] == {"path": str(tmp_path), "exists": True, "bytes": 4106,
                                 "files": 2, "error": None}

    standby = module(MODULE, {}, node=lab.standby)
    assert not standby.failed, standby.msg
    assert standby["archiver"]["archived_count"] == 0
    assert "archive" not in standby.result

    missing = module(MODULE, {"archive_dir": str(tmp_path / "missing")})
    assert not missing.failed, missing.msg
    assert missing["archive"]["exists"] is False and missing["archive"]["bytes"] is None


def _lsn(text):
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def test_standby_wal_receiver_matches_the_server(module, lab):
    lab.primary.sql("CREATE TABLE IF NOT EXISTS status_match(i int)")
    lab.primary.sql("INSERT INTO status_match VALUES (1)")
    written = lab.primary.scalar("SELECT pg_current_wal_lsn()::text")
    _wait_replayed(lab)

    result = module(MODULE, {}, node=lab.standby)
    assert not result.failed, result.msg
    # Read after the module: positions only move forward, the rest must be equal.
    server = dict(zip(
        ("status", "sender_host", "sender_port", "slot_name", "flushed_lsn", "received_tli"),
        lab.standby.sql("SELECT status, sender_host, sender_port, slot_name,"
                        " flushed_lsn::text, received_tli FROM pg_stat_wal_receiver")[0]))
    after = dict(zip(("receive", "replay", "delay"), lab.standby.sql(
        "SELECT pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text,"
        " extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8")[0]))
    primary_lsn = lab.primary.scalar("SELECT pg_current_wal_lsn()::text")
    primary_tli = int(lab.primary.scalar(
        "SELECT pg_walfile_name(pg_current_wal_lsn())")[:8], 16)

    receiver = result["wal_receiver"]
    assert receiver["status"] == server["status"] == "streaming"
    assert receiver["slot_name"] == server["slot_name"] == "standby1"
    assert receiver["sender_host"] == server["sender_host"] == "127.0.0.1"
    assert receiver["sender_port"] == server["sender_port"] == lab.primary.port
    assert receiver["received_tli"] == server["received_tli"] == primary_tli
    assert result["timeline"] == primary_tli
    # written <= replayed <= received (flushed) <= the server's later reading <= the primary.
    assert _lsn(written) <= _lsn(result["replay_lsn"]) <= _lsn(result["receive_lsn"])
    assert _lsn(result["receive_lsn"]) <= _lsn(after["receive"]) <= _lsn(primary_lsn)
    assert _lsn(written) <= _lsn(receiver["flushed_lsn"]) <= _lsn(server["flushed_lsn"])
    assert _lsn(result["replay_lsn"]) <= _lsn(after["replay"])
    assert result["replay_lag_bytes"] == (
        _lsn(result["receive_lsn"]) - _lsn(result["replay_lsn"]))
    # A transaction was replayed: the delay is its age, read a moment before the server's.
    delay = result["replay_delay_seconds"]
    assert isinstance(delay, float) and 0 <= delay <= after["delay"]
    assert result["last_replay_time"]


# ------------------------------------------------------------------ playbooks/status.yml


def _local(port):
    """A node reached without SSH or become; the module reads the lab's socket dir."""
    return {"ansible_connection": "local", "ansible_become": False, "postgresql_port": port}


def _inventory(lab, primary, standby):
    return {"all": {
        "vars": {"ansible_python_interpreter": sys.executable,
                 "status_unix_socket": str(lab.sockdir)},
        "children": {"primary": {"hosts": primary}, "standby": {"hosts": standby}}}}


def _status_playbook(tmp_path, inventory, *extra):
    """Run playbooks/status.yml; returns (rc, output with whitespace flattened, output)."""
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps(inventory))
    # The test servers want a password on their socket too: libpq reads it from here.
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0", PGPASSWORD=SUPERUSER_PASSWORD)
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(path),
         str(REPO / "playbooks/status.yml"), *extra],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    output = proc.stdout + proc.stderr
    return proc.returncode, " ".join(output.split()), output


def test_status_playbook_shows_every_node(lab, tmp_path):
    _wait_replayed(lab)
    inventory = _inventory(lab, {"pg-primary": _local(lab.primary.port)},
                           {"pg-standby": _local(lab.standby.port)})
    rc, flat, output = _status_playbook(tmp_path, inventory)
    assert rc == 0, output
    timeline = int(lab.primary.scalar("SELECT pg_walfile_name(pg_current_wal_lsn())")[:8], 16)
    for fragment in (
            "role primary (not in recovery), timeline %d" % timeline,
            "standby state sync tls replay lag bytes lag s",
            "standby1 streaming async no ",
            "standby1 physical True reserved",
            "role standby (in recovery)",
            "wal receiver streaming",
            "sender 127.0.0.1:%d" % lab.primary.port,
            "slot standby1",
            "timeline %d" % timeline,
            "replay not paused",
            "pg-primary primary primary no ok, 1 standby(s) streaming (standby1)",
            "pg-standby standby standby yes ok, streams from 127.0.0.1:%d, lag" % lab.primary.port):
        assert fragment in flat, fragment + "\n" + output
    assert "!!" not in flat and SUPERUSER_PASSWORD not in output


def test_status_playbook_reports_down_and_unreachable_nodes_and_shows_the_others(lab, tmp_path):
    inventory = _inventory(lab, {"pg-primary": _local(lab.primary.port)}, {
        "pg-standby": _local(lab.standby.port),
        "pg-down": _local(free_port()),  # nothing listens there: PostgreSQL is not running
        "pg-gone": {"ansible_connection": "ssh", "ansible_host": "127.0.0.1",
                    "ansible_port": free_port()},  # SSH refused: unreachable
    })
    rc, flat, output = _status_playbook(tmp_path, inventory)
    assert rc != 0, output
    for fragment in ("wal receiver streaming", "slot standby1",
                     "pg-down standby - - !! NO STATUS (is PostgreSQL running?): cannot connect",
                     "pg-gone standby - - !! UNREACHABLE:",
                     "pg-primary primary primary no ok, 1 standby(s) streaming (standby1)",
                     "pg-standby standby standby yes ok, streams from",
                     "Fail when a node is unreachable, down, misplaced or not streaming"):
        assert fragment in flat, fragment + "\n" + output
    assert "pg-primary: " not in flat and "pg-standby: " not in flat


def test_status_playbook_flags_a_misplaced_inventory(lab, tmp_path):
    inventory = _inventory(lab, {"pg-standby": _local(lab.standby.port)},
                           {"pg-primary": _local(lab.primary.port)})
    rc, flat, output = _status_playbook(tmp_path, inventory)
    assert rc != 0, output
    for fragment in (
            "pg-primary standby primary no !! MISPLACED: in group standby but NOT IN RECOVERY",
            "pg-standby primary standby yes !! MISPLACED: in group primary but IN RECOVERY",
            # Both views are still printed, each by its real role.
            "standby1 streaming async", "wal receiver streaming"):
        assert fragment in flat, fragment + "\n" + output


def test_status_playbook_waits_on_the_primary_only(lab, tmp_path):
    inventory = _inventory(lab, {"pg-primary": _local(lab.primary.port)},
                           {"pg-standby": _local(lab.standby.port)})
    rc, flat, output = _status_playbook(tmp_path, inventory, "-e", "status_wait_for_standbys=1",
                                        "-e", "status_timeout=30")
    assert rc == 0, output
    rc, flat, output = _status_playbook(
        tmp_path, inventory, "-e", json.dumps({"status_wait_for_standbys": ["standby1"]}))
    assert rc == 0, output

    rc, flat, output = _status_playbook(tmp_path, inventory, "-e", "status_wait_for_standbys=2",
                                        "-e", "status_timeout=1")
    assert rc != 0, output
    for fragment in ("pg-primary primary primary no !! FAILED: timed out after 1s",
                     "at least 2 streaming standby(s) (found 1)",
                     "pg-standby standby standby yes ok, streams from",
                     "standby1 streaming async"):
        assert fragment in flat, fragment + "\n" + output


@pytest.fixture
def lone_standby():
    """A lab of its own whose primary is stopped: the standby keeps running, not streaming."""
    own = Lab().start()
    own.primary.stop()
    yield own
    own.stop()


def test_status_playbook_shows_a_standby_that_does_not_stream(lone_standby, tmp_path):
    lab = lone_standby
    inventory = _inventory(lab, {"pg-primary": _local(lab.primary.port)},
                           {"pg-standby": _local(lab.standby.port)})
    rc, flat, output = _status_playbook(tmp_path, inventory)
    assert rc != 0, output
    assert "role standby (in recovery)" in flat, output
    assert "pg-primary primary - - !! NO STATUS" in flat, output
    assert "pg-standby standby standby yes !! NOT STREAMING: " in flat, output
