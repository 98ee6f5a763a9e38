# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run lock: whether a lock found on a host belongs to a live run.

A decision table (ROWS, first matching row wins), unit-tested row by row; render_markdown()
prints it for docs/safety.md. The liveness of a run of this controller is checked here, on the
controller, where its ansible-playbook process runs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # noqa: UP001 - ansible-test boilerplate

DOCUMENTATION = r"""
name: lock_verdict
short_description: Judge the run lock another run left on a host
version_added: 0.2.0
description:
  - Takes the text of the lock's C(owner) file and what the host reported about the lock
    (age of the C(heartbeat) file, age of the lock directory), and returns whether the lock
    is C(live) (wait), C(stale) (take it over), C(foreign) (not ours, never touched) or
    C(mine) (this run holds it).
  - The owner file is one line, C(<token> role=<role> controller=<host> boot_id=<id>
    pid=<pid> pid_start=<ticks> since=<UTC time>), written by the roles' C(lock.yml) from
    P(pgrepl.streaming.run_identity#lookup).
  - "The rows, first match wins: an owner file that is missing or not in that format is
    C(foreign) (a directory that is younger than 10 s and has no owner yet is C(live): a run
    is creating it); the owner token is this run's: C(mine); a heartbeat younger than 60 s
    (a clone is being written): C(live); same controller host and boot id: C(live) when the
    owner's pid is alive with the same start time, else C(stale); same controller host,
    another boot id: C(stale); another controller: C(stale) only when the lock is older than
    O(stale_after), else C(live)."
  - Whether the owner's pid is alive is checked on the controller that runs the filter (signal
    0 and C(/proc/<pid>/stat)), which is the owner's controller exactly when the host names
    and boot ids match.
positional: me, heartbeat_age, lock_age, stale_after
options:
  _input:
    description: Text of the owner file; V(None) when there is no owner file.
    type: str
    required: true
  me:
    description:
      - This run, P(pgrepl.streaming.run_identity#lookup) plus C(token), this run's token
        on the host.
    type: dict
    required: true
  heartbeat_age:
    description: Seconds since the lock's C(heartbeat) file was touched; V(None) without one.
    type: int
  lock_age:
    description: Seconds since the lock directory was created or changed; V(None) if unknown.
    type: int
  stale_after:
    description: C(postgresql_lock_stale_after); applies only to locks of other controllers.
    type: int
    default: 7200
author:
  - pgrepl.streaming maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Judge the lock found on the host
  ansible.builtin.set_fact:
    lock_verdict: >-
      {{ owner_text | pgrepl.streaming.lock_verdict(me, heartbeat_age, lock_age,
         postgresql_lock_stale_after | int) }}
  vars:
    me: "{{ lookup('pgrepl.streaming.run_identity') | combine({'token': my_token}) }}"
"""

RETURN = r"""
_value:
  description:
    - C(verdict) (C(live), C(stale), C(foreign) or C(mine)), C(reason) (one sentence for
      messages) and C(row), the number of the deciding row of the table.
  type: dict
"""

import re  # noqa: E402
from collections import namedtuple  # noqa: E402

from ansible.errors import AnsibleFilterError  # noqa: E402
from ansible_collections.pgrepl.streaming.plugins.plugin_utils.processes import (  # noqa: E402
    process_alive,
)

HEARTBEAT_FRESH = 60  # seconds: a clone touches the heartbeat every 10 s
BIRTH_GRACE = 10  # seconds between mkdir and the owner file of a run that takes a lock
OWNER_KEYS = ("role", "controller", "boot_id", "pid", "pid_start", "since")
OWNER_FORMAT = "<token> role= controller= boot_id= pid= pid_start= since="
TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
FIELD = re.compile(r"^([a-z_]+)=(\S*)$")
ME_KEYS = ("token", "controller", "boot_id", "pid", "pid_start")

# What the lock tasks do with each verdict (also printed by render_markdown).
ACTIONS = {
    "live": "wait, polling every 2 s, up to `postgresql_lock_wait`; then refuse",
    "stale": "take it over, only if the owner file still holds the same token",
    "foreign": "refuse at once; the directory and its contents are never touched",
    "mine": "this run already holds it",
}


def parse_owner(text):
    """The fields of an owner line, or None when the text is not one."""
    if text is None:
        return None
    line = str(text).strip()
    if not line or "\n" in line:
        return None
    words = line.split()
    if not TOKEN.match(words[0]):
        return None
    owner = {"token": words[0]}
    for word in words[1:]:
        match = FIELD.match(word)
        if not match:
            return None
        owner.setdefault(match.group(1), match.group(2))
    if any(key not in owner for key in OWNER_KEYS):
        return None
    if not owner["controller"] or not owner["boot_id"]:
        return None
    if not owner["pid"].isdigit() or not owner["pid_start"].isdigit():
        return None
    owner["pid"], owner["pid_start"] = int(owner["pid"]), int(owner["pid_start"])
    return owner


def _seconds(value, name):
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        raise AnsibleFilterError("lock_verdict: %s must be a number of seconds, got %r"
                                 % (name, value)) from None


class Seen(object):
    """What the rows look at: the owner, this run, the ages, and (once, lazily) whether the
    owner's process is alive on this controller."""

    def __init__(self, owner_text, me, heartbeat_age, lock_age, stale_after):
        self.text = owner_text
        self.owner = parse_owner(owner_text)
        self.me = me
        self.heartbeat_age = _seconds(heartbeat_age, "heartbeat_age")
        self.lock_age = _seconds(lock_age, "lock_age")
        self.stale_after = _seconds(stale_after, "stale_after")
        if self.stale_after is None:
            self.stale_after = 7200
        self._alive = None

    @property
    def empty(self):
        return self.text is None or not str(self.text).strip()

    @property
    def same_controller(self):
        return self.owner["controller"] == self.me["controller"]

    @property
    def same_boot(self):
        return self.same_controller and self.owner["boot_id"] == self.me["boot_id"]

    @property
    def alive(self):
        if self._alive is None:
            self._alive = process_alive(self.owner["pid"], self.owner["pid_start"])
        return self._alive

    def run(self):
        return "the run pid %d on controller %s (boot %s)" % (
            self.owner["pid"], self.owner["controller"], self.owner["boot_id"])


def _being_created(seen):
    if seen.empty and seen.lock_age is not None and seen.lock_age < BIRTH_GRACE:
        return ("the lock was made %d s ago and has no owner yet: a run is taking it"
                % seen.lock_age)
    return None


def _not_ours(seen):
    if seen.text is None:
        return "it has no owner file"
    if seen.owner is None:
        return "its owner file is not a pgrepl.streaming owner line (%s)" % OWNER_FORMAT
    return None


def _mine(seen):
    if seen.owner["token"] == seen.me["token"]:
        return "this run holds it (token %s)" % seen.owner["token"]
    return None


def _heartbeat(seen):
    if seen.heartbeat_age is not None and seen.heartbeat_age < HEARTBEAT_FRESH:
        return ("its heartbeat was touched %d s ago: %s is writing a clone"
                % (seen.heartbeat_age, seen.run()))
    return None


def _alive_here(seen):
    if seen.same_boot and seen.alive[0]:
        return "%s %s" % (seen.run(), seen.alive[1])
    return None


def _dead_here(seen):
    if seen.same_boot and not seen.alive[0]:
        return "%s %s" % (seen.run(), seen.alive[1])
    return None


def _rebooted(seen):
    if seen.same_controller and not seen.same_boot:
        return ("%s ended: controller %s has booted again since (boot %s now)"
                % (seen.run(), seen.me["controller"], seen.me["boot_id"]))
    return None


def _other_old(seen):
    if (not seen.same_controller and seen.lock_age is not None
            and seen.lock_age > seen.stale_after):
        return ("%s has held it for %d s, longer than postgresql_lock_stale_after (%d s) "
                "allows a run of another controller"
                % (seen.run(), seen.lock_age, seen.stale_after))
    return None


def _other_young(seen):
    if not seen.same_controller:
        age = "an unknown time" if seen.lock_age is None else "%d s" % seen.lock_age
        return ("%s has held it for %s; a run of another controller is taken over only "
                "after postgresql_lock_stale_after (%d s)" % (seen.run(), age, seen.stale_after))
    return None


Row = namedtuple("Row", ["when", "verdict", "match"])

# The decision table: the first row whose match() returns a reason decides.
ROWS = (
    Row("no owner file (or an empty one) and the directory is younger than %d s" % BIRTH_GRACE,
        "live", _being_created),
    Row("no owner file, or one that is not an owner line `%s`" % OWNER_FORMAT,
        "foreign", _not_ours),
    Row("the owner's token is this run's token", "mine", _mine),
    Row("the `heartbeat` file was touched less than %d s ago (a clone is being written)"
        % HEARTBEAT_FRESH, "live", _heartbeat),
    Row("same controller host and boot id, and the owner's pid is alive with the recorded "
        "start time", "live", _alive_here),
    Row("same controller host and boot id, and the owner's pid is gone, a zombie, or another "
        "process (other start time)", "stale", _dead_here),
    Row("same controller host, another boot id (the controller rebooted)", "stale", _rebooted),
    Row("another controller host, and the lock is older than `postgresql_lock_stale_after`",
        "stale", _other_old),
    Row("another controller host, and the lock is younger", "live", _other_young),
)


def _check_me(me):
    if not isinstance(me, dict) or any(key not in me for key in ME_KEYS):
        raise AnsibleFilterError("lock_verdict: me must be a dict with %s, got %r"
                                 % (", ".join(ME_KEYS), me))
    return dict(me, controller=str(me["controller"]), boot_id=str(me["boot_id"]),
                token=str(me["token"]))


def lock_verdict(owner_text, me, heartbeat_age=None, lock_age=None, stale_after=7200):
    seen = Seen(owner_text, _check_me(me), heartbeat_age, lock_age, stale_after)
    for number, row in enumerate(ROWS, 1):
        reason = row.match(seen)
        if reason:
            return {"verdict": row.verdict, "reason": reason, "row": number}
    raise AnsibleFilterError("lock_verdict: no row matched %r" % (owner_text,))  # unreachable


def render_markdown():
    """The table as markdown, for docs/safety.md."""
    lines = ["| # | what is found | verdict | what the run does |", "|---|---|---|---|"]
    for number, row in enumerate(ROWS, 1):
        cells = (number, row.when, row.verdict, ACTIONS[row.verdict])
        lines.append("| %d | %s | `%s` | %s |" % cells)
    return "\n".join(lines) + "\n"


class FilterModule(object):
    def filters(self):
        return {"lock_verdict": lock_verdict}
