# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Count the remote module calls of each host in a playbook run (a test tool, not shipped).

Enabled with ANSIBLE_CALLBACK_PLUGINS=<this directory> and
ANSIBLE_CALLBACKS_ENABLED=remote_calls; PGREPL_REMOTE_CALLS_FILE names a file to which one
JSON line per playbook run is appended: {"playbook": ..., "calls": {host: n}, "tasks": {host:
[task names]}}. A call is a task (or one item of a loop) that ran on the host, skipped or
not counted; controller-local actions (set_fact, assert, debug, fail, include_*, import_*,
meta, add_host, group_by, validate_argument_spec, pause) are not calls, nor is a task delegated
to the controller (delegate_to: localhost, a local connection). Another delegated task counts
for the host it was delegated to.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # noqa: UP001 - ansible boilerplate

DOCUMENTATION = r"""
name: remote_calls
type: aggregate
short_description: Count remote module calls per host (pgrepl.streaming tests)
description:
  - Appends one JSON line per playbook run to the file named by PGREPL_REMOTE_CALLS_FILE.
requirements:
  - enable in configuration
"""

import json  # noqa: E402
import os  # noqa: E402

from ansible.plugins.callback import CallbackBase  # noqa: E402

LOCAL_ACTIONS = frozenset((
    "set_fact", "assert", "debug", "fail", "meta", "add_host", "group_by", "pause",
    "include_tasks", "import_tasks", "include_role", "import_role", "include_vars",
    "validate_argument_spec", "set_stats", "noop",
))

CONTROLLER = frozenset(("localhost", "127.0.0.1", "::1"))


def is_local(action):
    """Whether a task's action runs on the controller only (short or FQCN form)."""
    return action.rsplit(".", 1)[-1] in LOCAL_ACTIONS


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "remote_calls"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.calls = {}
        self.tasks = {}
        self.playbook = ""

    def v2_playbook_on_start(self, playbook):
        self.playbook = os.path.basename(playbook._file_name)

    def _count(self, result, items=None):
        task = result._task
        if is_local(task.action):
            return
        delegated = result._result.get("_ansible_delegated_vars")
        if task.delegate_to in CONTROLLER or (delegated or {}).get("ansible_connection") == "local":
            return  # ran on the controller
        host = (task.delegate_to if delegated is not None and isinstance(task.delegate_to, str)
                else result._host.get_name())
        count = 1 if items is None else items
        self.calls[host] = self.calls.get(host, 0) + count
        self.tasks.setdefault(host, []).append(task.get_name())

    def _on_result(self, result):
        results = result._result.get("results")
        if isinstance(results, list):  # a loop: one call per item that ran
            ran = [item for item in results if not item.get("skipped")]
            if ran:
                self._count(result, len(ran))
        else:
            self._count(result)

    def v2_runner_on_ok(self, result):
        self._on_result(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._on_result(result)

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("PGREPL_REMOTE_CALLS_FILE")
        if not path:
            return
        with open(path, "a") as sink:
            sink.write(json.dumps({"playbook": self.playbook, "calls": self.calls,
                                   "tasks": self.tasks}, sort_keys=True) + "\n")
