"""Lab benchmark: ratios of the collection's cost against the bare cost of the same work.

Brings up its own lab of systemd containers (scripts/lab.sh, prefix `bench`, 1 primary and
--standbys standbys), gives it SSH access like molecule/default/prepare.yml (bench/ssh.yml),
and measures, over the podman transport (pgrepl_podman) and over SSH in the same run:

1. an idempotent site.yml rerun / (its remote calls x one no-op remote call's cost)
2. (standby converge on a --scale primary - on an empty one) / a bare pg_basebackup
3. converge with --standbys standbys / with 1 standby (forced re-clones)
4. ansible -m pg_replication_status / ansible -m ping on the primary (medians), with a
   breakdown of the difference (payload, on-host time, imports)
5. catch-up after --wal-mb MB of WAL written while a standby was down, started by
   site.yml --limit primary:standby / started by hand (systemctl), under a pgbench load;
   the lag over time goes into a PNG plot.

Writes docs/benchmarks.md (table + explanation), docs/benchmarks-replay-lag.png and
bench/results/lab.json, prints the table, removes the lab (unless --keep). Exit status 1
when a target is missed. Usage: .venv/bin/python bench/lab.py [--quick] [options]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ratios import (
    Row,
    any_missed,
    expected_calls,
    median,
    parse_importtime,
    playbook_steps,
    ratio,
    render_markdown,
    render_terminal,
    top_level_imports,
)

REPO = Path(__file__).resolve().parents[1]
PREFIX = "bench"
LAB_STATE = REPO / ".cache" / "bench"  # scripts/lab.sh's (removed by its `down`)
WORK = REPO / ".cache" / "bench-run"  # ours: inventories, ssh files, logs
VENV_BIN = REPO / ".venv" / "bin"
TRANSPORTS = ("podman", "ssh")
MB = 1024 * 1024

TARGETS = {"rerun": 1.5, "clone": 1.10, "parallel": 1.3, "status": 1.2, "catchup": None}


class BenchError(RuntimeError):
    pass


def log(message: str) -> None:
    print("bench: %s" % message, flush=True)


def base_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = "%s:%s" % (VENV_BIN, env.get("PATH", "/usr/bin:/bin"))
    env.setdefault("ANSIBLE_CONFIG", str(REPO / "ansible.cfg"))
    env.setdefault("CONTAINERS_CONF", str(REPO / "molecule" / "containers.conf"))
    env["ANSIBLE_NOCOLOR"] = "1"
    env["ANSIBLE_SSH_CONTROL_PATH_DIR"] = str(WORK / "cp")
    env["LAB_PREFIX"] = PREFIX
    return env


class Runner:
    """Runs commands from the repository, timed, each one's output in WORK/logs/."""

    def __init__(self) -> None:
        self.env = base_env()
        self.count = 0
        (WORK / "logs").mkdir(parents=True, exist_ok=True)

    def log_path(self, name: str) -> Path:
        self.count += 1
        return WORK / "logs" / ("%03d-%s.log" % (self.count, name))

    def run(self, name: str, argv: list[str], env: dict[str, str] | None = None,
            check: bool = True) -> tuple[float, str]:
        path = self.log_path(name)
        start = time.perf_counter()
        with path.open("w") as out:
            out.write("$ %s\n" % shlex.join(argv))
            out.flush()
            done = subprocess.run(argv, cwd=REPO, env=dict(self.env, **(env or {})),
                                  stdout=out, stderr=subprocess.STDOUT, check=False)
        elapsed = time.perf_counter() - start
        text = path.read_text()
        if check and done.returncode != 0:
            raise BenchError("%s failed (exit %d), log %s:\n%s" % (
                name, done.returncode, path, text[-3000:]))
        return elapsed, text

    def quiet(self, argv: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
        """A short command, timed; output kept only when it fails."""
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=REPO, env=dict(self.env, **(env or {})),
                              capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise BenchError("%s failed (exit %d):\n%s%s" % (
                shlex.join(argv), done.returncode, done.stdout[-2000:], done.stderr[-2000:]))
        return elapsed, done.stdout


def podman_exec(container: str, argv: list[str], user: str | None = None,
                env: dict[str, str] | None = None) -> str:
    cmd = ["podman", "exec"] + (["-u", user] if user else []) + [container] + argv
    done = subprocess.run(cmd, capture_output=True, text=True, check=False,
                          env=env or base_env())
    if done.returncode != 0:
        raise BenchError("%s failed (exit %d): %s%s" % (
            shlex.join(cmd), done.returncode, done.stdout[-2000:], done.stderr[-2000:]))
    return done.stdout


def recap_changed(output: str) -> int:
    """Sum of changed=N over the PLAY RECAP lines of an ansible-playbook run."""
    return sum(int(found) for found in re.findall(r"\bchanged=(\d+)", output.split(
        "PLAY RECAP")[-1]))


@dataclass
class Lab:
    standbys: int
    distro: str
    version: str = ""

    @property
    def hosts(self) -> list[str]:
        return ["%s-pg%d" % (PREFIX, index) for index in range(1, self.standbys + 2)]

    @property
    def primary(self) -> str:
        return self.hosts[0]

    @property
    def first_standby(self) -> str:
        return self.hosts[1]

    @property
    def unit(self) -> str:
        return "postgresql@%s-main" % self.version

    def bin(self, name: str) -> str:
        return "/usr/lib/postgresql/%s/bin/%s" % (self.version, name)

    def psql(self, sql: str, host: str | None = None) -> str:
        return podman_exec(host or self.primary, ["psql", "-XAtq", "-c", sql],
                           user="postgres").strip()

    def slot(self, host: str) -> str:
        return host.replace("-", "_")

    def env(self) -> dict[str, str]:
        return {"LAB_PREFIX": PREFIX, "LAB_STANDBYS": str(self.standbys),
                "LAB_DISTRO": self.distro}


@dataclass
class Transport:
    name: str
    inventory: Path


def write_inventory(lab: Lab, name: str, conn: dict[str, str]) -> Path:
    password = (LAB_STATE / "replication-password").read_text().strip()
    data: dict[str, Any] = {"all": {
        "vars": dict({"ansible_python_interpreter": "/usr/bin/python3",
                      "postgresql_replication_password": password}, **conn),
        "children": {"primary": {"hosts": {lab.primary: None}},
                     "standby": {"hosts": {host: None for host in lab.hosts[1:]}}}}}
    path = WORK / ("inventory-%s.yml" % name)
    path.write_text("# Written by bench/lab.py (JSON is YAML).\n" + json.dumps(data, indent=2))
    path.chmod(0o600)
    return path


def setup_transports(lab: Lab, runner: Runner, wanted: list[str]) -> dict[str, Transport]:
    podman = write_inventory(lab, "podman", {"ansible_connection": "pgrepl_podman"})
    found = {"podman": Transport("podman", podman)}
    if "ssh" in wanted:
        ssh_dir = WORK / "ssh"
        runner.run("ssh-setup", ["ansible-playbook", "-i", str(podman), "-e",
                                 "ssh_dir=%s" % ssh_dir, "bench/ssh.yml"])
        inventory = write_inventory(lab, "ssh", {
            "ansible_connection": "ssh",
            "ansible_user": "pgrepl",
            "ansible_ssh_private_key_file": str(ssh_dir / "id_ed25519"),
            "ansible_ssh_common_args": "-F %s -o UserKnownHostsFile=%s "
                                       "-o StrictHostKeyChecking=yes" % (
                                           ssh_dir / "config", ssh_dir / "known_hosts"),
        })
        _elapsed, out = runner.run("ssh-check", [
            "ansible", "all", "-i", str(inventory), "-b", "-o", "-m", "ansible.builtin.command",
            "-a", "id -un"], env={"ANSIBLE_HOST_KEY_CHECKING": "True"})
        if out.count("rc=0") != len(lab.hosts) or "root" not in out:
            raise BenchError("the SSH login as root through sudo did not work:\n" + out)
        found["ssh"] = Transport("ssh", inventory)
    return {name: found[name] for name in wanted}


def site(runner: Runner, transport: Transport, name: str, *args: str,
         env: dict[str, str] | None = None) -> tuple[float, str]:
    return runner.run("%s-%s" % (name, transport.name), [
        "ansible-playbook", "-i", str(transport.inventory), "site.yml", *args], env=env)


# --- 1. idempotent rerun ---------------------------------------------------------------------

def noop_playbook(tasks: int) -> Path:
    lines = ["---", "- name: No-op remote calls", "  hosts: primary:standby",
             "  gather_facts: false", "  become: true", "  tasks:"]
    for index in range(tasks):
        lines += ["    - name: No-op %d" % (index + 1),
                  "      ansible.builtin.command: 'true'",
                  "      changed_when: false"]
    path = WORK / ("noop-%d.yml" % tasks)
    path.write_text("\n".join(lines) + "\n")
    return path


def measure_rerun(runner: Runner, transport: Transport, noop_tasks: int) -> dict[str, Any]:
    inv = str(transport.inventory)
    zero, _out = runner.run("noop0-" + transport.name, [
        "ansible-playbook", "-i", inv, str(noop_playbook(0))])
    many, _out = runner.run("noop%d-%s" % (noop_tasks, transport.name), [
        "ansible-playbook", "-i", inv, str(noop_playbook(noop_tasks))])
    adhoc = [runner.quiet(["ansible", "primary", "-i", inv, "-b", "-o", "-m",
                           "ansible.builtin.command", "-a", "true"])[0] for _round in range(3)]
    calls_file = WORK / ("calls-%s.jsonl" % transport.name)
    calls_file.unlink(missing_ok=True)
    elapsed, out = site(runner, transport, "rerun", env={
        "ANSIBLE_CALLBACK_PLUGINS": str(REPO / "tests" / "callback_plugins"),
        "ANSIBLE_CALLBACKS_ENABLED": "remote_calls",
        "PGREPL_REMOTE_CALLS_FILE": str(calls_file)})
    counted = json.loads(calls_file.read_text().splitlines()[-1])
    calls, tasks = counted["calls"], counted["tasks"]
    per_call = many / noop_tasks
    critical = expected_calls(calls, tasks)
    return {"seconds": elapsed, "changed": recap_changed(out), "calls": calls,
            "calls_total": sum(calls.values()), "steps": playbook_steps(tasks),
            "critical_calls": critical, "noop_tasks": noop_tasks, "noop_seconds": many,
            "noop_zero_seconds": zero, "noop_per_call": per_call,
            "noop_marginal": (many - zero) / noop_tasks, "adhoc_true_median": median(adhoc),
            "ratio": ratio(elapsed, critical * per_call)}


# --- 4. status vs ping -----------------------------------------------------------------------

STATUS_ARGS = "login_user=postgres login_unix_socket=/var/run/postgresql"


def adhoc(inventory: Path, host: str, module: str, args: str = "") -> list[str]:
    argv = ["ansible", host, "-i", str(inventory), "-b", "--become-user", "postgres", "-o",
            "-m", module]
    return argv + (["-a", args] if args else [])


def measure_status(runner: Runner, lab: Lab, transport: Transport,
                   rounds: int) -> dict[str, Any]:
    ping, status = [], []
    for _round in range(rounds):  # interleaved: both see the same background load
        ping.append(runner.quiet(adhoc(transport.inventory, lab.primary,
                                       "ansible.builtin.ping"))[0])
        status.append(runner.quiet(adhoc(transport.inventory, lab.primary,
                                         "pgrepl.streaming.pg_replication_status",
                                         STATUS_ARGS))[0])
    return {"ping": ping, "status": status, "ping_median": median(ping),
            "status_median": median(status),
            "ratio": ratio(median(status), median(ping))}


ON_HOST_TIMER = """
import json, subprocess, sys, time
out = []
for _ in range(int(sys.argv[2])):
    start = time.perf_counter()
    done = subprocess.run([sys.executable, sys.argv[1]], capture_output=True)
    out.append(time.perf_counter() - start)
    size = len(done.stdout)
    if done.returncode:
        sys.exit(done.stdout.decode() + done.stderr.decode())
print(json.dumps({"seconds": out, "result_bytes": size}))
"""


WATCHED_IMPORTS = (
    "ansible.module_utils.basic", "psycopg2",
    "ansible_collections.pgrepl.streaming.plugins.module_utils.connection",
    "ansible_collections.pgrepl.streaming.plugins.module_utils.status_sql",
    "ansible_collections.pgrepl.streaming.plugins.module_utils.status_wait",
    "ansible_collections.pgrepl.streaming.plugins.module_utils.lsn",
    "ansible_collections.pgrepl.streaming.plugins.modules.pg_replication_status",
    "ansible.modules.ping",
)


def import_costs(importtime: str) -> dict[str, float]:
    """Cumulative import ms of the modules the comparison is about (those imported)."""
    found = parse_importtime(importtime)
    return {name: found[name] / 1000 for name in WATCHED_IMPORTS if name in found}


def breakdown(runner: Runner, lab: Lab, transport: Transport, rounds: int) -> dict[str, Any]:
    """Where ping and pg_replication_status differ: the payload Ansible sends (kept on the
    host with pipelining off), its run time on the host alone, and its imports."""
    found: dict[str, Any] = {}
    podman_exec(lab.primary, ["rm", "-rf", "/tmp/bench-az"])
    podman_exec(lab.primary, ["mkdir", "-m", "0755", "/tmp/bench-az"])
    for key, module, args in (("ping", "ansible.builtin.ping", ""),
                              ("status", "pgrepl.streaming.pg_replication_status",
                               STATUS_ARGS)):
        stem = module.rsplit(".", 1)[-1]
        runner.quiet(adhoc(transport.inventory, lab.primary, module, args), env={
            "ANSIBLE_KEEP_REMOTE_FILES": "1", "ANSIBLE_PIPELINING": "False"})
        kept = podman_exec(lab.primary, ["sh", "-c",
                                         "ls -t $(find / -xdev -path /proc -prune -o "
                                         "-name 'AnsiballZ_%s.py' -print 2>/dev/null) "
                                         "| head -1" % stem]).strip()
        if not kept:
            raise BenchError("no kept AnsiballZ_%s.py on %s" % (stem, lab.primary))
        path = "/tmp/bench-az/%s.py" % key
        podman_exec(lab.primary, ["install", "-m", "0644", kept, path])
        size = int(podman_exec(lab.primary, ["stat", "-c", "%s", path]))
        timed = json.loads(podman_exec(lab.primary, ["python3", "-c", ON_HOST_TIMER, path,
                                                     str(rounds)], user="postgres"))
        importtime = subprocess.run(
            ["podman", "exec", "-u", "postgres", lab.primary, "python3", "-X", "importtime",
             path], capture_output=True, text=True, check=False, env=base_env()).stderr
        found[key] = {"payload_bytes": size, "on_host": timed["seconds"],
                      "on_host_median": median(timed["seconds"]),
                      "result_bytes": timed["result_bytes"],
                      "top_imports": top_level_imports(importtime, 6),
                      "imports": import_costs(importtime)}
    podman_exec(lab.primary, ["sh", "-c", "rm -rf /tmp/bench-az /home/pgrepl/.ansible/tmp/* "
                                          "/var/lib/postgresql/.ansible/tmp/* "
                                          "/root/.ansible/tmp/*"])
    python_alone = json.loads(podman_exec(lab.primary, [
        "python3", "-c", ON_HOST_TIMER.replace("[sys.executable, sys.argv[1]]",
                                               "[sys.executable, '-c', 'pass']"),
        "-", str(rounds)], user="postgres"))
    found["python_start_median"] = median(python_alone["seconds"])
    return found


# --- 2./3. clones ----------------------------------------------------------------------------

def reclone(runner: Runner, lab: Lab, transport: Transport, name: str,
            standbys: list[str]) -> float:
    limit = ":".join([lab.primary] + standbys)
    elapsed, out = site(runner, transport, name, "-e", "standby_force_reclone=true",
                        "--limit", limit)
    if "pg_basebackup" not in out and "Clone" not in out:
        log("warning: %s: no clone task seen in the output" % name)
    return elapsed


def bare_basebackup(lab: Lab) -> float:
    """pg_basebackup as postgres on the standby into a temporary dir, the replication user's
    password from the standby's ~/.pgpass; timed on the host, the copy deleted after."""
    script = (
        "set -e; dir=$(mktemp -d /var/lib/postgresql/bench-basebackup.XXXXXX); "
        "start=$(date +%%s.%%N); "
        "%s -h %s -p 5432 -U replicator -D \"$dir/data\" -X stream -c fast -w; "
        "end=$(date +%%s.%%N); rm -rf \"$dir\"; echo \"$start $end\"") % (
            lab.bin("pg_basebackup"), lab.primary)
    start, end = podman_exec(lab.first_standby, ["bash", "-c", script],
                             user="postgres").split()
    return float(end) - float(start)


# --- 5. catch-up -----------------------------------------------------------------------------

def lsn_now(lab: Lab) -> int:
    return int(float(lab.psql("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')")))


def write_wal(lab: Lab, megabytes: int) -> int:
    lab.psql("CREATE TABLE IF NOT EXISTS bench_wal (id bigint, filler text)")
    start = lsn_now(lab)
    while lsn_now(lab) - start < megabytes * MB:
        lab.psql("INSERT INTO bench_wal SELECT g, repeat(md5(g::text), 16) "
                 "FROM generate_series(1, 20000) g")
    return lsn_now(lab) - start


SAMPLE_SQL = (
    "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0'), "
    "pg_wal_lsn_diff(r.replay_lsn, '0/0'), pg_wal_lsn_diff(s.restart_lsn, '0/0'), "
    "extract(epoch FROM r.replay_lag), extract(epoch FROM clock_timestamp()) "
    "FROM pg_replication_slots s LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid "
    "WHERE s.slot_name = '%s'")


def sample(lab: Lab, slot: str) -> dict[str, float | None]:
    fields = lab.psql(SAMPLE_SQL % slot).split("|")
    values = [float(value) if value else None for value in fields]
    current, replay, restart, lag, clock = values
    behind = replay if replay is not None else restart
    return {"current": current, "replay": replay, "replay_lag": lag, "clock": clock,
            "bytes_behind": (current - behind) if current is not None and behind is not None
            else None}


def catchup(runner: Runner, lab: Lab, mode: str, transport: Transport | None,
            wal_mb: int, load_seconds: int, timeout: int) -> dict[str, Any]:
    standby = lab.first_standby
    slot = lab.slot(standby)
    podman_exec(standby, ["systemctl", "stop", lab.unit])
    written = write_wal(lab, wal_mb)
    target = lsn_now(lab)
    load_log = runner.log_path("load-" + mode)
    with load_log.open("w") as load_out:
        load = subprocess.Popen(
            ["podman", "exec", "-u", "postgres", lab.primary, lab.bin("pgbench"), "-n", "-c",
             "4", "-j", "2", "-T", str(load_seconds), "postgres"],
            stdout=load_out, stderr=subprocess.STDOUT, env=base_env())
        start = time.perf_counter()
        if transport is None:
            starter_log = runner.log_path("start-by-hand")
            argv = ["podman", "exec", standby, "systemctl", "start", lab.unit]
        else:
            starter_log = runner.log_path("start-site-" + transport.name)
            argv = ["ansible-playbook", "-i", str(transport.inventory), "site.yml", "--limit",
                    "%s:%s" % (lab.primary, standby)]
        with starter_log.open("w") as starter_out:
            starter = subprocess.Popen(argv, cwd=REPO, env=runner.env, stdout=starter_out,
                                       stderr=subprocess.STDOUT)
            samples: list[dict[str, Any]] = []
            connected = caught = started_done = None
            tick = 0
            while True:
                point = sample(lab, slot)
                now = time.perf_counter() - start
                point["t"] = now
                samples.append(point)
                if connected is None and point["replay"] is not None:
                    connected = now
                if caught is None and point["replay"] is not None and point["replay"] >= target:
                    caught = now
                if started_done is None and starter.poll() is not None:
                    started_done = now
                if (caught is not None and started_done is not None
                        and load.poll() is not None) or now > timeout:
                    break
                tick += 1
                time.sleep(max(0.0, tick * 0.5 - (time.perf_counter() - start)))
            starter.wait()
        load.wait()
    if starter.returncode != 0:
        raise BenchError("starting the standby (%s) failed, log %s" % (mode, starter_log))
    if load.returncode != 0:
        raise BenchError("the pgbench load (%s) failed, log %s" % (mode, load_log))
    return {"mode": mode, "wal_written_bytes": written, "target_lsn": target,
            "seconds": caught, "connected": connected, "starter_seconds": started_done,
            "after_connect": (caught - connected) if caught is not None and connected is not None
            else None, "samples": samples, "load_log": load_log.read_text()[-600:]}


# --- plot and doc ----------------------------------------------------------------------------

def plot(runs: list[dict[str, Any]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    colours = {"by hand": "tab:gray", "podman": "tab:blue", "ssh": "tab:orange"}
    for run in runs:
        colour = colours.get(run["mode"])
        times = [point["t"] for point in run["samples"]]
        behind = [(point["bytes_behind"] or 0) / MB for point in run["samples"]]
        lag = [point["replay_lag"] for point in run["samples"]]
        label = "started %s" % ("by hand (systemctl)" if run["mode"] == "by hand"
                                else "by site.yml over %s" % run["mode"])
        top.plot(times, behind, label=label, color=colour)
        bottom.plot(times, [value if value is not None else float("nan") for value in lag],
                    label=label, color=colour)
        for when, style in ((run["connected"], ":"), (run["seconds"], "--")):
            if when is not None:
                top.axvline(when, color=colour, linestyle=style, linewidth=0.8)
    top.set_ylabel("bytes behind the primary (MiB)")
    top.set_title(title)
    top.legend(loc="upper right")
    top.grid(alpha=0.3)
    bottom.set_ylabel("pg_stat_replication.replay_lag (s)")
    bottom.set_xlabel("seconds after the standby was told to start "
                      "(dotted: streams again, dashed: caught up)")
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


@dataclass
class Results:
    opts: dict[str, Any]
    lab: dict[str, Any] = field(default_factory=dict)
    rerun: dict[str, dict[str, Any]] = field(default_factory=dict)
    status: dict[str, dict[str, Any]] = field(default_factory=dict)
    breakdown: dict[str, Any] = field(default_factory=dict)
    clone: dict[str, dict[str, Any]] = field(default_factory=dict)
    parallel: dict[str, dict[str, Any]] = field(default_factory=dict)
    catchup: dict[str, dict[str, Any]] = field(default_factory=dict)
    total_seconds: float = 0.0


def build_rows(res: Results, transports: list[str]) -> list[Row]:
    standbys = res.opts["standbys"]
    rows = [
        Row("rerun", "idempotent site.yml rerun / (remote calls x one no-op call)",
            TARGETS["rerun"], {t: res.rerun[t]["ratio"] for t in res.rerun}),
        Row("clone", "standby converge, %s primary - empty primary / bare pg_basebackup"
            % res.lab.get("size_text", "large"), TARGETS["clone"],
            {t: res.clone[t]["ratio"] for t in res.clone if "ratio" in res.clone[t]}),
        Row("parallel", "converge with %d standbys / with 1 standby" % standbys,
            TARGETS["parallel"], {t: res.parallel[t]["ratio"] for t in res.parallel}),
        Row("status", "ansible -m pg_replication_status / ansible -m ping",
            TARGETS["status"], {t: res.status[t]["ratio"] for t in res.status}),
        Row("catchup", "catch-up after %d MB of WAL: started by site.yml / by hand"
            % res.opts["wal_mb"], TARGETS["catchup"],
            {t: res.catchup[t].get("ratio") for t in transports if t in res.catchup}),
    ]
    why = {
        "rerun": lambda t: (
            "the run spends %.0f s beyond its %d calls x %.2f s: controller-side work "
            "(templating, includes, set_fact/assert, skipped tasks) the counter does not "
            "count" % (res.rerun[t]["seconds"] - res.rerun[t]["critical_calls"]
                       * res.rerun[t]["noop_per_call"], res.rerun[t]["critical_calls"],
                       res.rerun[t]["noop_per_call"])),
        "clone": lambda t: (
            "the large converge took %.0f s more than the empty one, the bare copy %.0f s; "
            "the difference of two runs of 1.5 to 3 minutes is within this machine's noise "
            "(section 2)" % (res.clone[t]["large"] - res.clone[t]["empty"],
                             res.clone[t]["bare"])),
        "parallel": lambda t: (
            "%d hosts share 2 cores with the controller and foreign test runs (section 3); "
            "standby_clone_batch=2 clones 2 standbys at a time (%d round(s))" % (
                standbys + 1, -(-standbys // 2))),
        "status": lambda t: (
            "+%.2f s per call: a larger payload (%s bytes vs %s) built and sent, and more "
            "on-host work (breakdown below)" % (
                res.status[t]["status_median"] - res.status[t]["ping_median"],
                res.breakdown.get("status", {}).get("payload_bytes", "?"),
                res.breakdown.get("ping", {}).get("payload_bytes", "?"))),
    }
    for row in rows:
        missed = [t for t in row.values if row.met(t) is False]
        if missed and row.key in why:
            row.why = "; ".join("%s: %s" % (t, why[row.key](t)) for t in missed)
        if row.key == "catchup":
            row.why = ("no target in the issue; site.yml starts the standby only after its "
                       "checks (see section 5)")
    return rows


def seconds(value: float | None) -> str:
    return "-" if value is None else "%.1f s" % value


def render_doc(res: Results, rows: list[Row], transports: list[str], plot_name: str) -> str:
    o = res.opts
    lab = res.lab
    out: list[str] = []
    add = out.append
    add("# Benchmarks: the collection's cost against the bare cost of the same work\n")
    add("Generated by `make bench` (`bench/lab.py`; the modules' own cost is "
        "`bench/run.py`, see [bench/README.md](../bench/README.md)). Do not edit by hand: "
        "rerun the benchmark.\n")
    add("Every figure is a **ratio of two times measured in the same run on the same "
        "containers**, so it says how much the collection adds to the work it has to do, "
        "whatever the machine. It is measured over the lab's podman transport "
        "(`pgrepl_podman`, one `podman exec -i` per module) and over SSH as a user reaches a "
        "server (login user with key, host keys checked, passwordless sudo, pipelining, "
        "ControlPersist masters; `bench/ssh.yml` sets it up as "
        "`molecule/default/prepare.yml` does).\n")
    add("Run: %s, %s, %s cores, %.0f GiB RAM; lab of 1 primary + %d standbys on %s "
        "(PostgreSQL %s); `--scale %d` (%s), `--wal-mb %d`, `--load %d`, `--rounds %d`, "
        "`--noop-tasks %d`%s. Whole benchmark: **%.1f min** (lab up and down included; `lab.sh up` "
        "took %.0f s: a fresh lab installs PostgreSQL on every container, a lab left up is "
        "only converged again).\n" % (
            lab["date"], platform.python_implementation() + " " + platform.python_version(),
            lab["cores"], lab["mem_gib"], o["standbys"], o["distro"], lab["version"],
            o["scale"], lab.get("size_text", "?"), o["wal_mb"], o["load"], o["rounds"],
            o["noop_tasks"], " (`--quick`)" if o["quick"] else "",
            res.total_seconds / 60, lab["up_seconds"]))
    if o.get("note"):
        add(o["note"] + "\n")
    add("**The numbers are noisy.** The machine has 2 cores and is shared with long test "
        "runs of other work (Molecule scenarios, fault labs) that may run at the same time; "
        "all containers, the controller and `pgbench` share those cores. A ratio compares "
        "two runs taken minutes apart, so a burst of foreign load on one side moves it; "
        "rerun before drawing conclusions from a difference of 10 %.\n")
    add("## Results\n")
    add(render_markdown(rows, transports))
    add("\n## 1. Idempotent rerun against its remote calls\n")
    add("`site.yml` on the converged lab (all hosts), with the remote-call counter of the "
        "tests (`tests/callback_plugins/remote_calls.py`, enabled as "
        "`tests/integration/test_remote_calls.py` does). A call is a task (or loop item) that "
        "ran on a host; controller-only actions and skipped tasks are not calls. Hosts run "
        "the steps of a play in parallel (linear strategy, forks 10), so the run's critical "
        "path is its **steps**: the per-host task lists merged into one sequence "
        "(`ratios.playbook_steps`), plus the extra loop items of the busiest host. One call "
        "costs what one step of a playbook of N `command: true` tasks on the same hosts "
        "costs (N tasks / N, `become: true` like site.yml; the playbook's start-up is "
        "amortised over N, as site.yml's is over its steps).\n")
    add("| transport | rerun | changed | calls (all hosts) | per host | steps | critical calls "
        "| no-op step (N / N) | marginal step | empty playbook | `ansible -m command` | "
        "ratio |")
    add("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for t in res.rerun:
        r = res.rerun[t]
        add("| %s | %s | %d | %d | %s | %d | %d | %.3f s | %.3f s | %s | %s | %.2f |" % (
            t, seconds(r["seconds"]), r["changed"], r["calls_total"],
            ", ".join("%s %d" % (host.rsplit("-", 1)[-1], n)
                      for host, n in sorted(r["calls"].items())),
            r["steps"], r["critical_calls"], r["noop_per_call"], r["noop_marginal"],
            seconds(r["noop_zero_seconds"]), seconds(r["adhoc_true_median"]), r["ratio"]))
    add("\nThe difference between the rerun and calls x step is controller-side: Jinja "
        "templating of the role's variables, `include_tasks`/`include_role` (each include is "
        "processed per host), `set_fact`/`assert` steps (local, but each is a strategy "
        "round over all hosts) and skipped tasks (a conditional is evaluated per host). A "
        "lone `ansible -m command -a true` costs several steps: most of it is the start-up "
        "of Ansible itself.\n")
    add("## 2. Standby clone against a bare pg_basebackup\n")
    add("`site.yml -e standby_force_reclone=true --limit primary:%s` on an empty primary "
        "(the lab as converged) and on the primary after `pgbench -i -s %d`; the difference "
        "is the time the role's converge spends on the data. It is divided by a bare "
        "`pg_basebackup -X stream -c fast` of the same data between the same hosts (as "
        "postgres on the standby into a temporary directory, the replication user's "
        "password from ~postgres/.pgpass; the copy is deleted after). The role's clone adds "
        "`--slot`, `-R` and a swap of the directories.\n" % (
            res.lab.get("standby", "STANDBY"), o["scale"]))
    add("| transport | converge, empty | converge, %s | difference | bare pg_basebackup | "
        "ratio |" % lab.get("size_text", "large"))
    add("|---|---|---|---|---|---|")
    for t in res.clone:
        c = res.clone[t]
        if "ratio" not in c:
            continue
        add("| %s | %s | %s | %s | %s | %.2f |" % (
            t, seconds(c["empty"]), seconds(c["large"]), seconds(c["large"] - c["empty"]),
            seconds(c["bare"]), c["ratio"]))
    add("\n## 3. Parallel clones\n")
    add("`site.yml -e standby_force_reclone=true` re-cloning all %d standbys, against the "
        "same with `--limit primary:%s` (one standby), on the empty primary. The standbys "
        "clone in batches of `standby_clone_batch` (default 2: each clone takes two WAL "
        "senders), and every container shares the same 2 cores and disk.\n" % (
            o["standbys"], res.lab.get("standby", "STANDBY")))
    add("| transport | 1 standby | %d standbys | ratio |" % o["standbys"])
    add("|---|---|---|---|")
    for t in res.parallel:
        p = res.parallel[t]
        add("| %s | %s | %s | %.2f |" % (t, seconds(p["one"]), seconds(p["many"]), p["ratio"]))
    add("\n## 4. pg_replication_status against ping\n")
    add("`ansible PRIMARY -b --become-user postgres -m pgrepl.streaming.pg_replication_status` "
        "against `-m ansible.builtin.ping` with the same become, %d rounds interleaved, "
        "medians.\n" % o["rounds"])
    add("| transport | ping | pg_replication_status | difference | ratio |")
    add("|---|---|---|---|---|")
    for t in res.status:
        s = res.status[t]
        add("| %s | %s | %s | %+.2f s | %.2f |" % (
            t, "%.2f s" % s["ping_median"], "%.2f s" % s["status_median"],
            s["status_median"] - s["ping_median"], s["ratio"]))
    b = res.breakdown
    if b:
        add("\nWhere the difference goes (payloads kept on the host with "
            "`ANSIBLE_KEEP_REMOTE_FILES=1` and pipelining off, then run on the host alone as "
            "postgres, medians of %d):\n" % o["rounds"])
        add("| | ping | pg_replication_status |")
        add("|---|---|---|")
        add("| AnsiballZ payload sent | %d bytes | %d bytes |" % (
            b["ping"]["payload_bytes"], b["status"]["payload_bytes"]))
        add("| result returned | %d bytes | %d bytes |" % (
            b["ping"]["result_bytes"], b["status"]["result_bytes"]))
        add("| run on the host alone (python start, unzip, imports, work) | %.3f s | %.3f s |"
            % (b["ping"]["on_host_median"], b["status"]["on_host_median"]))
        add("| of which `python3 -c pass` | %.3f s | %.3f s |" % (
            b["python_start_median"], b["python_start_median"]))
        for name in WATCHED_IMPORTS:
            ping_ms = b["ping"].get("imports", {}).get(name)
            status_ms = b["status"].get("imports", {}).get(name)
            if ping_ms is None and status_ms is None:
                continue
            add("| import `%s` (`-X importtime`, cumulative) | %s | %s |" % (
                name.replace("ansible_collections.pgrepl.streaming.plugins.", "pgrepl "),
                "-" if ping_ms is None else "%.0f ms" % ping_ms,
                "-" if status_ms is None else "%.0f ms" % status_ms))
        for t in res.status:
            diff = res.status[t]["status_median"] - res.status[t]["ping_median"]
            host_diff = b["status"]["on_host_median"] - b["ping"]["on_host_median"]
            if diff - host_diff < 0:
                add("\nOver %s the call costs %+.2f s more than ping, less than the %.2f s its "
                    "run on the host alone adds: the rest of the difference is below the "
                    "noise of the 5 rounds." % (t, diff, host_diff))
                continue
            add("\nOver %s the call costs %+.2f s more than ping; %.2f s of it is on the host "
                "(module work: imports of the collection's module_utils and the driver, "
                "connecting to PostgreSQL, the queries), the remaining %.2f s is on the "
                "controller and the wire (building the larger AnsiballZ zip with its "
                "module_utils, sending %d more bytes, a larger result to parse), or noise." % (
                    t, diff, host_diff, diff - host_diff,
                    b["status"]["payload_bytes"] - b["ping"]["payload_bytes"]))
        add("")
    add(FINDINGS_STATUS)
    add("## 5. Catch-up after WAL written while a standby was down\n")
    add("The standby `%s` is stopped, about %d MB of WAL is written on the primary, then a "
        "`pgbench -n -c 4 -j 2 -T %d` load starts and, at the same moment, the standby is "
        "started: by hand (`systemctl start %s`), or by `site.yml --limit primary:%s` over "
        "each transport. The catch-up time runs until the standby's `replay_lsn` (in "
        "`pg_stat_replication`) reaches the primary's LSN of the moment it was told to "
        "start. `pg_stat_replication` (and the slot's `restart_lsn` while the standby is "
        "away) is sampled every 0.5 s.\n" % (
            res.lab.get("standby", "STANDBY"), o["wal_mb"], o["load"],
            res.lab.get("unit", "postgresql@VERSION-main"), res.lab.get("standby", "STANDBY")))
    add("| started | WAL written | streams again after | caught up after | after it streams "
        "| starter finished | ratio to by hand |")
    add("|---|---|---|---|---|---|---|")
    for mode, c in res.catchup.items():
        add("| %s | %.0f MB | %s | %s | %s | %s | %s |" % (
            mode, c["wal_written_bytes"] / 1e6, seconds(c["connected"]), seconds(c["seconds"]),
            seconds(c["after_connect"]), seconds(c["starter_seconds"]),
            "%.1f" % c["ratio"] if c.get("ratio") is not None else "-"))
    add("\n![bytes behind and replay lag over time](%s)\n" % plot_name)
    add(FINDINGS_CATCHUP)
    add("## What could be made faster\n")
    add(FIXES)
    return "\n".join(out) + "\n"


FINDINGS_STATUS = """\
Reading the table: with ansible-core 2.19 even ping's AnsiballZ payload is large (it carries
`ansible.module_utils.basic` and the wrapper's own loader), so the module_utils the status
module adds (connection, status_sql, status_wait, lsn) make its payload only somewhat larger;
what the status module adds is mostly on the host: importing psycopg2 and its module_utils,
connecting to PostgreSQL over the socket, the queries (`pg_stat_replication`, the slots),
and a result of a few kB instead of a few bytes for the controller to
parse and print. Each `ansible` command builds the payload again (the module cache lives in
the process), for ping as for the status module. Against the one to two seconds of Ansible's
own start-up, connection and become that both pay, the difference is small, which is why
the ratio stays near 1 and why single rounds on a loaded machine can even come out below 1.
"""

FINDINGS_CATCHUP = """\
By hand the standby streams again within a second or two of `systemctl start` and replays
the backlog in seconds, competing for the 2 cores with the load. `site.yml` runs its whole
preflight (fact gathering, the checks on every host of the limit, reading positions, the
primary's role) before the standby role starts the server: that fixed cost of a converge,
not the replay, is nearly all of the difference (compare "streams again after" with "after
it streams"). Once the standby streams, the replay takes seconds in every case (started by
site.yml, the load is over by then, so it is even shorter than by hand). There is no target
for this figure in the issue; it says what an operator waits for when a standby is brought
back with the playbook instead of systemctl, on this machine. The lower panel is
PostgreSQL's own `replay_lag`: it is tracked only for WAL sent while the standby is connected
and keeps its last value once the primary goes idle, so the upper panel (bytes behind) is the
one to read for the backlog.
"""

FIXES = """\
Nothing in plugins/ or roles/ was changed by the benchmark; these are the candidates it
points at:

- `pg_replication_status` (ratio 4): import psycopg2 and the wait/lag helpers only on the
  paths that use them (a status read without `wait_for_standbys` does not need
  `status_wait`); keep module_utils small, since each one is zipped, sent and unzipped on every
  call.
- idempotent rerun (ratio 1): fewer controller-only steps per host (`set_fact`/`assert`
  chains can be merged into one task with a `vars:` block), `include_tasks` replaced by
  `import_tasks` where the file is not chosen at run time (an include is processed per
  host), and conditions that skip whole files on `import_*` blocks so the skipped tasks are
  not templated one by one.
- parallel clones (ratio 3): `standby_clone_batch` could default to the number of standbys
  that `max_wal_senders` allows rather than 2, when the primary's disk is not the limit.
- catch-up (figure 5): a `--tags`/fast path in `site.yml` for "start the standbys that are
  configured but stopped" would skip the preflight a full converge needs.
- the benchmark itself (figures 2 and 3): each side is one playbook run of one to four
  minutes, so a foreign burst of load moves a ratio by more than its target's margin. Timing
  the clone task alone (per-task times from the `ansible.posix.profile_tasks` callback)
  against the bare copy, and taking the median of several runs per side, would resolve
  figure 2 on a shared machine.
"""


# --- main ------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="small and short: 2 standbys, scale 10, 20 no-op tasks, 5 rounds, "
                             "20 s load, 30 MB of WAL (options given explicitly still win)")
    parser.add_argument("--standbys", type=int, help="standbys in the lab (default 4)")
    parser.add_argument("--scale", type=int, help="pgbench -i scale (default 70, ~1 GB)")
    parser.add_argument("--noop-tasks", type=int, help="tasks of the no-op playbook (40)")
    parser.add_argument("--rounds", type=int, help="rounds of ping/status (default 5)")
    parser.add_argument("--load", type=int, help="seconds of pgbench load (default 60)")
    parser.add_argument("--wal-mb", type=int, help="MB of WAL while down (default 100)")
    parser.add_argument("--distro", default="bookworm", choices=("bookworm", "trixie"))
    parser.add_argument("--transports", default=",".join(TRANSPORTS),
                        help="comma-separated: podman,ssh")
    parser.add_argument("--keep", action="store_true", help="leave the lab up at the end")
    parser.add_argument("--doc", default=str(REPO / "docs" / "benchmarks.md"))
    parser.add_argument("--plot", default=str(REPO / "docs" / "benchmarks-replay-lag.png"))
    parser.add_argument("--render", metavar="RESULTS_JSON",
                        help="no lab: write the doc and the plot again from a results file "
                             "(bench/results/lab.json) of an earlier run")
    parser.add_argument("--note", default="",
                        help="a paragraph for the doc about this run (kept with the results)")
    opts = parser.parse_args(argv)
    defaults = ({"standbys": 2, "scale": 10, "noop_tasks": 20, "rounds": 5, "load": 20,
                 "wal_mb": 30} if opts.quick else
                {"standbys": 4, "scale": 70, "noop_tasks": 40, "rounds": 5, "load": 60,
                 "wal_mb": 100})
    for key, value in defaults.items():
        if getattr(opts, key) is None:
            setattr(opts, key, value)
    if opts.standbys < 1:
        parser.error("--standbys must be at least 1")
    return opts


def machine() -> dict[str, Any]:
    mem = 0.0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem = int(line.split()[1]) / 1024 / 1024
    return {"cores": os.cpu_count(), "mem_gib": mem,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def save(res: Results) -> None:
    """The results so far (a run cut short can still be rendered with --render)."""
    out_dir = REPO / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "lab.json").write_text(json.dumps(res.__dict__, indent=1, default=str))


def run_all(opts: argparse.Namespace, res: Results, runner: Runner, lab: Lab) -> None:
    transports_wanted = [name.strip() for name in opts.transports.split(",") if name.strip()]
    unknown = set(transports_wanted) - set(TRANSPORTS)
    if unknown:
        raise BenchError("unknown transport(s): %s" % ", ".join(sorted(unknown)))
    started = time.perf_counter()
    log("lab up: 1 primary + %d standbys (%s)" % (opts.standbys, opts.distro))
    elapsed, _out = runner.run("lab-up", ["bash", "scripts/lab.sh", "up"], env=lab.env())
    lab.version = podman_exec(lab.primary, ["ls", "/usr/lib/postgresql"]).split()[0]
    res.lab.update(machine(), version=lab.version, up_seconds=elapsed,
                   standby=lab.first_standby, unit=lab.unit)
    transports = setup_transports(lab, runner, transports_wanted)
    log("lab ready in %.0f s" % (time.perf_counter() - started))

    for name, transport in transports.items():
        log("%s: no-op playbooks and the idempotent rerun" % name)
        res.rerun[name] = measure_rerun(runner, transport, opts.noop_tasks)
        log("%s: rerun %.1f s, %d critical calls x %.3f s -> %.2f" % (
            name, res.rerun[name]["seconds"], res.rerun[name]["critical_calls"],
            res.rerun[name]["noop_per_call"], res.rerun[name]["ratio"]))
        log("%s: pg_replication_status vs ping, %d rounds" % (name, opts.rounds))
        res.status[name] = measure_status(runner, lab, transport, opts.rounds)
        log("%s: status %.2f s / ping %.2f s -> %.2f" % (
            name, res.status[name]["status_median"], res.status[name]["ping_median"],
            res.status[name]["ratio"]))
        log("%s: forced re-clone of 1 standby, then of %d" % (name, opts.standbys))
        one = reclone(runner, lab, transport, "reclone-1-empty", [lab.first_standby])
        many = reclone(runner, lab, transport, "reclone-%d-empty" % opts.standbys,
                       lab.hosts[1:])
        res.parallel[name] = {"one": one, "many": many, "ratio": ratio(many, one)}
        res.clone[name] = {"empty": one}
        log("%s: 1 standby %.1f s, %d standbys %.1f s -> %.2f" % (
            name, one, opts.standbys, many, res.parallel[name]["ratio"]))
        save(res)
    if "ssh" in transports:
        log("breakdown of pg_replication_status vs ping (over ssh, payloads kept)")
        res.breakdown = breakdown(runner, lab, transports["ssh"], opts.rounds)

    log("pgbench -i -s %d on the primary" % opts.scale)
    init_seconds, _out = runner.run("pgbench-init", [
        "podman", "exec", "-u", "postgres", lab.primary, lab.bin("pgbench"), "-i", "-q",
        "-s", str(opts.scale), "postgres"])
    size = int(lab.psql("SELECT sum(pg_database_size(oid)) FROM pg_database"))
    res.lab.update(init_seconds=init_seconds, size_bytes=size,
                   size_text="%.2f GB" % (size / 1e9))
    log("primary holds %s" % res.lab["size_text"])
    for name, transport in transports.items():
        bare = bare_basebackup(lab)
        large = reclone(runner, lab, transport, "reclone-1-large", [lab.first_standby])
        clone = res.clone[name]
        clone.update(bare=bare, large=large, ratio=ratio(large - clone["empty"], bare))
        log("%s: converge %.1f s - %.1f s empty, bare %.1f s -> %.2f" % (
            name, large, clone["empty"], bare, clone["ratio"]))
        save(res)

    timeout = opts.load + 600
    log("catch-up by hand")
    res.catchup["by hand"] = catchup(runner, lab, "by hand", None, opts.wal_mb, opts.load,
                                     timeout)
    for name, transport in transports.items():
        log("catch-up by site.yml over %s" % name)
        res.catchup[name] = catchup(runner, lab, name, transport, opts.wal_mb, opts.load,
                                    timeout)
        save(res)
    hand = res.catchup["by hand"]["seconds"]
    for name in transports:
        mine = res.catchup[name]["seconds"]
        res.catchup[name]["ratio"] = (ratio(mine, hand) if mine is not None and hand
                                      else None)
        log("%s: caught up after %s (by hand %s)" % (name, seconds(mine), seconds(hand)))


def write_outputs(res: Results, transports: list[str], doc_path: Path,
                  plot_path: Path) -> list[Row]:
    rows = build_rows(res, transports)
    o = res.opts
    plot([res.catchup[mode] for mode in res.catchup], plot_path,
         "Standby %s catching up after %d MB of WAL, under pgbench -c 4 (%s)" % (
             res.lab["standby"], o["wal_mb"], res.lab["size_text"]))
    doc_path.write_text(render_doc(res, rows, transports, os.path.relpath(
        plot_path, doc_path.parent)))
    return rows


def render_again(opts: argparse.Namespace) -> int:
    saved = json.loads(Path(opts.render).read_text())
    res = Results(**saved)
    if opts.note:
        res.opts["note"] = opts.note
    transports = [t.strip() for t in res.opts["transports"].split(",") if t.strip()]
    rows = write_outputs(res, transports, Path(opts.doc), Path(opts.plot))
    print(render_terminal(rows, transports), end="")
    return 1 if any_missed(rows) else 0


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    if opts.render:
        return render_again(opts)
    started = time.perf_counter()
    WORK.mkdir(parents=True, exist_ok=True)
    for old in (WORK / "logs").glob("*.log"):
        old.unlink()
    res = Results(opts=vars(opts).copy())
    runner = Runner()
    lab = Lab(opts.standbys, opts.distro)
    transports = [name.strip() for name in opts.transports.split(",") if name.strip()]
    failure: BaseException | None = None
    try:
        run_all(opts, res, runner, lab)
    except (BenchError, subprocess.SubprocessError, OSError, ValueError) as error:
        failure = error
        log("FAILED: %s" % error)
    finally:
        if opts.keep:
            log("lab kept (--keep): LAB_PREFIX=%s LAB_STANDBYS=%d bash scripts/lab.sh down "
                "removes it" % (PREFIX, opts.standbys))
        else:
            runner.run("lab-down", ["bash", "scripts/lab.sh", "down"], env=lab.env(),
                       check=False)
    res.total_seconds = time.perf_counter() - started
    save(res)
    if failure is not None:
        log("results so far in bench/results/lab.json, logs in %s" % (WORK / "logs"))
        return 2
    plot_path, doc_path = Path(opts.plot), Path(opts.doc)
    rows = write_outputs(res, transports, doc_path, plot_path)
    print()
    print(render_terminal(rows, transports), end="")
    print("total: %.1f min; %s and %s written" % (res.total_seconds / 60, doc_path, plot_path))
    return 1 if any_missed(rows) else 0


if __name__ == "__main__":
    sys.exit(main())
