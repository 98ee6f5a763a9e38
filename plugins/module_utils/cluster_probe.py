# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only evidence about one cluster's data directory (used by pg_cluster_info).

Everything here only reads: the cluster's configuration (pg_lsclusters), the data directory
as the filesystem really holds it (symlinks followed, mount points seen), PG_VERSION, the
signal files, the control file and postmaster.pid. The parsers are pure functions so that
they are unit-tested without a server.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import re

# pg_controldata labels the collection reads (LC_ALL=C output).
_CONTROL_FIELDS = {
    "Database system identifier": "system_identifier",
    "Database cluster state": "state",
    "Latest checkpoint's TimeLineID": "timeline",
    "Latest checkpoint location": "checkpoint_lsn",
    "Minimum recovery ending location": "min_recovery_lsn",
    "Data page checksum version": "checksum_version",
    "wal_log_hints setting": "wal_log_hints",
    "max_connections setting": "max_connections",
    "max_worker_processes setting": "max_worker_processes",
    "max_wal_senders setting": "max_wal_senders",
    "max_prepared_xacts setting": "max_prepared_transactions",
    "max_locks_per_xact setting": "max_locks_per_transaction",
}


def parse_controldata(text):
    """pg_controldata output -> dict of the fields above (strings), missing ones absent."""
    found = {}
    for line in text.splitlines():
        label, sep, value = line.partition(":")
        if sep and label.strip() in _CONTROL_FIELDS:
            found[_CONTROL_FIELDS[label.strip()]] = value.strip()
    return found


def parse_postmaster_pid(text):
    """postmaster.pid -> {pid, data_dir, port, socket_dir} (lines 1, 2, 4, 5), or {}."""
    lines = text.splitlines()
    if not lines or not lines[0].strip().lstrip("-").isdigit():
        return {}
    info = {"pid": abs(int(lines[0].strip()))}
    if len(lines) > 1:
        info["data_dir"] = lines[1].strip()
    if len(lines) > 3 and lines[3].strip().isdigit():
        info["port"] = int(lines[3].strip())
    if len(lines) > 4:
        info["socket_dir"] = lines[4].strip().split()[0] if lines[4].strip() else ""
    return info


def find_cluster(lsclusters_json, version, name):
    """The pg_lsclusters -j entry of version/name, or None."""
    try:
        clusters = json.loads(lsclusters_json or "[]")
    except ValueError:
        return None
    for entry in clusters:
        if str(entry.get("version")) == str(version) and entry.get("cluster") == name:
            return entry
    return None


def process_alive(pid):
    """True when a process with this pid exists (signal 0; EPERM still means it exists)."""
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == 1
    return True


def path_facts(path):
    """What the filesystem holds at path, following symlinks."""
    real = os.path.realpath(path)
    facts = {
        "path": path,
        "real_path": real,
        "is_symlink": os.path.islink(path),
        "exists": os.path.exists(real),
        "is_dir": os.path.isdir(real),
        "is_mount": os.path.ismount(real) if os.path.isdir(real) else False,
        "entries": 0,
        "owner_uid": None,
    }
    if facts["is_dir"]:
        facts["entries"] = len(os.listdir(real))
        facts["owner_uid"] = os.stat(real).st_uid
    return facts


def clone_target(facts):
    """Where a new clone is written: beside the real data dir (same filesystem) so the swap is
    a rename; inside it only when it is an empty mount point (a rename cannot replace that)."""
    real = facts["real_path"]
    if facts["is_mount"] and facts["entries"] == 0:
        return {"clone_dir": real, "clone_in_place": True, "space_dir": real}
    parent = os.path.dirname(real.rstrip("/")) or "/"
    return {"clone_dir": real.rstrip("/") + ".pgrepl-clone", "clone_in_place": False,
            "space_dir": parent}


def free_bytes(directory):
    """Bytes free for an unprivileged writer on the filesystem holding directory (its nearest
    existing ancestor when it does not exist yet)."""
    probe = directory
    while probe and not os.path.exists(probe):
        probe = os.path.dirname(probe.rstrip("/")) or "/"
    stats = os.statvfs(probe or "/")
    return stats.f_bavail * stats.f_frsize


def directory_in_use(path):
    """True when path exists and is not an empty directory (a tablespace target, say)."""
    if not os.path.lexists(path):
        return False
    if not os.path.isdir(path):
        return True
    return bool(os.listdir(path))


def read_text(path, limit=65536):
    """A small text file's content, or None when it cannot be read."""
    try:
        with open(path) as handle:
            return handle.read(limit)
    except OSError:
        return None


# A quoted value, or everything up to the next blank (a closing quote of the setting stays).
SECRET = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+?)(?='?(?:\s|$))", re.IGNORECASE)


def redact(text):
    """A line with any password=... value replaced (for messages and backups)."""
    return SECRET.sub(r"\1********", text)
