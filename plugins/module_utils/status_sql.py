# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ``pg_replication_status`` reads, per server role and major version, and how rows
become the module's result. Pure apart from ``read_status``, which runs the queries through
the ``fetch`` callable it is given (``connection.fetch_all`` in the module).

Every version-dependent piece of SQL is chosen in ``queries_for()`` and nowhere else.
"""

from __future__ import absolute_import, division, print_function

import datetime
import decimal

from ansible_collections.pgrepl.streaming.plugins.module_utils.lsn import (
    interval_seconds,
    lsn_diff,
)

ROLE_QUERY = (
    "SELECT pg_is_in_recovery() AS in_recovery,"
    " current_setting('server_version') AS server_version,"
    " current_setting('server_version_num')::int AS server_version_num,"
    " (SELECT system_identifier FROM pg_control_system())::text AS system_identifier"
)

# The WAL file name starts with the timeline in hex: the primary's current timeline is
# known at once after a promotion, unlike pg_control_checkpoint(), which waits for the
# end-of-recovery checkpoint.
PRIMARY_POSITION_QUERY = (
    "SELECT pg_current_wal_lsn()::text AS current_lsn,"
    " pg_walfile_name(pg_current_wal_lsn()) AS current_walfile"
)

STANDBYS_QUERY = (
    "SELECT application_name, host(client_addr) AS client_addr, client_hostname,"
    " client_port, pid, usename, state, sync_state, sync_priority,"
    " sent_lsn::text AS sent_lsn, write_lsn::text AS write_lsn,"
    " flush_lsn::text AS flush_lsn, replay_lsn::text AS replay_lsn,"
    " write_lag, flush_lag, replay_lag, backend_start, reply_time,"
    " coalesce(s.ssl, false) AS ssl, s.version AS ssl_version"
    " FROM pg_stat_replication LEFT JOIN pg_stat_ssl s USING (pid)"
    " ORDER BY application_name, pid"
)

SLOTS_QUERY = (
    "SELECT slot_name, slot_type, plugin, database, temporary, active, active_pid,"
    " wal_status, safe_wal_size, restart_lsn::text AS restart_lsn,"
    " confirmed_flush_lsn::text AS confirmed_flush_lsn, {inactive_since} AS inactive_since"
    " FROM pg_replication_slots ORDER BY slot_name"
)

# written_lsn/flushed_lsn replaced received_lsn in PostgreSQL 13, the oldest we support.
WAL_RECEIVER_QUERY = (
    "SELECT pid, status, sender_host, sender_port, slot_name,"
    " receive_start_lsn::text AS receive_start_lsn, receive_start_tli,"
    " written_lsn::text AS written_lsn, flushed_lsn::text AS flushed_lsn, received_tli,"
    " latest_end_lsn::text AS latest_end_lsn, latest_end_time,"
    " last_msg_send_time, last_msg_receipt_time, conninfo"
    " FROM pg_stat_wal_receiver"
)

# The WAL archiver, on both roles (a standby archives too with archive_mode = always).
# The same columns from 13 to 17. archive_mode tells "nothing archived" from "archiving off".
ARCHIVER_QUERY = (
    "SELECT current_setting('archive_mode') AS archive_mode,"
    " archived_count, failed_count, last_archived_wal, last_archived_time,"
    " last_failed_wal, last_failed_time, stats_reset"
    " FROM pg_stat_archiver"
)

# Lag in seconds is 0 when everything received is replayed: on an idle primary the last
# replayed transaction grows old although the standby is fully caught up. The delay is the
# plain now() - pg_last_xact_replay_timestamp(), NULL until a transaction was replayed.
STANDBY_POSITION_QUERY = (
    "SELECT pg_last_wal_receive_lsn()::text AS receive_lsn,"
    " pg_last_wal_replay_lsn()::text AS replay_lsn,"
    " pg_last_xact_replay_timestamp() AS last_replay_time,"
    " (CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
    " ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END)::float8"
    " AS replay_lag_seconds,"
    " extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8"
    " AS replay_delay_seconds,"
    " {pause_state} AS replay_pause_state,"
    " (SELECT timeline_id FROM pg_control_checkpoint()) AS checkpoint_timeline"
)

# pg_get_wal_replay_pause_state() (14+) tells 'pause requested' from 'paused';
# 13 only has pg_is_wal_replay_paused(), which is true for both.
_PAUSE_STATE_14 = "pg_get_wal_replay_pause_state()"
_PAUSE_STATE_13 = "CASE WHEN pg_is_wal_replay_paused() THEN 'paused' ELSE 'not paused' END"

# pg_replication_slots.inactive_since exists from 17.
_INACTIVE_SINCE_17 = "inactive_since"
_INACTIVE_SINCE_OLD = "NULL::timestamptz"


def queries_for(role, major):
    """The queries to run on a server of ``role`` ('primary'|'standby') and ``major``."""
    if role == "primary":
        inactive = _INACTIVE_SINCE_17 if major >= 17 else _INACTIVE_SINCE_OLD
        return {
            "archiver": ARCHIVER_QUERY,
            "standbys": STANDBYS_QUERY,
            "slots": SLOTS_QUERY.format(inactive_since=inactive),
            # Read last, so that every lag below is measured against a later position.
            "position": PRIMARY_POSITION_QUERY,
        }
    if role == "standby":
        pause = _PAUSE_STATE_14 if major >= 14 else _PAUSE_STATE_13
        return {
            "archiver": ARCHIVER_QUERY,
            "wal_receiver": WAL_RECEIVER_QUERY,
            "position": STANDBY_POSITION_QUERY.format(pause_state=pause),
        }
    raise ValueError("unknown server role: %r" % (role,))


def jsonable(value):
    """A database value as plain JSON data (timestamps as ISO 8601 text)."""
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return interval_seconds(value)
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def jsonable_row(row):
    return dict((key, jsonable(value)) for key, value in row.items())


def timeline_of_walfile(walfile):
    """'0000000300000000000000A1' -> 3."""
    if not walfile:
        return None
    return int(walfile[:8], 16)


def lag_seconds(interval, lag_bytes):
    """Seconds from a pg_stat_replication lag interval.

    PostgreSQL shows NULL once a standby has caught up and no new WAL came: that is
    reported as 0.0 when the byte lag confirms it; otherwise the time is unknown (None).
    """
    if interval is not None:
        return interval_seconds(interval)
    if lag_bytes == 0:
        return 0.0
    return None


_LAG_KINDS = ("sent", "write", "flush", "replay")


def shape_standby(row, current_lsn):
    """One pg_stat_replication row with byte and second lags against ``current_lsn``."""
    out = jsonable_row(dict((k, v) for k, v in row.items() if not k.endswith("_lag")))
    for kind in _LAG_KINDS:
        out[kind + "_lag_bytes"] = lsn_diff(current_lsn, row.get(kind + "_lsn"))
    for kind in _LAG_KINDS[1:]:
        out[kind + "_lag"] = lag_seconds(row.get(kind + "_lag"), out[kind + "_lag_bytes"])
    return out


def shape_slot(row, current_lsn):
    out = jsonable_row(row)
    out["retained_bytes"] = lsn_diff(current_lsn, row.get("restart_lsn"))
    return out


def shape_archiver(rows):
    """The pg_stat_archiver row as JSON data (counts as int, times as ISO 8601 text)."""
    if not rows:
        return None
    out = jsonable_row(rows[0])
    for key in ("archived_count", "failed_count"):
        out[key] = int(out[key] or 0)
    return out


def _server_fields(role_row):
    return {
        "in_recovery": bool(role_row["in_recovery"]),
        "role": "standby" if role_row["in_recovery"] else "primary",
        "server_version": role_row["server_version"],
        "server_version_num": int(role_row["server_version_num"]),
        "server_major": int(role_row["server_version_num"]) // 10000,
        # Tells copies of one cluster (a former primary, its standbys) from unrelated ones.
        "system_identifier": role_row.get("system_identifier"),
    }


def shape_primary(server, rows):
    """Result for a primary from the rows of each query in ``queries_for('primary')``."""
    position = rows["position"][0]
    current = position["current_lsn"]
    result = dict(server)
    result.update(
        archiver=shape_archiver(rows["archiver"]),
        current_lsn=current,
        timeline=timeline_of_walfile(position["current_walfile"]),
        standbys=[shape_standby(row, current) for row in rows["standbys"]],
        slots=[shape_slot(row, current) for row in rows["slots"]],
    )
    return result


def shape_standby_server(server, rows):
    """Result for a standby from the rows of each query in ``queries_for('standby')``."""
    position = jsonable_row(rows["position"][0])
    receivers = [jsonable_row(row) for row in rows["wal_receiver"]]
    receiver = receivers[0] if receivers else None
    pause_state = position["replay_pause_state"]
    result = dict(server)
    result.update(
        archiver=shape_archiver(rows["archiver"]),
        receive_lsn=position["receive_lsn"],
        replay_lsn=position["replay_lsn"],
        last_replay_time=position["last_replay_time"],
        replay_lag_bytes=lsn_diff(position["receive_lsn"], position["replay_lsn"]),
        replay_lag_seconds=position["replay_lag_seconds"],
        replay_delay_seconds=position["replay_delay_seconds"],
        replay_pause_state=pause_state,
        replay_paused=pause_state != "not paused",
        # The timeline being received; without a receiver, the last restartpoint's.
        timeline=(receiver or {}).get("received_tli") or position["checkpoint_timeline"],
        wal_receiver=receiver,
    )
    return result


def read_status(conn, fetch):
    """Read the whole status of the server behind ``conn``; ``fetch(conn, sql)`` -> rows."""
    server = _server_fields(fetch(conn, ROLE_QUERY)[0])
    queries = queries_for(server["role"], server["server_major"])
    rows = dict((name, fetch(conn, sql)) for name, sql in queries.items())
    if server["role"] == "primary":
        return shape_primary(server, rows)
    return shape_standby_server(server, rows)
