"""Pure logic of pg_replication_status: SQL per role/version, result shaping, the wait."""

import datetime
import decimal

import pytest
import yaml

from ansible_collections.pgrepl.streaming.plugins.doc_fragments.connection import (
    ModuleDocFragment,
)
from ansible_collections.pgrepl.streaming.plugins.module_utils import status_sql as q
from ansible_collections.pgrepl.streaming.plugins.module_utils import status_wait as w
from ansible_collections.pgrepl.streaming.plugins.modules import pg_replication_status as mod

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 1, 5, 10, 11, 12, 500000, tzinfo=UTC)


# ------------------------------------------------------------------ argument spec vs docs


def _doc_options():
    options = dict(yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"])
    options.update(yaml.safe_load(mod.DOCUMENTATION)["options"])
    return options


def test_argument_spec_matches_documentation():
    spec = mod.argument_spec()
    docs = _doc_options()
    assert set(spec) == set(docs)
    for name, option in spec.items():
        doc = docs[name]
        assert option.get("type", "str") == doc.get("type", "str"), name
        assert option.get("default") == doc.get("default"), name
        assert option.get("aliases", []) == doc.get("aliases", []), name
        assert option.get("choices") == doc.get("choices"), name


def test_documentation_declares_full_check_mode():
    doc = yaml.safe_load(mod.DOCUMENTATION)
    assert doc["attributes"]["check_mode"]["support"] == "full"
    assert doc["extends_documentation_fragment"] == ["pgrepl.streaming.connection"]
    returned = yaml.safe_load(mod.RETURN)
    for key in ("role", "server_version", "timeline", "current_lsn", "standbys", "slots",
                "wal_receiver", "replay_lag_bytes", "replay_lag_seconds", "replay_paused",
                "replay_delay_seconds",
                "archiver", "archive"):
        assert key in returned, key


# ------------------------------------------------------------------ SQL per role and version


@pytest.mark.parametrize("major", [13, 14, 15, 16, 17])
def test_primary_queries_read_position_last(major):
    queries = q.queries_for("primary", major)
    assert list(queries) == ["archiver", "standbys", "slots", "position"]
    assert "pg_stat_replication" in queries["standbys"]
    assert "reply_time" in queries["standbys"]
    assert "LEFT JOIN pg_stat_ssl" in queries["standbys"]
    assert "wal_status" in queries["slots"] and "safe_wal_size" in queries["slots"]
    assert "pg_current_wal_lsn()" in queries["position"]


@pytest.mark.parametrize(("major", "inactive"), [(13, False), (16, False), (17, True)])
def test_slot_inactive_since_only_from_17(major, inactive):
    slots = q.queries_for("primary", major)["slots"]
    assert ("NULL::timestamptz AS inactive_since" not in slots) is inactive
    assert "AS inactive_since" in slots


@pytest.mark.parametrize(("major", "function"), [
    (13, "pg_is_wal_replay_paused()"),
    (14, "pg_get_wal_replay_pause_state()"),
    (15, "pg_get_wal_replay_pause_state()"),
    (17, "pg_get_wal_replay_pause_state()"),
])
def test_standby_pause_state_function_per_version(major, function):
    queries = q.queries_for("standby", major)
    assert list(queries) == ["archiver", "wal_receiver", "position"]
    assert function in queries["position"]
    other = {"pg_is_wal_replay_paused()", "pg_get_wal_replay_pause_state()"} - {function}
    assert other.pop() not in queries["position"]


@pytest.mark.parametrize("major", [13, 17])
def test_wal_receiver_uses_13_plus_columns(major):
    sql = q.queries_for("standby", major)["wal_receiver"]
    assert "written_lsn" in sql and "flushed_lsn" in sql and "received_lsn" not in sql
    assert "conninfo" in sql


@pytest.mark.parametrize("major", [13, 17])
def test_standby_replay_delay_is_the_plain_age_of_the_last_replayed_transaction(major):
    position = q.queries_for("standby", major)["position"]
    # No CASE around it: unlike replay_lag_seconds it stays NULL until a transaction replayed.
    assert ("extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8"
            " AS replay_delay_seconds") in position


@pytest.mark.parametrize("role", ["primary", "standby"])
@pytest.mark.parametrize("major", [13, 14, 15, 16, 17])
def test_archiver_read_on_every_role_and_version(role, major):
    sql = q.queries_for(role, major)["archiver"]
    assert "FROM pg_stat_archiver" in sql
    for column in ("archived_count", "failed_count", "last_archived_wal", "last_archived_time",
                   "last_failed_wal", "last_failed_time", "current_setting('archive_mode')"):
        assert column in sql


def test_no_query_holds_a_placeholder_or_leftover_format_field():
    for role in ("primary", "standby"):
        for major in (13, 17):
            for sql in q.queries_for(role, major).values():
                assert "{" not in sql and "%s" not in sql


def test_unknown_role_is_an_error():
    with pytest.raises(ValueError, match="unknown server role"):
        q.queries_for("witness", 15)


# ------------------------------------------------------------------ shaping


def test_jsonable_values():
    assert q.jsonable(T0) == "2026-01-05T10:11:12.500000+00:00"
    assert q.jsonable(datetime.timedelta(seconds=2, milliseconds=250)) == 2.25
    assert q.jsonable(decimal.Decimal("16384")) == 16384
    assert q.jsonable(decimal.Decimal("1.5")) == 1.5
    assert q.jsonable("0/3000060") == "0/3000060"
    assert q.jsonable(None) is None


def test_timeline_of_walfile():
    assert q.timeline_of_walfile("000000010000000000000003") == 1
    assert q.timeline_of_walfile("0000001A0000000000000003") == 26
    assert q.timeline_of_walfile(None) is None


@pytest.mark.parametrize(("interval", "lag_bytes", "expected"), [
    (datetime.timedelta(milliseconds=1500), 8192, 1.5),
    (datetime.timedelta(0), 0, 0.0),
    (None, 0, 0.0),  # PostgreSQL's NULL once caught up and idle
    (None, 8192, None),  # not caught up and no sample: unknown
    (None, None, None),
])
def test_lag_seconds(interval, lag_bytes, expected):
    assert q.lag_seconds(interval, lag_bytes) == expected


def replication_row(**over):
    row = {"application_name": "standby1", "client_addr": "10.0.0.2",
           "client_hostname": None, "client_port": 40000, "pid": 123, "usename": "repl",
           "state": "streaming", "sync_state": "async", "sync_priority": 0,
           "sent_lsn": "0/3000100", "write_lsn": "0/3000100", "flush_lsn": "0/3000000",
           "replay_lsn": "0/2FFFF00", "write_lag": None,
           "flush_lag": datetime.timedelta(milliseconds=20),
           "replay_lag": datetime.timedelta(milliseconds=40),
           "backend_start": T0, "reply_time": T0}
    row.update(over)
    return row


def test_shape_standby_lags_against_current():
    out = q.shape_standby(replication_row(), "0/3000100")
    assert out["sent_lag_bytes"] == 0 and out["write_lag_bytes"] == 0
    assert out["flush_lag_bytes"] == 0x100
    assert out["replay_lag_bytes"] == 0x200
    assert out["write_lag"] == 0.0  # NULL interval, nothing unwritten
    assert out["flush_lag"] == 0.02 and out["replay_lag"] == 0.04
    assert out["backend_start"] == T0.isoformat()
    assert out["client_addr"] == "10.0.0.2" and out["state"] == "streaming"


def test_shape_standby_unknown_positions_stay_null():
    out = q.shape_standby(replication_row(state="startup", write_lsn=None, flush_lsn=None,
                                          replay_lsn=None, flush_lag=None, replay_lag=None),
                          "0/3000100")
    assert out["write_lag_bytes"] is None and out["replay_lag_bytes"] is None
    assert out["replay_lag"] is None


def test_shape_slot_retained_bytes():
    row = {"slot_name": "standby1", "slot_type": "physical", "active": True,
           "active_pid": 9, "wal_status": "reserved", "safe_wal_size": None,
           "restart_lsn": "0/2000000", "inactive_since": None}
    out = q.shape_slot(row, "0/3000000")
    assert out["retained_bytes"] == 0x1000000
    assert q.shape_slot(dict(row, restart_lsn=None), "0/3000000")["retained_bytes"] is None


def archiver_row(**over):
    row = {"archive_mode": "on", "archived_count": 12, "failed_count": 3,
           "last_archived_wal": "00000001000000000000000C", "last_archived_time": T0,
           "last_failed_wal": "00000001000000000000000D", "last_failed_time": T0,
           "stats_reset": T0}
    row.update(over)
    return row


def test_shape_archiver_is_json_data():
    out = q.shape_archiver([archiver_row(archived_count=decimal.Decimal("12"))])
    assert out == {"archive_mode": "on", "archived_count": 12, "failed_count": 3,
                   "last_archived_wal": "00000001000000000000000C",
                   "last_archived_time": T0.isoformat(),
                   "last_failed_wal": "00000001000000000000000D",
                   "last_failed_time": T0.isoformat(), "stats_reset": T0.isoformat()}
    assert isinstance(out["archived_count"], int)
    never = q.shape_archiver([archiver_row(archive_mode="off", archived_count=0, failed_count=0,
                                           last_archived_wal=None, last_archived_time=None,
                                           last_failed_wal=None, last_failed_time=None)])
    assert never["archived_count"] == 0 and never["last_failed_wal"] is None
    assert never["archive_mode"] == "off"
    assert q.shape_archiver([]) is None


ROLE_PRIMARY = {"in_recovery": False, "server_version": "15.8 (Debian 15.8-0+deb12u1)",
                "server_version_num": 150008}
ROLE_STANDBY = dict(ROLE_PRIMARY, in_recovery=True)


class FakeServer:
    """Answers each query by the first matching marker: shaping without a server."""

    def __init__(self, answers):
        self.answers = answers
        self.seen = []

    def fetch(self, conn, sql):
        self.seen.append(sql)
        for marker, rows in self.answers:
            if marker in sql:
                return rows
        raise AssertionError("unexpected query: %s" % sql)


def test_read_status_primary():
    server = FakeServer([
        ("pg_is_in_recovery()", [ROLE_PRIMARY]),
        ("pg_stat_archiver", [archiver_row()]),
        ("pg_stat_replication", [replication_row()]),
        ("pg_replication_slots", [{"slot_name": "standby1", "restart_lsn": "0/3000000"}]),
        ("pg_walfile_name", [{"current_lsn": "0/3000100",
                              "current_walfile": "000000020000000000000003"}]),
    ])
    status = q.read_status(None, server.fetch)
    assert status["role"] == "primary" and status["in_recovery"] is False
    assert status["server_major"] == 15 and status["server_version_num"] == 150008
    assert status["timeline"] == 2 and status["current_lsn"] == "0/3000100"
    assert status["standbys"][0]["replay_lag_bytes"] == 0x200
    assert status["slots"][0]["retained_bytes"] == 0x100
    assert "wal_receiver" not in status
    assert "pg_walfile_name" in server.seen[-1]
    assert status["archiver"]["failed_count"] == 3
    assert status["archiver"]["last_failed_time"] == T0.isoformat()


def _standby_position(**over):
    row = {"receive_lsn": "0/5000000", "replay_lsn": "0/4FFF000",
           "last_replay_time": T0, "replay_lag_seconds": 1.25,
           "replay_delay_seconds": 7.5,
           "replay_pause_state": "not paused", "checkpoint_timeline": 1}
    row.update(over)
    return row


def _receiver(**over):
    row = {"pid": 7, "status": "streaming", "sender_host": "pg1", "sender_port": 5432,
           "slot_name": "standby1", "written_lsn": "0/5000000", "flushed_lsn": "0/5000000",
           "received_tli": 3, "latest_end_lsn": "0/5000000", "latest_end_time": T0,
           "last_msg_send_time": T0, "last_msg_receipt_time": T0,
           "conninfo": "user=repl password=******** host=pg1"}
    row.update(over)
    return row


def test_read_status_standby():
    server = FakeServer([
        ("pg_is_in_recovery()", [ROLE_STANDBY]),
        ("pg_stat_archiver", [archiver_row(archive_mode="off", archived_count=0)]),
        ("pg_stat_wal_receiver", [_receiver()]),
        ("pg_last_wal_receive_lsn", [_standby_position()]),
    ])
    status = q.read_status(None, server.fetch)
    assert status["role"] == "standby" and status["in_recovery"] is True
    assert status["replay_lag_bytes"] == 0x1000
    assert status["replay_lag_seconds"] == 1.25
    assert status["replay_delay_seconds"] == 7.5
    assert status["replay_paused"] is False
    assert status["last_replay_time"] == T0.isoformat()
    assert status["timeline"] == 3  # the received timeline wins over the restartpoint's
    assert status["wal_receiver"]["last_msg_send_time"] == T0.isoformat()
    assert status["wal_receiver"]["conninfo"] == "user=repl password=******** host=pg1"
    assert "standbys" not in status and "slots" not in status
    assert status["archiver"]["archive_mode"] == "off"


@pytest.mark.parametrize(("state", "paused"), [
    ("not paused", False), ("pause requested", True), ("paused", True)])
def test_standby_without_receiver_and_pause_states(state, paused):
    server = FakeServer([
        ("pg_is_in_recovery()", [ROLE_STANDBY]),
        ("pg_stat_archiver", [archiver_row()]),
        ("pg_stat_wal_receiver", []),
        ("pg_last_wal_receive_lsn", [_standby_position(receive_lsn=None,
                                                       replay_pause_state=state,
                                                       last_replay_time=None,
                                                       replay_delay_seconds=None)]),
    ])
    status = q.read_status(None, server.fetch)
    assert status["wal_receiver"] is None
    assert status["last_replay_time"] is None and status["replay_delay_seconds"] is None
    assert status["timeline"] == 1
    assert status["replay_lag_bytes"] is None
    assert status["replay_paused"] is paused


# ------------------------------------------------------------------ archive directory size


def test_archive_usage_counts_regular_files_only(tmp_path):
    (tmp_path / "000000010000000000000001").write_bytes(b"x" * 1000)
    (tmp_path / "00000002.history").write_bytes(b"y" * 24)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "000000010000000000000002").write_bytes(b"z" * 5000)
    outside = tmp_path.parent / (tmp_path.name + "-outside")
    outside.write_bytes(b"o" * 7000)
    (tmp_path / "000000010000000000000003").symlink_to(outside)
    usage = mod.archive_usage(str(tmp_path))
    assert usage == {"path": str(tmp_path), "exists": True, "bytes": 1024, "files": 2,
                     "error": None}


def test_archive_usage_of_a_missing_or_unreadable_dir(tmp_path, monkeypatch):
    missing = mod.archive_usage(str(tmp_path / "nope"))
    assert missing["exists"] is False and missing["bytes"] is None
    assert missing["error"] == "does not exist"
    (tmp_path / "file").write_text("x")
    assert mod.archive_usage(str(tmp_path / "file"))["error"] == "not a directory"

    def denied(path):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(mod.os, "scandir", denied)
    usage = mod.archive_usage(str(tmp_path))
    assert usage["exists"] is True and usage["files"] is None
    assert usage["error"] == "Permission denied"


# ------------------------------------------------------------------ wait options


def spec_params(**over):
    params = {"wait_for_standbys": None, "wait_for_streaming": False, "max_lag_bytes": None,
              "timeout": 60, "poll_interval": 1.0}
    params.update(over)
    return params


@pytest.mark.parametrize(("value", "count", "names"), [
    (None, None, None),
    (0, 0, None),
    (2, 2, None),
    ("3", 3, None),
    (["pg2", "pg3"], None, ["pg2", "pg3"]),
    ("pg2, pg3", None, ["pg2", "pg3"]),
    ("pg2", None, ["pg2"]),
    ([], None, []),
])
def test_wait_for_standbys_forms(value, count, names):
    spec = w.parse_wait_spec(spec_params(wait_for_standbys=value))
    assert spec.count == count and spec.names == names
    assert spec.active is (value is not None)


@pytest.mark.parametrize(("value", "message"), [
    (True, "not a boolean"),
    (-1, "must not be negative"),
    ({"pg2": 1}, "got dict"),
    (["pg2", ""], "non-empty strings"),
    (["pg2", 3], "non-empty strings"),
    ("pg2,,pg3", "non-empty strings"),
    (["x" * 64], "longer than 63 bytes"),
])
def test_wait_for_standbys_rejects(value, message):
    with pytest.raises(ValueError, match=message):
        w.parse_wait_spec(spec_params(wait_for_standbys=value))


def test_name_of_63_bytes_is_accepted():
    assert w.parse_wait_spec(spec_params(wait_for_standbys=["x" * 63])).names == ["x" * 63]


@pytest.mark.parametrize(("over", "message"), [
    ({"wait_for_standbys": 1, "wait_for_streaming": True}, "not both"),
    ({"wait_for_standbys": [], "wait_for_streaming": True}, "not both"),
    ({"max_lag_bytes": -1}, "max_lag_bytes must not be negative"),
    ({"timeout": -1}, "timeout must not be negative"),
    ({"poll_interval": 0}, "poll_interval must be greater than 0"),
])
def test_invalid_combinations(over, message):
    with pytest.raises(ValueError, match=message):
        w.parse_wait_spec(spec_params(**over))


def test_wait_for_streaming_false_with_standbys_is_fine():
    spec = w.parse_wait_spec(spec_params(wait_for_standbys=1, wait_for_streaming=False))
    assert spec.count == 1 and not spec.streaming


def test_no_wait_option_means_no_wait():
    assert not w.parse_wait_spec(spec_params()).active
    assert w.parse_wait_spec(spec_params(max_lag_bytes=0)).active


def test_role_conflicts():
    primary_wait = w.WaitSpec(count=1)
    standby_wait = w.WaitSpec(streaming=True)
    assert "this server is a standby" in w.role_conflict(primary_wait, "standby")
    assert "this server is a primary" in w.role_conflict(standby_wait, "primary")
    assert w.role_conflict(primary_wait, "primary") is None
    assert w.role_conflict(standby_wait, "standby") is None
    # max_lag_bytes alone means something on both roles.
    assert w.role_conflict(w.WaitSpec(max_lag_bytes=0), "standby") is None


# ------------------------------------------------------------------ wait condition


def standby(name, state="streaming", lag=0):
    return {"application_name": name, "state": state, "replay_lag_bytes": lag}


def primary_status(*standbys):
    return {"role": "primary", "current_lsn": "0/3000000", "standbys": list(standbys)}


def standby_status(receiver_status="streaming", lag=0):
    receiver = None if receiver_status is None else {
        "status": receiver_status, "sender_host": "pg1", "sender_port": 5432}
    return {"role": "standby", "receive_lsn": "0/3", "replay_lsn": "0/3",
            "replay_lag_bytes": lag, "wal_receiver": receiver}


def test_count_counts_only_streaming():
    spec = w.WaitSpec(count=2)
    assert w.unmet(spec, primary_status(standby("a"), standby("b", "catchup"))) == [
        "at least 2 streaming standby(s) (found 1)"]
    assert w.unmet(spec, primary_status(standby("a"), standby("b"))) == []
    assert w.unmet(w.WaitSpec(count=0), primary_status()) == []


def test_names_must_each_stream():
    spec = w.WaitSpec(names=["a", "b", "c"])
    status = primary_status(standby("a"), standby("b", "catchup"))
    assert w.unmet(spec, status) == ["standby 'b' streaming (state catchup)",
                                     "standby 'c' streaming (not connected)"]
    # Two senders with one name (a restart in progress): one streaming is enough.
    assert w.unmet(w.WaitSpec(names=["b"]),
                   primary_status(standby("b", "startup"), standby("b"))) == []


def test_max_lag_on_named_standbys_only():
    spec = w.WaitSpec(names=["a"], max_lag_bytes=100)
    status = primary_status(standby("a", lag=50), standby("archiver", lag=None))
    assert w.unmet(spec, status) == []
    status = primary_status(standby("a", lag=150))
    assert w.unmet(spec, status) == ["standby 'a' replay lag <= 100 bytes (is 150)"]


def test_max_lag_without_names_checks_all_but_base_backups():
    spec = w.WaitSpec(max_lag_bytes=100)
    status = primary_status(standby("a", lag=10), standby("pg_basebackup", "backup", None))
    assert w.unmet(spec, status) == []
    status = primary_status(standby("a", lag=10), standby("pg_receivewal", lag=None))
    assert w.unmet(spec, status) == [
        "standby 'pg_receivewal' replay lag <= 100 bytes (replay position unknown)"]
    assert w.unmet(spec, primary_status()) == []


def test_standby_conditions():
    spec = w.WaitSpec(streaming=True, max_lag_bytes=0)
    assert w.unmet(spec, standby_status()) == []
    assert w.unmet(spec, standby_status("starting")) == [
        "WAL receiver streaming (status starting)"]
    assert w.unmet(spec, standby_status(None, lag=None)) == [
        "WAL receiver streaming (no WAL receiver running)",
        "received-to-replayed replay lag <= 0 bytes (replay position unknown)"]
    assert w.unmet(spec, standby_status(lag=8)) == [
        "received-to-replayed replay lag <= 0 bytes (is 8)"]


def test_role_change_while_waiting_is_never_met():
    reasons = w.unmet(w.WaitSpec(count=0), standby_status())
    assert len(reasons) == 1 and "this server is a standby" in reasons[0]


def test_summaries():
    text = w.summary(primary_status(standby("a", lag=5), standby("b", "catchup", None)))
    assert text == ("primary at 0/3000000; standbys: a (streaming, replay lag 5 bytes), "
                    "b (catchup, replay lag None bytes)")
    assert w.summary(primary_status()).endswith("standbys: none connected")
    assert w.summary(standby_status()) == (
        "standby replayed to 0/3 (received 0/3); WAL receiver streaming from pg1:5432")
    assert w.summary(standby_status(None)).endswith("; no WAL receiver")


# ------------------------------------------------------------------ polling


class Clock:
    """A fake monotonic clock that only moves when the waiter sleeps."""

    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def reader(*statuses):
    queue = list(statuses)

    def read():
        return queue.pop(0) if len(queue) > 1 else queue[0]
    return read


def test_wait_returns_once_met():
    clock = Clock()
    read = reader(primary_status(standby("a", "startup")), primary_status(standby("a")))
    spec = w.WaitSpec(names=["a"], timeout=10, poll_interval=0.5)
    status, polls = w.wait_for(spec, read, primary_status(), clock=clock, sleep=clock.sleep)
    assert polls == 3 and status["standbys"][0]["state"] == "streaming"
    assert clock.sleeps == [0.5, 0.5]


def test_wait_takes_a_first_reading_when_none_given():
    clock = Clock()
    spec = w.WaitSpec(count=1)
    status, polls = w.wait_for(spec, reader(primary_status(standby("a"))), clock=clock,
                               sleep=clock.sleep)
    assert polls == 1 and clock.sleeps == []
    assert status["standbys"][0]["application_name"] == "a"


def test_wait_times_out_with_reasons_and_last_status():
    clock = Clock()
    last = primary_status(standby("a", lag=7))
    spec = w.WaitSpec(names=["nope"], timeout=2, poll_interval=0.75)
    with pytest.raises(w.WaitTimeout) as err:
        w.wait_for(spec, reader(last), clock=clock, sleep=clock.sleep)
    assert err.value.status is last
    assert err.value.polls == 4
    assert clock.sleeps == [0.75, 0.75, 0.5]  # never sleeps past the deadline
    assert str(err.value) == (
        "timed out after 2s (4 checks) waiting for: standby 'nope' streaming (not connected)."
        " Last status: primary at 0/3000000; standbys: a (streaming, replay lag 7 bytes)")


def test_timeout_zero_checks_once():
    clock = Clock()
    with pytest.raises(w.WaitTimeout) as err:
        w.wait_for(w.WaitSpec(count=1, timeout=0), reader(primary_status()), clock=clock,
                   sleep=clock.sleep)
    assert err.value.polls == 1 and clock.sleeps == []
