"""A lab of real systemd containers for the fault tests (tests/system/test_faults.py).

One primary and two standbys (Debian 12 / PostgreSQL 15; see DISTRO) named pgrepl-faults-pg1..3
on their own podman network, created and removed by scripts/lab.sh (LAB_PREFIX=pgrepl-faults). This
module runs playbooks against them with generated inventories and reads their real state
through `podman exec`: psql as postgres, stat, pg_controldata, checksums of the config files.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.molecule.hostenv import BIN, REPO, tool_env
from tests.molecule.hostenv import require_podman as require_host_podman

# PGREPL_FAULTS_DISTRO=trixie builds the lab from Debian 13 / PostgreSQL 17 instead, with its
# own container names and output directory (test_lifecycle.py reruns a case there).
DISTRO = os.environ.get("PGREPL_FAULTS_DISTRO", "bookworm")
VERSIONS = {"bookworm": "15", "trixie": "17"}
SUFFIX = "" if DISTRO == "bookworm" else "-" + DISTRO

CASES = REPO / "tests" / "faults"
OUTPUT = REPO / "tests" / "output" / ("faults" + SUFFIX)

PREFIX = "pgrepl-faults" + SUFFIX
PRIMARY = PREFIX + "-pg1"
STANDBYS = (PREFIX + "-pg2", PREFIX + "-pg3")
HOSTS = (PRIMARY, *STANDBYS)
IMAGE = "localhost/pgrepl-systemd:" + DISTRO

VERSION = VERSIONS[DISTRO]
DATA_DIR = "/var/lib/postgresql/%s/main" % VERSION
CLONE_DIR = DATA_DIR + ".pgrepl-clone"
CONF_DIR = "/etc/postgresql/%s/main" % VERSION
SERVICE = "postgresql@%s-main" % VERSION
LOCK_DIR = "/run/pgrepl-streaming.lock"

# Quote, double quote, space, backslash and colon: every character that needs escaping
# somewhere (.pgpass, YAML, shell, conninfo). Used for the whole lab.
PASSWORD = 'it\'s a "p@ss" w\\ord:1'

RECAP = re.compile(r"^(?P<host>\S+)\s+: ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+"
                   r"unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)", re.MULTILINE)


# How long the waits below give up after: generous, since `make test` runs two lanes of
# playbooks and containers at once on a small machine (a wait ends as soon as it is met).
WAIT = 300

shell_quote = shlex.quote


def slot_of(host: str) -> str:
    """The roles' documented slot-name rule."""
    return re.sub(r"[^a-z0-9_]", "_", host.lower())


def environment() -> dict[str, str]:
    return tool_env(LAB_PREFIX=PREFIX, LAB_DISTRO=DISTRO)


def require_podman() -> None:
    """Fail (never skip) when podman or the test image is unusable."""
    env = environment()
    podman = require_host_podman(env)
    image = subprocess.run([podman, "image", "exists", IMAGE], env=env, check=False)
    assert image.returncode == 0, "%s is missing: run `make images`" % IMAGE


def lab(command: str) -> None:
    """scripts/lab.sh <command> for this lab (containers | down)."""
    done = subprocess.run(["bash", str(REPO / "scripts" / "lab.sh"), command], cwd=REPO,
                          env=environment(), capture_output=True, text=True, check=False)
    assert done.returncode == 0, "lab.sh %s failed:\n%s%s" % (command, done.stdout, done.stderr)


def sh(host: str, script: str, check: bool = True) -> str:
    """Run a bash script as root in a container; its stdout, stripped."""
    done = subprocess.run(["podman", "exec", host, "bash", "-c", script], env=environment(),
                          capture_output=True, text=True, check=False)
    if check:
        assert done.returncode == 0, "%s: %s\nrc=%d\n%s%s" % (
            host, script, done.returncode, done.stdout, done.stderr)
    return done.stdout.strip()


def psql(host: str, sql: str) -> str:
    """One SQL statement as postgres through the local socket; unaligned output."""
    done = subprocess.run(
        ["podman", "exec", host, "runuser", "-u", "postgres", "--", "psql", "-XAtq",
         "-v", "ON_ERROR_STOP=1", "-c", sql],
        env=environment(), capture_output=True, text=True, check=False)
    assert done.returncode == 0, "%s: %s\n%s" % (host, sql, done.stderr)
    return done.stdout.strip()


def wait_until(what: str, probe: Callable[[], Any], timeout: float = WAIT) -> Any:
    """Poll probe() until it returns something truthy; fail naming `what` (and the last
    value seen) after timeout seconds. A wait, not a speed assertion."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(1)
    raise AssertionError("gave up waiting for %s after %d s (last seen: %r)"
                         % (what, timeout, last))


# --- inventories and playbook runs ---------------------------------------------------------

def inventory(name: str, primary: dict[str, dict] | None = None,
              standbys: dict[str, dict] | None = None, **all_vars: Any) -> Path:
    """Write an inventory: group primary, group standby (inventory name -> host vars), and
    variables for all (the lab password unless overridden; None drops a variable)."""
    variables = {
        "ansible_connection": "pgrepl_podman",
        "ansible_python_interpreter": "/usr/bin/python3",
        "postgresql_replication_password": PASSWORD,
    }
    variables.update(all_vars)
    variables = {key: value for key, value in variables.items() if value is not None}
    data = {"all": {"vars": variables, "children": {
        "primary": {"hosts": primary if primary is not None else {PRIMARY: None}},
        "standby": {"hosts": standbys if standbys is not None else dict.fromkeys(STANDBYS)},
    }}}
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / ("inventory-%s.yml" % name)
    path.write_text(yaml.safe_dump(data, default_flow_style=False))
    path.chmod(0o600)
    return path


@dataclass
class Run:
    """One finished ansible-playbook run."""

    rc: int
    output: str
    log: Path
    seconds: float

    def recap(self) -> dict[str, dict[str, int]]:
        return {m["host"]: {key: int(m[key]) for key in ("ok", "changed", "unreachable", "failed")}
                for m in RECAP.finditer(self.output)}

    def changed_hosts(self) -> dict[str, int]:
        return {host: row["changed"] for host, row in self.recap().items() if row["changed"]}

    def tail(self, chars: int = 5000) -> str:
        return "(full output: %s)\n%s" % (self.log, self.output[-chars:])


@dataclass
class Cluster:
    """The converged lab: its inventory and the converge run."""

    inventory: Path
    converge: Run


def playbook_command(playbook: str, inv: Path, extra_vars: dict | None = None,
                     limit: str | None = None, verbose: bool = False) -> list[str]:
    path = REPO / playbook if "/" in playbook or playbook == "site.yml" else CASES / playbook
    cmd = [str(BIN / "ansible-playbook"), "-i", str(inv), str(path)]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    if limit:
        cmd += ["--limit", limit]
    if verbose:
        cmd.append("-v")
    return cmd


def start_playbook(name: str, playbook: str, inv: Path, **options: Any) -> tuple:
    """Start a run in the background; finish it with finish_playbook()."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    log = OUTPUT / ("%s.log" % name)
    sink = log.open("w")
    proc = subprocess.Popen(playbook_command(playbook, inv, **options), cwd=REPO,
                            env=environment(), stdout=sink, stderr=subprocess.STDOUT, text=True)
    return proc, sink, log, time.monotonic()


def finish_playbook(started: tuple) -> Run:
    proc, sink, log, start = started
    proc.wait()
    sink.close()
    return Run(proc.returncode, log.read_text(), log, time.monotonic() - start)


def playbook(name: str, playbook: str, inv: Path, **options: Any) -> Run:
    """Run a playbook (site.yml, playbooks/x.yml or a case playbook of tests/faults/);
    the output is kept in tests/output/faults/<name>.log."""
    return finish_playbook(start_playbook(name, playbook, inv, **options))


# --- real state ------------------------------------------------------------------------------

SNAPSHOT = r"""
data=%(data)s
echo "service=$(systemctl is-active %(service)s || true)"
echo "postmaster=$(head -n1 "$data/postmaster.pid" 2>/dev/null || echo none)"
echo "data_dir=$(stat -c '%%i %%U %%a' "$data" 2>/dev/null || echo absent)"
echo "pg_version=$(stat -c '%%i %%Y' "$data/PG_VERSION" 2>/dev/null || echo absent)"
echo "standby_signal=$(test -e "$data/standby.signal" && echo yes || echo no)"
echo "system_id=$(LC_ALL=C /usr/lib/postgresql/%(version)s/bin/pg_controldata -D "$data" \
  2>/dev/null | sed -n 's/^Database system identifier: *//p')"
echo "beside=$(ls -A "$(dirname "$data")" | tr '\n' ' ')"
echo "lock=$(test -e %(lock)s && echo held || echo free)"
for f in %(conf)s/*.conf %(conf)s/conf.d/* "$data/postgresql.auto.conf" ~postgres/.pgpass; do
  [ -f "$f" ] && echo "file $f=$(md5sum <"$f" | cut -c1-32) $(stat -c '%%U %%a' "$f")"
done
true
"""


def snapshot(host: str) -> dict[str, str]:
    """What must not change when a run is refused: the service and its server process, the
    data dir (inode, PG_VERSION inode and mtime, standby.signal, system identifier), the
    directories beside it, the run lock, and every configuration file with owner and mode."""
    script = SNAPSHOT % {"data": DATA_DIR, "service": SERVICE, "version": VERSION,
                         "lock": LOCK_DIR, "conf": CONF_DIR}
    return dict(line.split("=", 1) for line in sh(host, script).splitlines())


def snapshots(hosts: Sequence[str] = HOSTS) -> dict[str, dict[str, str]]:
    return {host: snapshot(host) for host in hosts}


def system_identifier(host: str) -> str:
    return psql(host, "SELECT system_identifier FROM pg_control_system()")


def streaming_standbys() -> set[str]:
    rows = psql(PRIMARY, "SELECT application_name FROM pg_stat_replication "
                         "WHERE state = 'streaming'")
    return set(rows.split()) if rows else set()


def wait_streaming(hosts: Sequence[str] = STANDBYS, timeout: float = WAIT) -> None:
    wanted = {slot_of(host) for host in hosts}
    wait_until("%s streaming from the primary" % ", ".join(sorted(wanted)),
               lambda: wanted <= streaming_standbys(), timeout)


def write_and_wait(hosts: Sequence[str] = STANDBYS, timeout: float = WAIT) -> int:
    """Insert a fresh row on the primary and wait until every given standby shows it."""
    row = int(psql(PRIMARY, "INSERT INTO faults_rows (note) VALUES ('written at ' || "
                            "clock_timestamp()) RETURNING id"))
    query = "SELECT count(*) FROM faults_rows WHERE id = %d" % row
    for host in hosts:
        wait_until("row %d on %s" % (row, host), lambda host=host: psql(host, query) == "1",
                   timeout)
    return row


def row_count(host: str, table: str = "faults_rows") -> int:
    return int(psql(host, "SELECT count(*) FROM %s" % table))


# --- network cuts ----------------------------------------------------------------------------

def _netns(host: str, *rule: str) -> None:
    """iptables inside the container's network namespace, entered from the host (the image
    has no iptables; `podman pause` would not do: the kernel keeps accepting the WAL sent)."""
    pid = subprocess.run(["podman", "inspect", "-f", "{{.State.Pid}}", host], env=environment(),
                         capture_output=True, text=True, check=True).stdout.strip()
    done = subprocess.run(["nsenter", "-t", pid, "-n", "iptables", *rule], env=environment(),
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, "iptables %s on %s: %s" % (" ".join(rule), host, done.stderr)


def cut(host: str) -> None:
    """Drop every packet to and from the host's network (loopback stays)."""
    _netns(host, "-I", "INPUT", "!", "-i", "lo", "-j", "DROP")
    _netns(host, "-I", "OUTPUT", "!", "-o", "lo", "-j", "DROP")


def heal(host: str) -> None:
    """Undo cut() (flush: the containers have no other rules)."""
    _netns(host, "-F", "INPUT")
    _netns(host, "-F", "OUTPUT")
