#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

DOCUMENTATION = r"""
module: pg_replication_status
short_description: Report (and optionally wait for) PostgreSQL streaming replication status
version_added: 0.1.0
description:
  - Reads the streaming replication status of one PostgreSQL server and never changes anything.
  - Finds the server's role with the C(pg_is_in_recovery) function.
  - On a primary, returns one entry per C(pg_stat_replication) row (each connected standby or
    other WAL sender) with its positions and lags, and every replication slot with the WAL it
    retains.
  - On a standby, returns its WAL receiver (C(pg_stat_wal_receiver)), its received and
    replayed positions, the replay lag in bytes and seconds, the age of the last replayed
    transaction, and whether replay is paused.
  - Can wait until standbys stream (O(wait_for_standbys)), until a standby's own WAL receiver
    streams (O(wait_for_streaming)), or until replay lag is small enough (O(max_lag_bytes)),
    and fails after O(timeout) seconds with the last status read.
  - On both roles, returns the WAL archiver's counters (C(pg_stat_archiver)) and, when
    O(archive_dir) is given, the size of the WAL archive directory on the host.
  - Handles the catalog differences of PostgreSQL 13 to 17.
author:
  - pgrepl.streaming maintainers (!UNKNOWN)
options:
  wait_for_standbys:
    description:
      - On a primary, wait until these standbys are in state C(streaming) in
        C(pg_stat_replication).
      - Either a count (at least this many streaming standbys, whatever their names) or a list
        of C(application_name) values (every one of them streaming). A standby's
        C(application_name) is the C(application_name) of its C(primary_conninfo), else its
        C(cluster_name).
      - A string of digits is read as a count, any other string as a comma-separated list of
        names.
      - An empty list or C(0) is met at once.
      - Fails at once, before waiting, when the server is a standby.
      - Mutually exclusive with O(wait_for_streaming).
    type: raw
  wait_for_streaming:
    description:
      - On a standby, wait until its own WAL receiver is in status C(streaming).
      - Fails at once, before waiting, when the server is a primary.
    type: bool
    default: false
  max_lag_bytes:
    description:
      - Wait until replay lag is at most this many bytes.
      - On a primary, the replay lag (current WAL position minus C(replay_lsn)) of every standby
        named in O(wait_for_standbys), or, without names, of every WAL sender except base
        backups. With no such standby the condition holds; add O(wait_for_standbys) to
        require standbys.
      - WAL archivers such as C(pg_receivewal) never report a replay position, so their lag is
        unknown and never meets the condition; name the standbys to check in
        O(wait_for_standbys) while one is connected.
      - On a standby, its received-but-not-yet-replayed WAL (RV(replay_lag_bytes)).
    type: int
  timeout:
    description:
      - Seconds to keep polling before failing, when any wait option is set.
      - C(0) checks once and fails at once when the condition does not hold.
    type: int
    default: 60
  poll_interval:
    description:
      - Seconds between two reads while waiting.
    type: float
    default: 1.0
  archive_dir:
    description:
      - A WAL archive directory on the host the module runs on (for example the primary
        role's C(postgresql_archive_dir)); its size is returned in RV(archive).
      - Counts the regular files directly in it, symlinks and subdirectories not included.
      - A missing or unreadable directory is reported in RV(archive), it does not fail the
        module.
    type: path
extends_documentation_fragment:
  - pgrepl.streaming.connection
attributes:
  check_mode:
    description: Runs the same read-only queries (and waits) in check mode.
    support: full
  diff_mode:
    description: Nothing is changed, so there is no diff.
    support: none
notes:
  - The result is never C(changed).
  - Positions, lags and C(conninfo) in C(pg_stat_replication) and C(pg_stat_wal_receiver) are
    shown only to superusers and members of C(pg_read_all_stats); connect as one of them.
  - C(conninfo) is returned as PostgreSQL shows it, with the password already replaced by
    asterisks.
  - Timestamps are ISO 8601 strings with the server's time zone offset.
seealso:
  - module: pgrepl.streaming.pg_replication_slot
"""

EXAMPLES = r"""
- name: Read the replication status of the primary
  pgrepl.streaming.pg_replication_status:
    login_host: pg1
    login_user: postgres
    login_password: "{{ postgres_password }}"
  register: repl

- name: Wait until two named standbys stream and have replayed within 16 MB of the primary
  pgrepl.streaming.pg_replication_status:
    login_unix_socket: /var/run/postgresql
    login_port: 5433
    wait_for_standbys: [pg2, pg3]
    max_lag_bytes: 16777216
    timeout: 120
  become: true
  become_user: postgres

- name: Wait until at least one standby streams
  pgrepl.streaming.pg_replication_status:
    login_unix_socket: /var/run/postgresql
    wait_for_standbys: 1

- name: On a standby, wait until its WAL receiver streams from the primary
  pgrepl.streaming.pg_replication_status:
    login_unix_socket: /var/run/postgresql
    wait_for_streaming: true
    timeout: 30
  register: standby_status

- name: Show each standby's replay lag
  ansible.builtin.debug:
    msg: "{{ item.application_name }}: {{ item.replay_lag_bytes }} bytes, {{ item.replay_lag }} s"
  loop: "{{ repl.standbys }}"
"""

RETURN = r"""
role:
  description: C(primary) or C(standby), from the C(pg_is_in_recovery) function.
  returned: always
  type: str
  sample: primary
in_recovery:
  description: What the C(pg_is_in_recovery) function returned.
  returned: always
  type: bool
  sample: false
server_version:
  description: The server's C(server_version) setting.
  returned: always
  type: str
  sample: 15.8 (Debian 15.8-0+deb12u1)
server_version_num:
  description: The server's C(server_version_num) setting.
  returned: always
  type: int
  sample: 150008
server_major:
  description: The major version.
  returned: always
  type: int
  sample: 15
system_identifier:
  description:
    - The database system identifier (C(pg_control_system)), the same on a primary and every
      copy of it, as text.
  returned: always
  type: str
  sample: "7441184467925331478"
  version_added: 0.3.0
timeline:
  description:
    - On a primary, the timeline it writes WAL on.
    - On a standby, the timeline its WAL receiver receives on, or without a receiver the
      timeline of its latest restartpoint.
  returned: always
  type: int
  sample: 1
current_lsn:
  description: The primary's current WAL write position (the C(pg_current_wal_lsn) function).
  returned: when role is primary
  type: str
  sample: 0/3000148
standbys:
  description:
    - One entry per C(pg_stat_replication) row, ordered by C(application_name).
    - Byte lags are measured from RV(current_lsn); they are null when PostgreSQL does not
      (yet) know the standby's position.
    - The lags in seconds come from the C(write_lag), C(flush_lag) and C(replay_lag) intervals.
      PostgreSQL shows them as NULL once a standby has caught up and no new WAL comes; the
      module then returns C(0.0) when the matching byte lag is 0, and null otherwise (unknown).
  returned: when role is primary
  type: list
  elements: dict
  contains:
    application_name:
      description: The standby's C(application_name).
      type: str
      sample: pg2
    client_addr:
      description: The standby's address; null over a Unix socket.
      type: str
      sample: 10.0.0.12
    client_hostname:
      description: Its host name, when C(log_hostname) is on.
      type: str
    client_port:
      description: The standby's TCP port; C(-1) over a Unix socket.
      type: int
    pid:
      description: The WAL sender's process id.
      type: int
    usename:
      description: The role the standby connected as.
      type: str
      sample: replicator
    state:
      description: C(startup), C(catchup), C(streaming), C(backup) or C(stopping).
      type: str
      sample: streaming
    sync_state:
      description: C(async), C(potential), C(sync) or C(quorum).
      type: str
      sample: async
    sync_priority:
      description: Priority in C(synchronous_standby_names); 0 for an asynchronous standby.
      type: int
    ssl:
      description: Whether the standby's connection is encrypted (C(pg_stat_ssl)).
      type: bool
      sample: false
      version_added: 0.4.0
    ssl_version:
      description: The TLS version of that connection; null without TLS.
      type: str
      sample: TLSv1.3
      version_added: 0.4.0
    sent_lsn:
      description: Last WAL position sent.
      type: str
    write_lsn:
      description: Last WAL position the standby wrote.
      type: str
    flush_lsn:
      description: Last WAL position the standby flushed.
      type: str
    replay_lsn:
      description: Last WAL position the standby replayed.
      type: str
    sent_lag_bytes:
      description: Bytes from RV(standbys[].sent_lsn) to RV(current_lsn).
      type: int
    write_lag_bytes:
      description: Bytes from RV(standbys[].write_lsn) to RV(current_lsn).
      type: int
    flush_lag_bytes:
      description: Bytes from RV(standbys[].flush_lsn) to RV(current_lsn).
      type: int
    replay_lag_bytes:
      description: Bytes from RV(standbys[].replay_lsn) to RV(current_lsn).
      type: int
      sample: 0
    write_lag:
      description: Seconds between a local flush and the standby's write of it.
      type: float
      sample: 0.0
    flush_lag:
      description: Seconds between a local flush and the standby's flush of it.
      type: float
      sample: 0.0
    replay_lag:
      description: Seconds between a local flush and the standby's replay of it.
      type: float
      sample: 0.0
    backend_start:
      description: When the standby connected.
      type: str
      sample: "2026-01-05T10:11:12.123456+00:00"
    reply_time:
      description: When the last reply from the standby arrived.
      type: str
slots:
  description: Every replication slot of the primary, ordered by name.
  returned: when role is primary
  type: list
  elements: dict
  contains:
    slot_name:
      description: The slot's name.
      type: str
      sample: pg2
    slot_type:
      description: C(physical) or C(logical).
      type: str
    plugin:
      description: Output plugin of a logical slot; null for a physical one.
      type: str
    database:
      description: Database of a logical slot; null for a physical one.
      type: str
    temporary:
      description: Whether the slot is temporary.
      type: bool
    active:
      description: Whether a consumer uses the slot now.
      type: bool
    active_pid:
      description: Process id of the consumer, when active.
      type: int
    wal_status:
      description: C(reserved), C(extended), C(unreserved) or C(lost).
      type: str
      sample: reserved
    safe_wal_size:
      description:
        - Bytes that can still be written before the slot risks losing WAL; null when
          C(max_slot_wal_keep_size) is -1 (unlimited).
      type: int
    restart_lsn:
      description: Oldest WAL position the slot keeps.
      type: str
    confirmed_flush_lsn:
      description: Position a logical slot's consumer confirmed; null for a physical slot.
      type: str
    retained_bytes:
      description: Bytes of WAL kept for the slot (RV(current_lsn) minus C(restart_lsn)).
      type: int
      sample: 0
    inactive_since:
      description: When the slot became inactive (PostgreSQL 17 and later; null before).
      type: str
receive_lsn:
  description:
    - Last WAL position received and flushed by streaming (the C(pg_last_wal_receive_lsn)
      function).
  returned: when role is standby
  type: str
replay_lsn:
  description: Last WAL position replayed (the C(pg_last_wal_replay_lsn) function).
  returned: when role is standby
  type: str
last_replay_time:
  description: Commit time of the last replayed transaction; null when none was replayed.
  returned: when role is standby
  type: str
replay_lag_bytes:
  description: Bytes received but not yet replayed (RV(receive_lsn) minus RV(replay_lsn)).
  returned: when role is standby
  type: int
  sample: 0
replay_lag_seconds:
  description:
    - C(0.0) when everything received is replayed, else the age of the last replayed
      transaction (now minus the C(pg_last_xact_replay_timestamp) function); null when unknown.
  returned: when role is standby
  type: float
  sample: 0.0
replay_delay_seconds:
  description:
    - Seconds since the commit of the last replayed transaction (now minus the
      C(pg_last_xact_replay_timestamp) function), the usual measure of replay delay; null
      when no transaction was replayed since the server started.
    - Unlike RV(replay_lag_seconds) it keeps growing while the primary is idle, and it
      compares the standby's clock with the primary's commit time, so clock skew shows in it.
  returned: when role is standby
  type: float
  sample: 2.345
replay_pause_state:
  description:
    - C(not paused), C(pause requested) or C(paused), from the C(pg_get_wal_replay_pause_state)
      function (PostgreSQL 14 and later).
    - On PostgreSQL 13, C(paused) or C(not paused), from the C(pg_is_wal_replay_paused)
      function.
  returned: when role is standby
  type: str
  sample: not paused
replay_paused:
  description: True when replay is paused or a pause is requested.
  returned: when role is standby
  type: bool
  sample: false
wal_receiver:
  description: The standby's C(pg_stat_wal_receiver) row; null when no WAL receiver runs.
  returned: when role is standby
  type: dict
  contains:
    pid:
      description: The WAL receiver's process id.
      type: int
    status:
      description: C(streaming), C(starting), C(waiting), C(restarting) or C(stopping).
      type: str
      sample: streaming
    sender_host:
      description: Host (or socket directory) of the server it streams from.
      type: str
      sample: pg1
    sender_port:
      description: Port of the server it streams from.
      type: int
      sample: 5432
    slot_name:
      description: The replication slot it uses on the sender.
      type: str
      sample: pg2
    receive_start_lsn:
      description: First WAL position received when the receiver started.
      type: str
    receive_start_tli:
      description: Timeline of RV(wal_receiver.receive_start_lsn).
      type: int
    written_lsn:
      description: Last WAL position written to disk (not yet flushed).
      type: str
    flushed_lsn:
      description: Last WAL position flushed to disk.
      type: str
    received_tli:
      description: Timeline of RV(wal_receiver.flushed_lsn).
      type: int
    latest_end_lsn:
      description: Last WAL position the sender reported to the receiver.
      type: str
    latest_end_time:
      description: When RV(wal_receiver.latest_end_lsn) was reported.
      type: str
    last_msg_send_time:
      description: Send time of the last message from the sender.
      type: str
    last_msg_receipt_time:
      description: Receipt time of the last message from the sender.
      type: str
    conninfo:
      description: The connection string in use, with the password shown as asterisks.
      type: str
      sample: user=replicator password=******** host=pg1 port=5432 application_name=pg2
archiver:
  description:
    - The WAL archiver's counters, the C(pg_stat_archiver) row, and the server's
      C(archive_mode).
    - The counts run from the last statistics reset (RV(archiver.stats_reset)).
  returned: always
  type: dict
  contains:
    archive_mode:
      description: C(on), C(off) or C(always).
      type: str
      sample: "on"
    archived_count:
      description: WAL files archived successfully.
      type: int
      sample: 42
    failed_count:
      description: Failed attempts to archive a WAL file (each retry counts).
      type: int
      sample: 0
    last_archived_wal:
      description: Name of the last WAL file archived; null when none was.
      type: str
      sample: 00000001000000000000002A
    last_archived_time:
      description: When it was archived.
      type: str
    last_failed_wal:
      description: Name of the WAL file of the last failed attempt; null when none failed.
      type: str
    last_failed_time:
      description: When the last attempt failed; the server log holds the command's message.
      type: str
    stats_reset:
      description: When these counters were last reset.
      type: str
archive:
  description: Size of the directory given in O(archive_dir), read on the host.
  returned: when O(archive_dir) is given
  type: dict
  contains:
    path:
      description: The directory, as given.
      type: str
      sample: /var/lib/postgresql/wal_archive
    exists:
      description: Whether it is a directory.
      type: bool
      sample: true
    bytes:
      description: Total size of its regular files; null when it cannot be read.
      type: int
      sample: 1073741824
    files:
      description: Number of its regular files; null when it cannot be read.
      type: int
      sample: 64
    error:
      description: Why it could not be read; null when it could.
      type: str
polls:
  description: How many times the status was read (1 without a wait option).
  returned: always
  type: int
  sample: 1
"""

import os  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402

from ansible_collections.pgrepl.streaming.plugins.module_utils import (  # noqa: E402
    connection,
    status_sql,
    status_wait,
)


def argument_spec():
    spec = connection.connection_argument_spec()
    spec.update(
        wait_for_standbys=dict(type="raw"),
        wait_for_streaming=dict(type="bool", default=False),
        max_lag_bytes=dict(type="int"),
        timeout=dict(type="int", default=60),
        poll_interval=dict(type="float", default=1.0),
        archive_dir=dict(type="path"),
    )
    return spec


def archive_usage(path):
    """Bytes and count of the regular files directly in ``path`` (no symlink followed)."""
    usage = {"path": path, "exists": os.path.isdir(path), "bytes": None, "files": None,
             "error": None}
    if not usage["exists"]:
        usage["error"] = "not a directory" if os.path.lexists(path) else "does not exist"
        return usage
    total = count = 0
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
                    count += 1
    except OSError as exc:
        usage["error"] = exc.strerror or str(exc)
        return usage
    usage.update(bytes=total, files=count)
    return usage


def _reader(module, conn):
    def read():
        try:
            return status_sql.read_status(conn, connection.fetch_all)
        except connection.psycopg2.Error as exc:
            module.fail_json(msg="could not read the replication status: %s"
                             % str(exc).strip(), changed=False)
    return read


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    try:
        spec = status_wait.parse_wait_spec(module.params)
    except ValueError as exc:
        module.fail_json(msg=str(exc), changed=False)

    def host_facts():
        if module.params["archive_dir"] is None:
            return {}
        return {"archive": archive_usage(module.params["archive_dir"])}

    conn = connection.connect(module)
    try:
        read = _reader(module, conn)
        status = read()
        polls = 1
        conflict = status_wait.role_conflict(spec, status["role"])
        if conflict:
            module.fail_json(msg=conflict, changed=False, polls=polls, **dict(
                status, **host_facts()))
        if spec.active:
            try:
                status, polls = status_wait.wait_for(spec, read, status)
            except status_wait.WaitTimeout as exc:
                module.fail_json(msg=str(exc), changed=False, polls=exc.polls, **dict(
                    exc.status, **host_facts()))
    finally:
        conn.close()
    module.exit_json(changed=False, polls=polls, **dict(status, **host_facts()))


if __name__ == "__main__":
    main()
