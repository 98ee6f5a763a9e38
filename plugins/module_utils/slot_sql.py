# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation, decisions and SQL of the pg_replication_slot module.

Everything here is pure (no connection, no AnsibleModule), so the rules that decide what the
module does can be unit-tested; the module only reads the server and runs what is decided.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # noqa: UP001 - ansible-test boilerplate

import re
import time

from ansible_collections.pgrepl.streaming.plugins.module_utils.lsn import lsn_diff

# PostgreSQL itself allows [a-z0-9_] in slot names; 63 is NAMEDATALEN - 1. A longer name
# would be silently truncated by the server, so it is refused instead.
SLOT_NAME_RE = re.compile(r"[a-z0-9_]{1,63}")
SLOT_NAME_RULE = "1 to 63 characters, each a lowercase letter (a-z), a digit (0-9) or '_'"

# Output plugins are shared library names in the server's $libdir: keep them identifier-like
# so the value can never be a path or anything else than a plain name.
PLUGIN_RE = re.compile(r"[A-Za-z0-9_]{1,63}")
PLUGIN_RULE = "1 to 63 characters, each a letter, a digit or '_'"

TWO_PHASE_MIN_MAJOR = 14
FAILOVER_MIN_MAJOR = 17
LOGICAL_ON_STANDBY_MIN_MAJOR = 16

# Only the statements that change something are reported in ``queries``.
CREATE_PHYSICAL_SQL = "SELECT pg_create_physical_replication_slot(%(name)s, %(reserve)s)"
CREATE_LOGICAL_SQL = "SELECT pg_create_logical_replication_slot(%(name)s, %(plugin)s)"
CREATE_LOGICAL_TWO_PHASE_SQL = (
    "SELECT pg_create_logical_replication_slot(%(name)s, %(plugin)s, false, %(two_phase)s)"
)
# Arguments in order: name, plugin, temporary, two_phase, failover (PostgreSQL 17).
CREATE_LOGICAL_FAILOVER_SQL = (
    "SELECT pg_create_logical_replication_slot(%(name)s, %(plugin)s, false, %(two_phase)s,"
    " %(failover)s)"
)
DROP_SQL = "SELECT pg_drop_replication_slot(%(name)s)"
TERMINATE_SQL = "SELECT pg_terminate_backend(%(pid)s)"

SERVER_FACTS_SQL = (
    "SELECT pg_is_in_recovery() AS in_recovery,"
    " current_setting('wal_level') AS wal_level,"
    " current_database() AS database,"
    " current_setting('max_replication_slots')::int AS max_slots,"
    " (SELECT count(*) FROM pg_replication_slots)::int AS slots_used"
)

# pg_stat_activity rather than pg_stat_replication: it also names a consumer that holds a
# logical slot from an ordinary session (pg_logical_slot_get_changes), not only walsenders.
_SLOT_SQL = (
    "SELECT s.slot_name, s.slot_type, s.plugin, s.database, s.active, s.active_pid,"
    " s.restart_lsn::text AS restart_lsn, s.confirmed_flush_lsn::text AS confirmed_flush_lsn,"
    " s.wal_status, s.safe_wal_size, %s AS two_phase, %s AS failover,"
    " a.application_name, host(a.client_addr) AS client_addr, a.backend_type"
    " FROM pg_replication_slots s LEFT JOIN pg_stat_activity a ON a.pid = s.active_pid"
    " WHERE s.slot_name = %%(name)s"
)

# Bounds of the terminate-then-drop loop: a standby's walreceiver comes back after
# wal_retrieve_retry_interval (5 s by default), a supervised consumer may come back sooner.
MAX_TERMINATIONS = 3
DROP_TIMEOUT = 15.0
POLL_INTERVAL = 0.1


class SlotError(Exception):
    """A failure explained for the person running the playbook."""


# ---------------------------------------------------------------- validation


def name_problem(name):
    """Why ``name`` cannot be a slot name, or None."""
    if name is None or not SLOT_NAME_RE.fullmatch(name):
        return "invalid replication slot name %r: use %s" % (name, SLOT_NAME_RULE)
    return None


def plugin_problem(plugin):
    if plugin is None or not PLUGIN_RE.fullmatch(plugin):
        return "invalid output_plugin %r: use %s" % (plugin, PLUGIN_RULE)
    return None


def option_problem(params):
    """First problem with the options alone (checked before connecting), or None."""
    problem = name_problem(params["name"])
    if problem or params["state"] == "absent":
        return problem
    if params["slot_type"] == "logical":
        if params["immediately_reserve"]:
            return ("immediately_reserve applies to physical slots only: a logical slot"
                    " always reserves WAL when it is created")
        return plugin_problem(params["output_plugin"])
    if params.get("two_phase"):
        return "two_phase applies to logical slots only (slot_type: logical)"
    if params.get("failover"):
        return "failover applies to logical slots only (slot_type: logical)"
    return None


def server_problem(params, major, facts):
    """Why the server cannot create the requested slot, or None (pure; ``facts`` from
    SERVER_FACTS_SQL). Checked in check mode too, so a dry run predicts these failures."""
    logical = params["slot_type"] == "logical"
    if logical and params.get("two_phase") and major < TWO_PHASE_MIN_MAJOR:
        return ("two_phase needs PostgreSQL %d or later; this server runs PostgreSQL %d"
                % (TWO_PHASE_MIN_MAJOR, major))
    if logical and params.get("failover") and major < FAILOVER_MIN_MAJOR:
        return ("failover needs PostgreSQL %d or later; this server runs PostgreSQL %d"
                % (FAILOVER_MIN_MAJOR, major))
    if logical and facts["in_recovery"] and major < LOGICAL_ON_STANDBY_MIN_MAJOR:
        return ("logical slots can be created on a standby only from PostgreSQL %d;"
                " this standby runs PostgreSQL %d" % (LOGICAL_ON_STANDBY_MIN_MAJOR, major))
    needed = ("logical",) if logical else ("replica", "logical")
    if facts["wal_level"] not in needed:
        return ("a %s slot needs wal_level = %s; the server has wal_level = %s"
                % (params["slot_type"], " or ".join(needed), facts["wal_level"]))
    if facts["slots_used"] >= facts["max_slots"]:
        return ("no free replication slot: %d of max_replication_slots = %d are in use"
                % (facts["slots_used"], facts["max_slots"]))
    return None


# ---------------------------------------------------------------- SQL choice


def slot_query(major):
    """Lookup of one slot and its consumer; ``two_phase`` exists from PostgreSQL 14,
    ``failover`` from 17 (NULL before)."""
    return _SLOT_SQL % (
        "s.two_phase" if major >= TWO_PHASE_MIN_MAJOR else "NULL::boolean",
        "s.failover" if major >= FAILOVER_MIN_MAJOR else "NULL::boolean",
    )


def current_lsn_query(in_recovery):
    """Where WAL ends now: written on a primary, received (else replayed) on a standby."""
    if in_recovery:
        return ("SELECT COALESCE(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::text"
                " AS lsn")
    return "SELECT pg_current_wal_lsn()::text AS lsn"


def create_statement(params):
    """(sql, args) creating the requested slot."""
    name = params["name"]
    if params["slot_type"] == "physical":
        return CREATE_PHYSICAL_SQL, {"name": name, "reserve": bool(params["immediately_reserve"])}
    args = {"name": name, "plugin": params["output_plugin"]}
    if params.get("failover"):
        args["two_phase"] = bool(params.get("two_phase"))
        args["failover"] = True
        return CREATE_LOGICAL_FAILOVER_SQL, args
    if params.get("two_phase"):
        args["two_phase"] = True
        return CREATE_LOGICAL_TWO_PHASE_SQL, args
    return CREATE_LOGICAL_SQL, args


# ---------------------------------------------------------------- decisions


def mismatch(params, slot, database):
    """Why the existing ``slot`` is not the requested one, or None.

    A slot cannot be altered, only dropped and recreated, which loses its position: that is
    never done implicitly, the playbook has to say so (state: absent first).
    """
    name = params["name"]
    if slot["slot_type"] != params["slot_type"]:
        return ("replication slot %r exists as a %s slot, not %s; drop it first"
                " (state: absent) if it should be replaced"
                % (name, slot["slot_type"], params["slot_type"]))
    if slot["slot_type"] != "logical":
        return None
    if slot["plugin"] != params["output_plugin"]:
        return ("logical replication slot %r uses output plugin %r, not %r"
                % (name, slot["plugin"], params["output_plugin"]))
    if slot["database"] != database:
        return ("logical replication slot %r belongs to database %r, not %r (login_db)"
                % (name, slot["database"], database))
    wanted = params.get("two_phase")
    if wanted is not None and slot.get("two_phase") is not None \
            and bool(slot["two_phase"]) != wanted:
        return ("logical replication slot %r has two_phase = %s, not %s"
                % (name, slot["two_phase"], wanted))
    wanted = params.get("failover")
    if wanted is not None and slot.get("failover") is not None \
            and bool(slot["failover"]) != wanted:
        return ("logical replication slot %r has failover = %s, not %s"
                % (name, slot["failover"], wanted))
    return None


def describe_consumer(slot):
    """'pid 123 (application_name 'x', client 10.0.0.2, walsender)' from a slot row."""
    details = ["application_name %r" % (slot.get("application_name") or "",)]
    details.append("client %s" % (slot.get("client_addr") or "local socket"))
    if slot.get("backend_type"):
        details.append(slot["backend_type"])
    return "pid %s (%s)" % (slot.get("active_pid"), ", ".join(details))


def active_slot_message(name, slot):
    return ("replication slot %r is active, used by %s; stop that consumer first, or set"
            " terminate_active: true to end its connection and drop the slot"
            % (name, describe_consumer(slot)))


def plan(params, slot, database):
    """What to do: 'none', 'create', 'drop' or 'terminate_and_drop'. Raises SlotError."""
    if params["state"] == "present":
        if slot is None:
            return "create"
        problem = mismatch(params, slot, database)
        if problem:
            raise SlotError(problem)
        return "none"
    if slot is None:
        return "none"
    if not slot["active"]:
        return "drop"
    if not params["terminate_active"]:
        raise SlotError(active_slot_message(params["name"], slot))
    return "terminate_and_drop"


def slot_result(slot, current_lsn):
    """The ``slot`` return value (None when there is no slot)."""
    if slot is None:
        return None
    return {
        "name": slot["slot_name"],
        "type": slot["slot_type"],
        "plugin": slot["plugin"],
        "database": slot["database"],
        "active": slot["active"],
        "active_pid": slot["active_pid"],
        "restart_lsn": slot["restart_lsn"],
        "confirmed_flush_lsn": slot["confirmed_flush_lsn"],
        "wal_status": slot["wal_status"],
        "safe_wal_size": slot["safe_wal_size"],
        "two_phase": slot["two_phase"],
        "failover": slot["failover"],
        "retained_bytes": lsn_diff(current_lsn, slot["restart_lsn"]),
    }


# ---------------------------------------------------------------- terminate and drop


class SlotInUse(Exception):
    """Raised by the ``drop`` callback when the server says the slot is active."""


def drop_with_termination(read_slot, terminate, drop, name, clock=time.monotonic,
                          sleep=time.sleep, max_terminations=MAX_TERMINATIONS,
                          timeout=DROP_TIMEOUT):
    """End whoever holds slot ``name`` and drop it; return the pids that were terminated.

    A consumer may reconnect between its termination and the drop (a standby's walreceiver
    does): each new holder is terminated in turn, up to ``max_terminations`` of them and
    ``timeout`` seconds in all, then SlotError says who keeps coming back.
    """
    terminated = []
    deadline = clock() + timeout
    while True:
        slot = read_slot()
        if slot is None:
            return terminated
        if slot["active"]:
            pid = slot["active_pid"]
            if pid not in terminated:
                if len(terminated) >= max_terminations:
                    raise SlotError(_comes_back_message(name, slot, terminated))
                terminate(pid)
                terminated.append(pid)
        else:
            try:
                drop()
                return terminated
            except SlotInUse:
                pass  # taken again between our read and the drop: look again
        if clock() > deadline:
            raise SlotError(_comes_back_message(name, slot, terminated))
        sleep(POLL_INTERVAL)


def _comes_back_message(name, slot, terminated):
    return ("replication slot %r is still in use after terminating pid(s) %s: its consumer"
            " keeps reconnecting, now %s; stop it (or remove it from primary_slot_name)"
            " before dropping the slot"
            % (name, ", ".join(str(p) for p in terminated), describe_consumer(slot)))
