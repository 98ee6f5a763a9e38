#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # noqa: UP001 - ansible-test boilerplate

DOCUMENTATION = r"""
module: pg_cluster_info
short_description: Read-only evidence about a PostgreSQL cluster's data directory
version_added: 0.2.0
description:
  - Finds the cluster's real data directory from its configuration (C(pg_lsclusters), which
    reads C(data_directory) or the configuration's C(pgdata) link), follows symlinks and sees
    mount points.
  - Reports what the directory holds (entries, C(PG_VERSION), C(standby.signal), the control
    file), whether a server runs on it and, if so, whether it is in recovery. A server that is
    still starting up is waited for, up to O(startup_timeout) seconds.
  - Reports where a clone would be written (beside the real directory, on its filesystem) and
    the free space there, and whether given tablespace directories are already in use.
  - Changes nothing. The standby role feeds the result to the
    P(pgrepl.streaming.standby_decision#filter) filter.
author:
  - pgrepl.streaming maintainers (!UNKNOWN)
options:
  version:
    description: Major version of the cluster (C(15)).
    type: str
    required: true
  cluster:
    description: Name of the cluster in Debian's layout (C(/etc/postgresql/<version>/<cluster>)).
    type: str
    default: main
  data_dir:
    description:
      - Data directory to look at when the cluster has no configuration yet.
      - Default C(/var/lib/postgresql/<version>/<cluster>).
    type: path
  bin_dir:
    description: Directory of the server binaries. Default C(/usr/lib/postgresql/<version>/bin).
    type: path
  tablespace_targets:
    description: Directories a clone would write tablespaces to; each is reported as in use or not.
    type: list
    elements: path
    default: []
  startup_timeout:
    description: Seconds to wait for a server that is starting up to answer.
    type: int
    default: 60
extends_documentation_fragment:
  - pgrepl.streaming.connection
attributes:
  check_mode:
    description: Only reads, in check mode as in a real run.
    support: full
  diff_mode:
    description: Nothing is changed, so there is no diff.
    support: none
notes:
  - Run it as the cluster's owner (C(become_user=postgres)) so that it can read the data
    directory and log in through the local socket with peer authentication.
"""

EXAMPLES = r"""
- name: Look at the standby's data directory
  pgrepl.streaming.pg_cluster_info:
    version: "15"
  become: true
  become_user: postgres
  register: cluster

- name: Show the real data directory
  ansible.builtin.debug:
    msg: "{{ cluster.data_dir.real_path }} (symlink: {{ cluster.data_dir.is_symlink }})"
"""

RETURN = r"""
cluster:
  description:
    - The cluster's configuration as C(pg_lsclusters) reports it (C(config_dir),
      C(data_directory), C(port), C(logfile)); C(exists) is false without one.
  returned: always
  type: dict
  sample: {exists: true, config_dir: /etc/postgresql/15/main, port: 5432}
data_dir:
  description:
    - The data directory, with C(real_path) (symlinks followed), C(is_symlink), C(is_mount),
      C(exists), C(entries).
  returned: always
  type: dict
clone:
  description:
    - C(clone_dir) (where a clone would be written), C(clone_in_place), C(space_dir),
      C(free_bytes) there, C(leftover) (a clone dir is already there).
  returned: always
  type: dict
pg_version:
  description: Content of C(PG_VERSION), empty when absent.
  returned: always
  type: str
standby_signal:
  description: Whether C(standby.signal) exists.
  returned: always
  type: bool
standby_signal_bytes:
  description: Size of C(standby.signal); the classic runbook wrote settings into it.
  returned: always
  type: int
recovery_signal:
  description: Whether C(recovery.signal) exists.
  returned: always
  type: bool
control:
  description:
    - Fields of C(pg_controldata) (system_identifier, state, timeline, the minimum
      settings), empty without a cluster.
  returned: always
  type: dict
server:
  description:
    - C(running), C(pid), C(port), C(socket_dir), C(in_recovery) (null when it does not
      answer), C(error).
  returned: always
  type: dict
tablespace_targets:
  description: One entry per O(tablespace_targets) item, with C(path) and C(in_use).
  returned: always
  type: list
  elements: dict
"""

import os  # noqa: E402
import time  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.pgrepl.streaming.plugins.module_utils import cluster_probe as probe  # noqa: E402
from ansible_collections.pgrepl.streaming.plugins.module_utils.connection import (  # noqa: E402
    HAS_PSYCOPG2,
    ConnectionFailure,
    connection_argument_spec,
    fetch_one,
    open_connection,
)

# Server answers that mean "ask again in a moment".
_NOT_YET = ("starting up", "not yet accepting connections", "in recovery mode")


def run(module, argv):
    """rc and stdout of a read-only command (C messages, so the parsers can read them)."""
    if not os.path.exists(argv[0]) and module.get_bin_path(argv[0]) is None:
        return 127, ""
    rc, out, _err = module.run_command(argv, environ_update={"LC_ALL": "C"})
    return rc, out


def read_cluster(module, params):
    rc, out = run(module, ["pg_lsclusters", "--json"])
    entry = probe.find_cluster(out, params["version"], params["cluster"]) if rc == 0 else None
    if not entry:
        return {"exists": False}
    return {
        "exists": True,
        "config_dir": entry.get("configdir"),
        "data_directory": entry.get("pgdata"),
        "port": int(entry.get("port") or 0),
        "logfile": entry.get("logfile"),
    }


def ask_server(params, pid_info):
    """pg_is_in_recovery() of the server on the data dir, waiting while it starts up."""
    conn_params = dict(params, login_unix_socket=pid_info.get("socket_dir") or "",
                       login_host="", login_port=pid_info.get("port") or 5432)
    if not HAS_PSYCOPG2:
        return {"in_recovery": None, "error": "psycopg2 is not installed on the host"}
    deadline = time.time() + params["startup_timeout"]
    while True:
        try:
            conn = open_connection(conn_params)
        except ConnectionFailure as exc:
            text = str(exc)
            if any(marker in text for marker in _NOT_YET) and time.time() < deadline:
                time.sleep(1)
                continue
            return {"in_recovery": None, "error": text}
        try:
            row = fetch_one(conn, "SELECT pg_is_in_recovery() AS rec, "
                                  "current_setting('data_directory') AS data_directory")
        finally:
            conn.close()
        return {"in_recovery": row["rec"], "data_directory": row["data_directory"],
                "error": ""}


def read_server(params, real):
    pid_info = probe.parse_postmaster_pid(probe.read_text(os.path.join(real, "postmaster.pid"))
                                          or "")
    running = bool(pid_info) and probe.process_alive(pid_info["pid"])
    server = {"running": running, "pid": pid_info.get("pid"), "port": pid_info.get("port"),
              "socket_dir": pid_info.get("socket_dir"), "in_recovery": None, "error": ""}
    if running:
        server.update(ask_server(params, pid_info))
    return server


def gather(module):
    params = module.params
    version, name = params["version"], params["cluster"]
    bin_dir = params["bin_dir"] or "/usr/lib/postgresql/%s/bin" % version
    cluster = read_cluster(module, params)
    configured = (cluster.get("data_directory") or params["data_dir"]
                  or "/var/lib/postgresql/%s/%s" % (version, name))
    facts = probe.path_facts(configured)
    real = facts["real_path"]
    clone = probe.clone_target(facts)
    clone["free_bytes"] = probe.free_bytes(clone["space_dir"])
    clone["leftover"] = (not clone["clone_in_place"]) and os.path.lexists(clone["clone_dir"])
    pg_version = (probe.read_text(os.path.join(real, "PG_VERSION")) or "").strip()
    signal = os.path.join(real, "standby.signal")
    control = {}
    if pg_version:
        rc, out = run(module, [os.path.join(bin_dir, "pg_controldata"), "-D", real])
        control = probe.parse_controldata(out) if rc == 0 else {}
    return {
        "changed": False,
        "cluster": cluster,
        "data_dir": facts,
        "clone": clone,
        "pg_version": pg_version,
        "standby_signal": os.path.exists(signal),
        "standby_signal_bytes": os.path.getsize(signal) if os.path.exists(signal) else 0,
        "recovery_signal": os.path.exists(os.path.join(real, "recovery.signal")),
        "control": control,
        "server": read_server(params, real) if facts["is_dir"] else {"running": False},
        "tablespace_targets": [{"path": path, "in_use": probe.directory_in_use(path)}
                               for path in params["tablespace_targets"]],
    }


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        version=dict(type="str", required=True),
        cluster=dict(type="str", default="main"),
        data_dir=dict(type="path"),
        bin_dir=dict(type="path"),
        tablespace_targets=dict(type="list", elements="path", default=[]),
        startup_timeout=dict(type="int", default=60),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    module.exit_json(**gather(module))


if __name__ == "__main__":
    main()
