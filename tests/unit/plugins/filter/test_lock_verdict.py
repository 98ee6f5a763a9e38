"""The run lock's decision table (plugins/filter/lock_verdict.py), row by row.

Processes are real: this test's own process is the "live run" (with its real start time), a
finished child is the "dead run", an unreaped child the zombie.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.pgrepl.streaming.plugins.filter import lock_verdict as lv
from ansible_collections.pgrepl.streaming.plugins.plugin_utils.processes import process_stat

REPO = Path(__file__).resolve().parents[4]
ME = {"token": "MyToken123", "controller": "ctl1", "boot_id": "boot-a", "pid": 4242,
      "pid_start": 777}
LIVE_PID = os.getpid()
LIVE_START = process_stat(LIVE_PID)[1]


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def owner(token="Other456", controller="ctl1", boot_id="boot-a", pid=None, pid_start=None,
          role="standby"):
    pid = LIVE_PID if pid is None else pid
    pid_start = LIVE_START if pid_start is None else pid_start
    return ("%s role=%s controller=%s boot_id=%s pid=%d pid_start=%d since=2026-01-25T10:15:00Z\n"
            % (token, role, controller, boot_id, pid, pid_start))


def verdict(text, heartbeat_age=None, lock_age=5, stale_after=7200, me=None):
    return lv.lock_verdict(text, ME if me is None else me, heartbeat_age, lock_age, stale_after)


def assert_row(result, number, word):
    assert (result["row"], result["verdict"]) == (number, lv.ROWS[number - 1].verdict), result
    assert result["verdict"] == word
    assert result["reason"]


# --- one test per row, in table order ----------------------------------------------------------

@pytest.mark.parametrize("text", [None, "", "  \n"])
def test_row1_no_owner_yet_in_a_young_directory_is_live(text):
    assert_row(verdict(text, lock_age=2), 1, "live")


@pytest.mark.parametrize(("text", "lock_age"), [
    (None, 60),                                     # a directory without owner file
    (None, None),                                   # age unknown: never "being created"
    ("", 3600),                                     # an empty owner file, old
    ("hello world\n", 1),                           # someone else's file, even a fresh one
    ("abc123 role=standby controller=x since=2026-01-01T00:00:00Z", 5),  # pre-0.2 owner line
    (owner().replace("pid=%d" % LIVE_PID, "pid=twelve"), 5),
    (owner().replace(" boot_id=boot-a", ""), 5),     # a field missing
    (owner().replace("controller=ctl1", "controller="), 5),
    (owner() + owner(), 5),                          # two lines
    ("tok=en " + owner()[9:], 5),                    # not a token
    (owner().replace(" since=", " since ="), 5),     # not key=value
], ids=[  # fixed ids: the owner lines hold this process's pid, which differs between the
          # xdist workers, and the workers must collect the same test ids
    "no-owner-file", "age-unknown", "empty-old", "someone-else", "pre-0.2", "pid-not-a-number",
    "field-missing", "empty-controller", "two-lines", "not-a-token", "not-key-value",
])
def test_row2_anything_not_an_owner_line_is_foreign(text, lock_age):
    result = verdict(text, heartbeat_age=1, lock_age=lock_age)
    assert_row(result, 2, "foreign")


def test_row3_my_own_token_is_mine():
    assert_row(verdict(owner(token="MyToken123", pid=dead_pid()), heartbeat_age=1), 3, "mine")


def test_row4_a_fresh_heartbeat_is_live_even_when_the_run_is_gone():
    # The controller's process is dead (or on another controller, age long past stale_after),
    # but a pg_basebackup still touches the heartbeat: its clone must not be removed.
    for text in (owner(pid=dead_pid()), owner(controller="ctl2", boot_id="boot-z")):
        result = verdict(text, heartbeat_age=59, lock_age=99999)
        assert_row(result, 4, "live")
        assert "writing a clone" in result["reason"]


def test_row5_my_controller_and_boot_with_a_live_pid_is_live():
    result = verdict(owner(), heartbeat_age=None, lock_age=99999)
    assert_row(result, 5, "live")
    assert result["reason"] == ("the run pid %d on controller ctl1 (boot boot-a) is alive "
                                "(started at %d)" % (LIVE_PID, LIVE_START))


def test_row5_a_pid_of_another_user_is_alive(monkeypatch):
    def eperm(pid, sig):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "kill", eperm)
    assert_row(verdict(owner()), 5, "live")


def test_row5_an_unreadable_start_time_counts_as_alive(monkeypatch):
    from ansible_collections.pgrepl.streaming.plugins.plugin_utils import processes

    monkeypatch.setattr(processes, "process_stat", lambda pid: None)
    assert_row(verdict(owner()), 5, "live")


def test_row5_a_recorded_start_time_of_zero_checks_the_pid_only():
    assert_row(verdict(owner(pid_start=0)), 5, "live")


@pytest.mark.parametrize("case", ["gone", "reused", "zombie", "pid0"])
def test_row6_my_controller_and_boot_with_a_dead_pid_is_stale(case):
    zombie = None
    if case == "gone":
        text = owner(pid=dead_pid(), pid_start=LIVE_START)
    elif case == "reused":  # the pid lives, but it is a later process than the run's
        text = owner(pid_start=LIVE_START - 1)
    elif case == "zombie":
        zombie = subprocess.Popen(["true"])
        for _attempt in range(200):
            stat = process_stat(zombie.pid)
            if stat and stat[0] == "Z":
                break
            import time
            time.sleep(0.01)
        text = owner(pid=zombie.pid, pid_start=process_stat(zombie.pid)[1])
    else:
        text = owner(pid=0)
    try:
        result = verdict(text, heartbeat_age=60, lock_age=1)
    finally:
        if zombie:
            zombie.wait()
    assert_row(result, 6, "stale")


def test_row7_my_controller_after_a_reboot_is_stale():
    # The same pid may well be alive now: after a reboot it is another process.
    result = verdict(owner(boot_id="boot-before"), heartbeat_age=3600, lock_age=30)
    assert_row(result, 7, "stale")
    assert "booted again" in result["reason"]


def test_row8_another_controller_past_stale_after_is_stale():
    assert_row(verdict(owner(controller="ctl2"), lock_age=7201), 8, "stale")
    assert_row(verdict(owner(controller="ctl2"), lock_age="601", stale_after="600"), 8,
               "stale")


@pytest.mark.parametrize(("lock_age", "stale_after"),
                         [(7200, 7200), (0, 7200), (None, 10), (-5, 7200)])
def test_row9_another_controller_within_stale_after_is_live(lock_age, stale_after):
    # Its pid means nothing here: it is a process of the other controller, never checked.
    text = owner(controller="ctl2", pid=dead_pid())
    assert_row(verdict(text, lock_age=lock_age, stale_after=stale_after), 9, "live")


# --- the table as a whole ----------------------------------------------------------------------

def test_every_row_is_reached_by_a_test():
    tested = {int(name.split("_")[1][3:]) for name in globals() if name.startswith("test_row")}
    assert tested == set(range(1, len(lv.ROWS) + 1))


def test_render_markdown_shows_every_row_in_order():
    table = lv.render_markdown().splitlines()
    assert table[0].startswith("| # |") and set(table[1]) <= set("|-")
    assert len(table) == 2 + len(lv.ROWS)
    for number, (line, row) in enumerate(zip(table[2:], lv.ROWS), 1):
        assert line.startswith("| %d | %s | `%s` |" % (number, row.when, row.verdict))
        assert lv.ACTIONS[row.verdict] in line


def test_docs_show_the_current_table():
    doc = (REPO / "docs" / "safety.md").read_text()
    assert lv.render_markdown() in doc, (
        "docs/safety.md (The run lock) does not show the table of plugins/filter/lock_verdict.py:"
        " paste render_markdown()")


# --- input handling ----------------------------------------------------------------------------

def test_ages_given_as_strings_or_empty():
    assert_row(verdict(owner(controller="ctl2"), heartbeat_age="", lock_age="8000",
                       stale_after="7200"), 8, "stale")
    assert_row(verdict(owner(controller="ctl2"), heartbeat_age="12"), 4, "live")


def test_stale_after_defaults_to_two_hours():
    assert_row(lv.lock_verdict(owner(controller="ctl2"), ME, None, 7199), 9, "live")
    assert_row(lv.lock_verdict(owner(controller="ctl2"), ME, None, 7201), 8, "stale")


@pytest.mark.parametrize("me", [None, {}, {"token": "x"}, "me"])
def test_me_must_be_a_run_identity_with_a_token(me):
    with pytest.raises(AnsibleFilterError, match="me must be"):
        lv.lock_verdict(owner(), me, None, 5, 7200)


def test_ages_must_be_numbers():
    with pytest.raises(AnsibleFilterError, match="lock_age"):
        verdict(owner(), lock_age="soon")


def test_the_owner_line_the_roles_write_is_understood():
    parsed = lv.parse_owner(owner(role=""))
    assert parsed == {"token": "Other456", "role": "", "controller": "ctl1", "boot_id": "boot-a",
                      "pid": LIVE_PID, "pid_start": LIVE_START, "since": "2026-01-25T10:15:00Z"}
