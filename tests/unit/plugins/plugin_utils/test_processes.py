"""Reading controller processes from /proc."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from ansible_collections.pgrepl.streaming.plugins.plugin_utils import processes


def test_start_time_is_field_22_counted_after_the_command_name(tmp_path):
    # A command name with spaces and ')' must not shift the fields.
    script = tmp_path / "a b) c"
    script.write_text("#!/bin/sh\nsleep 30\n")
    script.chmod(0o755)
    proc = subprocess.Popen([str(script)])
    try:
        for _attempt in range(100):
            raw = Path("/proc/%d/stat" % proc.pid).read_text()
            if "a b) c" in raw:
                break
            time.sleep(0.02)
        fields_after_name = raw[raw.rfind(")") + 2:].split()
        # The state may change between the two reads (R, S, D under load); the start time
        # may not.
        state, start = processes.process_stat(proc.pid)
        assert start == int(fields_after_name[19])
        assert len(state) == 1 and state in "RSDZTtWXxKPI"
        assert processes.process_alive(proc.pid, int(fields_after_name[19]))[0]
    finally:
        proc.kill()
        proc.wait()


def test_start_time_of_this_process_is_after_boot_and_stable():
    first = processes.process_stat(os.getpid())
    assert first[0] == "R" and first[1] > 0
    assert processes.process_stat(os.getpid())[1] == first[1]


def test_missing_process():
    proc = subprocess.Popen(["true"])
    proc.wait()
    assert processes.process_stat(proc.pid) is None
    assert processes.process_alive(proc.pid, 0) == (False, "is gone")


def test_boot_id(tmp_path):
    assert processes.boot_id() == Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    assert processes.boot_id(str(tmp_path / "missing")) == "unknown"
