# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller processes, read from /proc: shared by the run_identity lookup and the
lock_verdict filter, so both read a process's start time the same way."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # noqa: UP001 - ansible-test boilerplate

import errno
import os

BOOT_ID_FILE = "/proc/sys/kernel/random/boot_id"


def boot_id(path=BOOT_ID_FILE):
    """The kernel's boot id, or 'unknown' where there is none."""
    try:
        with open(path) as handle:
            return handle.read().strip() or "unknown"
    except OSError:
        return "unknown"


def process_stat(pid):
    """(state, start time) of a process from /proc/<pid>/stat, or None when unreadable.

    The command name (field 2) may hold spaces and parentheses, so the fields are counted
    from the last ')': field 3 (state) is the first after it, field 22 (starttime, clock
    ticks since boot) the 20th.
    """
    try:
        with open("/proc/%d/stat" % int(pid), "rb") as handle:
            text = handle.read().decode("ascii", "replace")
    except (OSError, ValueError):
        return None
    fields = text[text.rfind(")") + 1:].split()
    try:
        return fields[0], int(fields[19])
    except (IndexError, ValueError):
        return None


def process_alive(pid, start):
    """(alive, why): is process `pid` running and, when `start` is known (not 0), the same
    process that started at `start`? A zombie is dead. When the start time cannot be read
    (no /proc), a pid that exists counts as alive: the safe side. `why` completes a sentence
    about the pid ("... is gone")."""
    pid, start = int(pid), int(start)
    if pid <= 0:
        return False, "is not a process"
    try:
        os.kill(pid, 0)
    except OSError as exc:
        if exc.errno != errno.EPERM:  # EPERM: it exists, owned by another user
            return False, "is gone"
    stat = process_stat(pid)
    if stat is None:
        return True, "exists (its start time cannot be read)"
    state, started = stat
    if state in ("Z", "X"):
        return False, "is a finished process (state %s)" % state
    if start and started != start:
        return False, "is another process now (started at %d, the run at %d)" % (started, start)
    return True, "is alive (started at %d)" % started
