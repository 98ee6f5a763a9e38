"""The run identity: in an Ansible worker (a forked child) the pid is the parent's."""

from __future__ import annotations

import multiprocessing
import os
import socket

import pytest

from ansible_collections.pgrepl.streaming.plugins.lookup import run_identity as ri
from ansible_collections.pgrepl.streaming.plugins.plugin_utils.processes import (
    boot_id,
    process_stat,
)


def test_in_the_main_process_it_is_this_process():
    me = ri.run_identity()
    assert me == {"controller": socket.gethostname(), "boot_id": boot_id(),
                  "pid": os.getpid(), "pid_start": process_stat(os.getpid())[1]}


def _in_worker(queue):
    queue.put(ri.run_identity())


def test_in_a_forked_worker_it_is_the_parent():
    # ansible-playbook forks its workers with multiprocessing ("fork"), like this.
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    worker = ctx.Process(target=_in_worker, args=(queue,))
    worker.start()
    seen = queue.get(timeout=30)
    worker.join(30)
    assert seen["pid"] == os.getpid() != worker.pid
    assert seen["pid_start"] == process_stat(os.getpid())[1]


def test_lookup_plugin_returns_one_identity_and_takes_no_terms():
    plugin = ri.LookupModule()
    assert plugin.run([], variables={}) == [ri.run_identity()]
    with pytest.raises(Exception, match="takes no terms"):
        plugin.run(["x"], variables={})
