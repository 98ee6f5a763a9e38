# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who this controller run is: the identity written into the run lock's owner file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # noqa: UP001 - ansible-test boilerplate

DOCUMENTATION = r"""
name: run_identity
short_description: Identity of this ansible-playbook run on the controller
version_added: 0.2.0
description:
  - Returns the controller's host name, the controller's boot id
    (C(/proc/sys/kernel/random/boot_id)), the process id of the C(ansible-playbook) main
    process and that process's start time (field 22 of C(/proc/<pid>/stat), clock ticks
    since boot).
  - Lookups run in a worker process that C(ansible-playbook) forks for each task, so the main
    process is the worker's parent (C(os.getppid) in the worker). When the lookup runs in the
    main process itself (no multiprocessing parent), its own pid is used.
  - The start time tells a live run from a later process that reuses the pid; the boot id
    tells a pid of this boot from one of an earlier boot.
  - The run lock of the roles (C(postgresql_lock_path)) records this identity, and
    P(pgrepl.streaming.lock_verdict#filter) judges it.
  - On a controller without C(/proc) the boot id is C(unknown) and the start time C(0); only
    the pid is then checked.
options: {}
author:
  - pgrepl.streaming maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Show who this run is
  ansible.builtin.debug:
    msg: "{{ lookup('pgrepl.streaming.run_identity') }}"
"""

RETURN = r"""
_raw:
  description: One dictionary.
  type: list
  elements: dict
  contains:
    controller:
      description: Host name of the controller (C(socket.gethostname())).
      type: str
    boot_id:
      description: Boot id of the controller, C(unknown) without C(/proc).
      type: str
    pid:
      description: Process id of the C(ansible-playbook) main process.
      type: int
    pid_start:
      description: Start time of that process in clock ticks since boot, C(0) when unknown.
      type: int
"""

import multiprocessing  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402

from ansible.errors import AnsibleLookupError  # noqa: E402
from ansible.plugins.lookup import LookupBase  # noqa: E402
from ansible_collections.pgrepl.streaming.plugins.plugin_utils.processes import (  # noqa: E402
    boot_id,
    process_stat,
)


def main_pid():
    """The pid of the ansible-playbook main process, seen from this process."""
    if multiprocessing.parent_process() is None:
        return os.getpid()
    return os.getppid()


def run_identity():
    pid = main_pid()
    stat = process_stat(pid)
    return {
        "controller": socket.gethostname(),
        "boot_id": boot_id(),
        "pid": pid,
        "pid_start": stat[1] if stat else 0,
    }


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        if terms:
            raise AnsibleLookupError("pgrepl.streaming.run_identity takes no terms, got %r"
                                     % (terms,))
        self.set_options(var_options=variables, direct=kwargs)
        return [run_identity()]
