"""The run lock (roles/postgresql/tasks/lock.yml, unlock.yml) with real ansible-playbook runs.

Each test runs tests/integration/playbooks/lock_cycle.yml (take the lock, print its owner
line, optionally hold it, release it) against localhost with a local connection and a lock
directory in a fresh temporary directory, after putting there what another run would have
left: the owner line of a live run (a `sleep` this test starts), of a dead run, of another
controller, or a directory that is no lock at all. The last tests run the standby role's
clone (playbooks/clone_heartbeat.yml) with a fake pg_basebackup, to see its heartbeat keep
the lock of a run that was killed while the clone is still being written.

No containers and no PostgreSQL server are needed; the clone tests need the user postgres.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
# The modules run as root and, for the clone, as postgres: the system Python, which both reach.
HOST_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
HOST = socket.gethostname()
BOOT_ID = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
REFUSED = "Another pgrepl.streaming run is working on localhost"
UNCHANGED = "Nothing was changed by this run"


def start_time(pid: int) -> int:
    text = Path("/proc/%d/stat" % pid).read_text()
    return int(text[text.rfind(")") + 1:].split()[19])


def owner_line(token: str, pid: int, pid_start: int, controller: str = HOST,
               boot_id: str = BOOT_ID, role: str = "manual") -> str:
    return ("%s role=%s controller=%s boot_id=%s pid=%d pid_start=%d since=2026-01-25T10:15:00Z\n"
            % (token, role, controller, boot_id, pid, pid_start))


def dead_pid() -> tuple[int, int]:
    """pid and start time of a process that has finished."""
    proc = subprocess.Popen(["sleep", "0.01"])
    started = start_time(proc.pid)
    proc.wait()
    return proc.pid, started


def age(path: Path, seconds: int) -> None:
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp), follow_symlinks=False)


def snapshot(path: Path) -> dict:
    """Everything about the lock path that a run could change: names, kinds, contents, times."""
    found = {}
    for item in [path, *(sorted(path.rglob("*")) if path.is_dir() and not path.is_symlink()
                         else [])]:
        info = item.lstat()
        content = item.read_bytes() if item.is_file() and not item.is_symlink() else None
        link = os.readlink(item) if item.is_symlink() else None
        found[str(item)] = (info.st_mode, info.st_uid, info.st_mtime_ns, content, link)
    return found


@dataclass
class Run:
    rc: int
    output: str
    pid: int
    pid_start: int
    seconds: float

    @property
    def flat(self) -> str:
        """The output without the YAML callback's line breaks."""
        return " ".join(self.output.split())

    def said(self, *fragments: str) -> None:
        for fragment in fragments:
            assert fragment in self.flat, "%r missing from:\n%s" % (fragment, self.output[-6000:])

    def owner(self) -> str:
        match = re.search(r"LOCK-OWNER (.*?) since=(\S+)", self.flat)
        assert match, self.output[-6000:]
        return match.group(1)


class Playbook:
    """ansible-playbook on localhost; start() returns the process, finish() its Run."""

    def __init__(self, name: str, extra_vars: dict, verbose: bool = False,
                 inventory: str = "localhost,"):
        handle, self.vars_path = tempfile.mkstemp(suffix=".json")
        with os.fdopen(handle, "w") as vars_file:
            json.dump(dict(extra_vars, ansible_python_interpreter=HOST_PYTHON), vars_file)
        self.cmd = [str(ANSIBLE_PLAYBOOK), "-i", inventory, "-e", "ansible_connection=local",
                    "-e", "@" + self.vars_path, str(PLAYBOOKS / name)]
        if verbose:
            self.cmd.append("-v")

    def start(self) -> subprocess.Popen:
        env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_FORCE_COLOR="0")
        self.began = time.monotonic()
        self.proc = subprocess.Popen(self.cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.pid_start = start_time(self.proc.pid)
        return self.proc

    def finish(self, timeout: float = 300) -> Run:
        try:
            output = self.proc.communicate(timeout=timeout)[0]
        finally:
            os.unlink(self.vars_path)
        return Run(self.proc.returncode, output, self.proc.pid, self.pid_start,
                   time.monotonic() - self.began)


def run(name: str = "lock_cycle.yml", **extra_vars) -> Run:
    playbook = Playbook(name, extra_vars)
    playbook.start()
    return playbook.finish()


@pytest.fixture
def lock(tmp_path: Path) -> Path:
    return tmp_path / "pgrepl-streaming.lock"


@pytest.fixture
def live_process():
    proc = subprocess.Popen(["sleep", "300"])
    yield proc.pid, start_time(proc.pid)
    proc.kill()
    proc.wait()


def hold(lock: Path, line: str, lock_age: int = 0, heartbeat_age: int | None = None) -> dict:
    """Leave a lock as another run would: the owner file, maybe a heartbeat, aged."""
    lock.mkdir()
    (lock / "owner").write_text(line)
    if heartbeat_age is not None:
        (lock / "heartbeat").touch()
        age(lock / "heartbeat", heartbeat_age)
    age(lock, lock_age)
    return snapshot(lock)


def assert_refused_untouched(result: Run, lock: Path, before: dict, *fragments: str) -> None:
    assert result.rc != 0, result.output[-6000:]
    result.said(*fragments)
    assert snapshot(lock) == before


def assert_taken_over(result: Run, lock: Path) -> None:
    assert result.rc == 0, result.output[-6000:]
    result.said("Took over the stale run lock %s on localhost" % lock)
    assert " pid=%d pid_start=%d" % (result.pid, result.pid_start) in result.owner()
    assert not lock.exists(), "the lock was not released"


# --- a free lock ---------------------------------------------------------------------------------

def test_free_lock_is_taken_with_this_runs_identity_and_released(lock: Path):
    result = run(postgresql_lock_path=str(lock))

    assert result.rc == 0, result.output[-6000:]
    token, *fields = result.owner().split()
    assert re.fullmatch(r"[A-Za-z0-9]{20}", token)
    # The lookup ran in a forked worker: its os.getppid() is the ansible-playbook process
    # that this test started, and pid_start is that process's start time.
    assert fields == ["role=pgrepl.streaming.postgresql", "controller=" + HOST,
                      "boot_id=" + BOOT_ID, "pid=%d" % result.pid,
                      "pid_start=%d" % result.pid_start]
    result.said("LOCK-HEARTBEAT %s 0" % ("postgres" if has_postgres() else "root"))
    assert not lock.exists()
    assert list(lock.parent.iterdir()) == []


def test_hosts_are_locked_one_after_the_other_in_sorted_order(tmp_path: Path):
    # Two inventory hosts (both this machine, each with its own lock path), listed unsorted.
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(json.dumps({"all": {"hosts": {
        name: {"postgresql_lock_path": str(tmp_path / (name + ".lock"))}
        for name in ("zeta", "alpha")}}}))
    playbook = Playbook("lock_cycle.yml", {}, inventory=str(inventory))
    playbook.start()
    result = playbook.finish()

    assert result.rc == 0, result.output[-6000:]
    takes = re.findall(r"TASK \[[^]]*Take the lock, or wait while a live run holds it, on (\w+)\]"
                       r"[^\n]*\n(\w+): \[(\w+)\]\n(\w+): \[(\w+)\]", result.output)
    # alpha first: it takes its lock while zeta skips; then zeta's turn.
    assert [(t[0], sorted([t[1:3], t[3:5]])) for t in takes] == [
        ("alpha", [("ok", "alpha"), ("skipping", "zeta")]),
        ("zeta", [("ok", "zeta"), ("skipping", "alpha")])], result.output[-6000:]
    owners = re.findall(r"LOCK-OWNER (\S+) role=", result.flat)
    assert len(owners) == 2 and owners[0] != owners[1]  # a token per host
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inventory.yml"]


# --- a lock held by another run ----------------------------------------------------------------

def test_lock_of_a_live_run_of_this_controller_is_refused_after_the_wait(
        lock: Path, live_process):
    pid, started = live_process
    before = hold(lock, owner_line("LiveRun1", pid, started), lock_age=99999)

    result = run(postgresql_lock_path=str(lock), postgresql_lock_wait=3)

    assert_refused_untouched(result, lock, before, REFUSED,
                             "(lock %s: LiveRun1 role=manual controller=%s" % (lock, HOST),
                             "waited 3 s", "pid %d on controller %s" % (pid, HOST), "is alive",
                             UNCHANGED)
    assert result.seconds >= 3


@pytest.mark.parametrize("case", ["dead-pid", "pid-reused", "controller-rebooted"])
def test_lock_of_a_dead_run_of_this_controller_is_taken_over_at_once(
        lock: Path, live_process, case):
    if case == "dead-pid":
        line = owner_line("DeadRun1", *dead_pid())
    elif case == "pid-reused":  # the pid is alive, but it is a later process than the run's
        line = owner_line("DeadRun1", live_process[0], live_process[1] - 1)
    else:  # this very pid and start time, but recorded in an earlier boot
        line = owner_line("DeadRun1", *live_process, boot_id="0" * 8 + BOOT_ID[8:])
    hold(lock, line, heartbeat_age=3600)

    result = run(postgresql_lock_path=str(lock), postgresql_lock_wait=300)

    assert_taken_over(result, lock)
    result.said("DeadRun1 role=manual")
    assert result.seconds < 150  # not the 300 s of postgresql_lock_wait


def test_lock_of_another_controller_with_a_fresh_heartbeat_is_refused(lock: Path):
    # Older than postgresql_lock_stale_after, and its pid means nothing here: only the
    # heartbeat (a clone is being written) keeps it.
    before = hold(lock, owner_line("Elsewhere1", 1, 1, controller="elsewhere"),
                  lock_age=3 * 3600, heartbeat_age=0)

    result = run(postgresql_lock_path=str(lock), postgresql_lock_wait=3)

    assert_refused_untouched(result, lock, before, REFUSED, "Elsewhere1 role=manual",
                             "is writing a clone", UNCHANGED)


def test_lock_of_another_controller_is_live_until_stale_after(lock: Path):
    before = hold(lock, owner_line("Elsewhere2", 1, 1, controller="elsewhere"), lock_age=500)

    # -e key=value arrives as a string: "600" must work as 600 s.
    result = run(postgresql_lock_path=str(lock), postgresql_lock_wait=3,
                 postgresql_lock_stale_after="600")

    assert_refused_untouched(result, lock, before, REFUSED, "Elsewhere2 role=manual",
                             "a run of another controller is taken over only after "
                             "postgresql_lock_stale_after (600 s)",
                             UNCHANGED)


def test_lock_of_another_controller_past_stale_after_is_taken_over(lock: Path):
    hold(lock, owner_line("Elsewhere3", 1, 1, controller="elsewhere"), lock_age=700,
         heartbeat_age=650)

    result = run(postgresql_lock_path=str(lock), postgresql_lock_stale_after="600")

    assert_taken_over(result, lock)
    result.said("longer than postgresql_lock_stale_after (600 s)")


def test_two_runs_taking_over_one_stale_lock_at_once(lock: Path):
    hold(lock, owner_line("DeadRun2", *dead_pid()))
    playbooks = [Playbook("lock_cycle.yml", {"postgresql_lock_path": str(lock),
                                             "postgresql_lock_wait": 3, "lock_hold_seconds": 10})
                 for _run in range(2)]
    for playbook in playbooks:
        playbook.start()
    results = [playbook.finish() for playbook in playbooks]

    winners = [result for result in results if result.rc == 0]
    losers = [result for result in results if result.rc != 0]
    assert len(winners) == 1 and len(losers) == 1, [r.output[-3000:] for r in results]
    winners[0].said("Took over the stale run lock")
    # The loser judged the same stale lock, found the winner's token under flock and waited
    # again (or came later): it names the winner.
    losers[0].said(REFUSED, "lock %s: %s" % (lock, winners[0].owner()), UNCHANGED)
    assert not lock.exists()


# --- not a lock of ours -------------------------------------------------------------------------

FOREIGN = {
    "empty-directory": lambda lock: lock.mkdir(),
    "a-file-inside": lambda lock: (lock.mkdir(), (lock / "data.txt").write_text("keep me\n")),
    "foreign-owner-file": lambda lock: (lock.mkdir(), (lock / "owner").write_text("alice\n")),
    "pre-0.2-owner-line": lambda lock: (lock.mkdir(), (lock / "owner").write_text(
        "abc123 role=standby controller=elsewhere since=2026-01-01T00:00:00Z\n")),
    "symlink-to-a-directory": lambda lock: (
        (lock.parent / "target").mkdir(), (lock.parent / "target" / "x").write_text("x"),
        lock.symlink_to(lock.parent / "target")),
    "regular-file": lambda lock: lock.write_text("not a directory\n"),
}


@pytest.mark.parametrize("kind", sorted(FOREIGN))
def test_a_directory_that_is_not_a_run_lock_is_refused_and_never_touched(lock: Path, kind):
    FOREIGN[kind](lock)
    age(lock, 3600)  # old: a directory younger than 10 s without owner may be one being made
    before = {**snapshot(lock), **snapshot(lock.parent)}

    result = run(postgresql_lock_path=str(lock), postgresql_lock_wait=300)

    assert result.rc != 0
    result.said("%s on localhost is there but is not a pgrepl.streaming run lock" % lock,
                "It was not touched", UNCHANGED)
    assert {**snapshot(lock), **snapshot(lock.parent)} == before
    assert result.seconds < 60  # refused at once, no waiting


# --- a bad lock path ----------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/run", "/var/run", "/tmp", "/", "/etc", "/var", "/tmp/",
                                  "run/pgrepl.lock", "/tmp/../run", "/tmp/./x", "//tmp/x",
                                  "/tmp/a b", "/tmp/x;rm"])
def test_a_bad_lock_path_is_refused_before_anything(path: str):
    result = run(postgresql_lock_path=path)

    assert result.rc != 0
    result.said("postgresql_lock_path is '%s'" % path, UNCHANGED)
    assert "Choose this run's lock token" not in result.output
    assert "Take the lock on localhost" not in result.output


def test_a_lock_path_whose_parent_is_missing_is_refused(tmp_path: Path):
    result = run(postgresql_lock_path=str(tmp_path / "missing" / "lock"))

    assert result.rc != 0
    result.said("cannot be made on localhost", "No such file or directory", UNCHANGED)
    assert list(tmp_path.iterdir()) == []


# --- the clone's heartbeat ---------------------------------------------------------------------

def has_postgres() -> bool:
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return False
    return True


FAKE_PG_BASEBACKUP = """#!/bin/bash
# Stands in for pg_basebackup: records its arguments, writes into --pgdata, sleeps, fails.
work=%(work)s
printf '%%s\\n' "$@" >"$work/args"
echo $$ >"$work/pid"
for arg in "$@"; do case $arg in --pgdata=*) pgdata=${arg#--pgdata=} ;; esac; done
mkdir -p "$pgdata" && echo partial >"$pgdata/marker"
sleep "$(cat "$work/sleep")" &
echo $! >"$work/sleep.pid"
wait $!
echo "pg_basebackup: error: connection to server lost (fake)" >&2
exit 7
"""


@pytest.fixture
def clone_lab():
    """A directory postgres can reach: bin/pg_basebackup (the fake), work/, data/, the lock."""
    if not has_postgres():
        pytest.skip("needs the user postgres")
    root = Path(tempfile.mkdtemp(prefix="pgrepl-lock-test-"))
    try:
        root.chmod(0o755)
        (root / "bin").mkdir(mode=0o755)
        work = root / "work"
        work.mkdir()
        shutil.chown(work, "postgres")
        fake = root / "bin" / "pg_basebackup"
        fake.write_text(FAKE_PG_BASEBACKUP % {"work": work})
        fake.chmod(0o755)
        yield root
    finally:
        pid_file = root / "work" / "pid"
        if pid_file.exists():  # the fake of a killed run, its sleep, the wrapper above it
            fake = int(pid_file.read_text())
            sleep = int((root / "work" / "sleep.pid").read_text())
            kill_if(parent_pid(fake), str(root))
            kill_if(fake, str(root))
            kill_if(sleep, "sleep")
        shutil.rmtree(root)


def parent_pid(pid: int) -> int | None:
    try:
        text = Path("/proc/%d/stat" % pid).read_text()
    except OSError:
        return None
    return int(text[text.rfind(")") + 1:].split()[1])


def kill_if(pid: int | None, marker: str) -> None:
    """Kill a process this test started, if it still runs: its command line holds marker
    (a pid that finished long ago may belong to another process by now)."""
    try:
        cmdline = Path("/proc/%d/cmdline" % pid).read_bytes().decode(errors="replace")
    except (OSError, TypeError):
        return
    if marker in cmdline:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def clone_vars(root: Path, sleep: int) -> dict:
    (root / "work" / "sleep").write_text(str(sleep))
    return {
        "postgresql_lock_path": str(root / "lock"),
        "postgresql_bin_dir": str(root / "bin"),
        "postgresql_data_dir": str(root / "data" / "main"),
        "standby_clone_dir": str(root / "data" / "main.pgrepl-clone"),
        "standby_primary_host": "primary.invalid",
        "postgresql_port": 5432,
        "postgresql_replication_user": "replicator",
        "postgresql_home": "/var/lib/postgresql",
        "standby_slot": "standby1",
        "standby_connect_timeout": 5,
        "standby_clone_timeout": 600,
        "standby_basebackup_extra_args": ["--label=it's a \"label\" $HOME"],
        "standby_reason": "no data dir yet",
        "ansible_become_method": "su",
        # Facts that the standby role's evidence.yml sets in the version being worked on
        # (cloning into a mount point, tablespaces); without effect where they are unused.
        "standby_clone_in_place": False,
        "standby_real_data_dir": str(root / "data" / "main"),
        "standby_data_dir": str(root / "data" / "main"),
        "__standby_tablespaces": [],
    }


def wait_for(playbook: Playbook, check, seconds: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if playbook.proc.poll() is not None:
            pytest.fail("the playbook ended before %s:\n%s" % (what, playbook.finish().output))
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.2)


def test_a_failed_clone_heartbeats_and_reports_pg_basebackups_status_and_error(clone_lab):
    root = clone_lab
    playbook = Playbook("clone_heartbeat.yml", clone_vars(root, sleep=13), verbose=True)
    playbook.start()
    heartbeat = root / "lock" / "heartbeat"
    wait_for(playbook, (root / "work" / "args").exists, what="the fake pg_basebackup")
    began = time.time()
    wait_for(playbook, lambda: heartbeat.exists() and heartbeat.stat().st_mtime > began - 5, 10,
             "the first heartbeat")
    assert heartbeat.stat().st_uid == pwd.getpwnam("postgres").pw_uid
    time.sleep(11)
    assert heartbeat.stat().st_mtime >= began + 5, "the heartbeat was not touched again"
    result = playbook.finish()

    assert result.rc != 0
    args = (root / "work" / "args").read_text().splitlines()
    assert args == [
        "--dbname=host=primary.invalid port=5432 user=replicator "
        "passfile=/var/lib/postgresql/.pgpass application_name=standby1 connect_timeout=5 "
        "keepalives=1 keepalives_idle=10 keepalives_interval=5 keepalives_count=3",
        "--pgdata=%s" % (root / "data" / "main.pgrepl-clone"),
        "--wal-method=stream", "--write-recovery-conf", "--checkpoint=fast", "--no-password",
        "--slot=standby1", "--label=it's a \"label\" $HOME"]
    result.said("rc: 7", "Cloning primary.invalid:5432 into %s failed: pg_basebackup: error: "
                "connection to server lost (fake). %s was not touched"
                % (root / "data" / "main.pgrepl-clone", root / "data" / "main"))
    assert not (root / "data" / "main.pgrepl-clone").exists()  # the rescue removed it
    assert not (root / "lock").exists()  # and the run released its lock


def test_the_clone_of_a_killed_run_is_not_taken_over_while_it_is_written(clone_lab):
    """The issue: a run is killed while its pg_basebackup goes on. Its pid is dead, which
    alone would make its lock stale; the heartbeat keeps it, so a second run neither takes the
    lock nor gets to remove the clone that is still being written."""
    root = clone_lab
    first = Playbook("clone_heartbeat.yml", clone_vars(root, sleep=120))
    first.start()
    wait_for(first, (root / "work" / "args").exists, what="the fake pg_basebackup")
    wait_for(first, lambda: (root / "lock" / "heartbeat").stat().st_mtime > time.time() - 30,
             10, "the first heartbeat")
    os.kill(first.proc.pid, signal.SIGKILL)  # ansible-playbook itself, as `kill -9` would
    try:
        # Its worker still waits for the clone task: wait for the main process only.
        assert first.proc.wait(timeout=60) == -signal.SIGKILL
        assert not Path("/proc/%d" % first.proc.pid).exists()
        owner = (root / "lock" / "owner").read_text()
        assert " pid=%d " % first.proc.pid in owner
        check_killed_runs_clone_is_kept(root, owner)
    finally:
        first.proc.stdout.close()
        os.unlink(first.vars_path)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(first.proc.pid, signal.SIGKILL)  # its workers (same process group)


def check_killed_runs_clone_is_kept(root: Path, owner: str) -> None:
    before = snapshot(root / "lock")
    before.pop(str(root / "lock" / "heartbeat"))
    clone = root / "data" / "main.pgrepl-clone"
    assert (clone / "marker").read_text() == "partial\n"

    second = run(postgresql_lock_path=str(root / "lock"), postgresql_lock_wait=3)

    assert second.rc != 0
    second.said(REFUSED, owner.strip(), "is writing a clone", UNCHANGED)
    after = snapshot(root / "lock")
    after.pop(str(root / "lock" / "heartbeat"))
    assert after == before
    assert (clone / "marker").read_text() == "partial\n"
    assert Path("/proc/%s" % (root / "work" / "pid").read_text().strip()).exists()
