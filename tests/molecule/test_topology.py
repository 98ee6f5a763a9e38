"""Molecule scenario `topology` (Debian 13 / PostgreSQL 17, four hosts), then what only a
running cluster can show, on the scenario's own containers.

The module fixture runs `molecule test -s topology` once (destroy, syntax, create, converge,
idempotence, check, verify: molecule/topology/verify.yml asserts the quorum, the delay and
wal_level) and destroys the containers after the last test. The tests then drive the
collection's playbooks against the same hosts: a commit with one synchronous standby stopped,
the delayed standby, logical and failover slots with slots.yml, refused bad input, and last a
switchover that rewrites synchronous_standby_names. Debian 12 / PostgreSQL 15 runs the default
scenario (tests/molecule/test_scenarios.py).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests import release
from tests.system import faultlab as lab

from .hostenv import BIN, REPO, require_podman
from .test_scenarios import (
    OUTPUT,
    assert_few_rerun_calls,
    changed_hosts,
    durations,
    leak_forms,
    molecule_env,
    run_timed,
)

pytestmark = pytest.mark.molecule

SCENARIO = "topology"
PG1, PG2, PG3, PG4 = ("topology-pg%d" % number for number in range(1, 5))
STANDBYS = (PG2, PG3, PG4)
SERVICE = "postgresql@17-main"
CONF_DIR = "/etc/postgresql/17/main"
CONFIG = yaml.safe_load((REPO / "molecule" / SCENARIO / "molecule.yml").read_text())
GROUP_VARS = CONFIG["provisioner"]["inventory"]["group_vars"]["all"]
HOST_VARS = CONFIG["provisioner"]["inventory"]["host_vars"]
PASSWORD = GROUP_VARS["postgresql_replication_password"]
DELAY_S = 10  # molecule.yml: standby_apply_delay of topology-pg4


@dataclass
class Converged:
    rc: int
    output: str
    log: Path
    inventory: Path


def slot(host: str) -> str:
    return host.replace("-", "_")


CALLS = OUTPUT / "molecule-topology-trixie.calls.jsonl"


def write_inventory(primary: str = PG1) -> Path:
    """The scenario's inventory (same variables as molecule.yml) for the playbooks."""
    standbys = [host for host in (PG1, *STANDBYS) if host != primary]
    return lab.inventory(
        "topology-" + primary, primary={primary: HOST_VARS.get(primary)},
        standbys={host: HOST_VARS.get(host) for host in standbys},
        **GROUP_VARS)


@pytest.fixture(scope="module")
def topology() -> Iterator[Converged]:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    env = molecule_env("trixie", calls_file=CALLS)
    require_podman(env)
    log = OUTPUT / "molecule-topology-trixie.log"
    try:
        rc, output, phases = run_timed([str(BIN / "molecule"), "test", "-s", SCENARIO], env, log)
        timing = "\n".join("%-12s %6.1f s" % item for item in durations(phases))
        (OUTPUT / "molecule-topology-trixie.timings").write_text(timing + "\n")
        print("\nmolecule topology (trixie) phases:\n%s" % timing)
        yield Converged(rc, output, log, write_inventory())
    finally:
        subprocess.run([str(BIN / "molecule"), "destroy", "-s", SCENARIO], cwd=REPO, env=env,
                       capture_output=True, check=False)


@pytest.fixture
def cluster(topology: Converged) -> Converged:
    assert topology.rc == 0, "molecule test -s topology failed, see %s\n%s" % (
        topology.log, topology.output[-6000:])
    return topology


def sql(host: str, statement: str, seconds: int) -> subprocess.CompletedProcess:
    """One statement as postgres, interrupted after `seconds` as Ctrl-C would (psql then asks
    the server to cancel). statement_timeout would not do: it ends before the commit, and so
    before the wait for the synchronous standbys. stderr kept: a cancelled wait is a WARNING."""
    return subprocess.run(
        ["podman", "exec", host, "runuser", "-u", "postgres", "--", "timeout", "-s", "INT",
         str(seconds), "psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", statement],
        env=lab.environment(), capture_output=True, text=True, check=False)


def sync_states(primary: str = PG1) -> dict[str, str]:
    rows = lab.psql(primary, "SELECT application_name, sync_state FROM pg_stat_replication "
                             "WHERE state = 'streaming'")
    return dict(line.split("|") for line in rows.splitlines() if line)


def conf_state() -> dict[str, str]:
    """What a refused run must leave alone: every configuration file and the server process."""
    script = ("md5sum %s/conf.d/* %s/pg_hba.conf ~postgres/.pgpass 2>/dev/null; "
              "systemctl show -p MainPID --value %s") % (CONF_DIR, CONF_DIR, SERVICE)
    return {host: lab.sh(host, script) for host in (PG1, *STANDBYS)}


def test_converge_idempotence_check_verify(topology: Converged) -> None:
    assert topology.rc == 0, "molecule test -s topology failed (rc=%d), see %s\n%s" % (
        topology.rc, topology.log, topology.output[-6000:])
    assert not changed_hosts(topology.output, "idempotence"), topology.log
    assert not changed_hosts(topology.output, "check"), topology.log
    assert_few_rerun_calls(CALLS)
    for form in leak_forms(PASSWORD):
        leaked = form in topology.output  # not in the assert: pytest would print the password
        assert not leaked, "the replication password appears in %s" % topology.log


def test_host_state_with_testinfra(cluster: Converged) -> None:
    """The host-level checks of tests/testinfra (shared with the SSH scenario `default`),
    here through podman exec, each host's group given on the command line."""
    hosts = (PG1, *STANDBYS)
    cmd = [sys.executable, "-m", "pytest", str(REPO / "tests" / "testinfra"), "-q",
           "-p", "no:cacheprovider", "--hosts=" + ",".join("podman://" + h for h in hosts),
           "--pgrepl-secret=" + PASSWORD]
    cmd += ["--pgrepl-group=%s=%s" % (host, "primary" if host == PG1 else "standby")
            for host in hosts]
    done = subprocess.run(cmd, cwd=REPO, env=lab.environment(), capture_output=True,
                          text=True, check=False)
    log = OUTPUT / "topology-testinfra.log"
    log.write_text(done.stdout + done.stderr)
    assert done.returncode == 0, "testinfra failed, see %s\n%s" % (log, done.stdout[-4000:])
    assert " passed" in done.stdout, done.stdout[-2000:]


def test_a_commit_returns_with_one_synchronous_standby_stopped(cluster: Converged) -> None:
    lab.psql(PG1, "CREATE TABLE IF NOT EXISTS topology_rows (id bigserial PRIMARY KEY, "
                  "note text NOT NULL, at timestamptz NOT NULL DEFAULT now())")
    lab.sh(PG3, "systemctl stop %s" % SERVICE)
    try:
        one_down = sql(PG1, "INSERT INTO topology_rows (note) VALUES ('pg3 down')", 60)
        assert one_down.returncode == 0 and "synchronous" not in one_down.stderr, one_down.stderr
        # Both listed standbys down: the commit waits (ANY 1 is real) until it is cancelled,
        # with PostgreSQL's warning that it committed locally.
        lab.sh(PG2, "systemctl stop %s" % SERVICE)
        both_down = sql(PG1, "INSERT INTO topology_rows (note) VALUES ('both down')", 3)
        assert "canceling wait for synchronous replication" in both_down.stderr, both_down
    finally:
        lab.sh(PG2, "systemctl start %s" % SERVICE)
        lab.sh(PG3, "systemctl start %s" % SERVICE)
    lab.wait_until("pg2 and pg3 back in the quorum", lambda: sync_states().get(slot(PG2)) ==
                   "quorum" and sync_states().get(slot(PG3)) == "quorum")


def test_commit_latency_is_reported(cluster: Converged) -> None:
    """The cost of a synchronous standby, measured and written down (not asserted: speed
    targets live in bench/)."""
    script = "INSERT INTO topology_rows (note) VALUES ('pgbench');"
    lab.sh(PG1, "printf %%s %s > /tmp/topology.sql && chmod 644 /tmp/topology.sql"
           % lab.shell_quote(script))
    figures = {}
    for mode in ("on", "local"):
        out = lab.sh(PG1, "PGOPTIONS='-c synchronous_commit=%s' runuser -u postgres -- "
                          "/usr/lib/postgresql/17/bin/pgbench -n -c 1 -t 300 -f /tmp/topology.sql "
                          "postgres | sed -n 's/^latency average = //p'" % mode)
        figures[mode] = float(out.split()[0])
    report = ("commit latency, 300 single-row commits, 1 client: synchronous (ANY 1 of 2) "
              "%.3f ms, local %.3f ms, ratio %.2f\n"
              % (figures["on"], figures["local"], figures["on"] / figures["local"]))
    (OUTPUT / "topology-commit-latency.txt").write_text(report)
    print("\n" + report)
    assert figures["on"] > 0 and figures["local"] > 0


def test_the_delayed_standby_applies_after_the_delay(cluster: Converged) -> None:
    token = "delayed %f" % time.time()
    lab.psql(PG1, "INSERT INTO topology_rows (note) VALUES ('%s')" % token)
    written = time.monotonic()
    count = "SELECT count(*) FROM topology_rows WHERE note = '%s'" % token
    lab.wait_until("the row on pg2", lambda: lab.psql(PG2, count) == "1", timeout=90)
    assert lab.psql(PG4, count) == "0", "the delayed standby applied the row at once"
    lab.wait_until("the row on pg4", lambda: lab.psql(PG4, count) == "1", timeout=120)
    waited = time.monotonic() - written
    assert waited >= DELAY_S - 1, "applied after %.1f s, the delay is %d s" % (waited, DELAY_S)
    # Received at once, applied later: the delay waits on the standby, not on the primary.
    received = lab.psql(PG4, "SELECT flushed_lsn FROM pg_stat_wal_receiver")
    assert received


def test_logical_and_failover_slots_with_slots_yml(cluster: Converged) -> None:
    inventory = cluster.inventory
    for name, extra in (("topo_logical", {}), ("topo_failover", {"slot_failover": "true"})):
        run = lab.playbook("topology-slot-" + name, "playbooks/slots.yml", inventory,
                           extra_vars={"slot_action": "create", "slot_name": name,
                                       "slot_type": "logical", **extra})
        assert run.rc == 0, run.tail()
    rows = lab.psql(PG1, "SELECT slot_name, plugin, failover FROM pg_replication_slots "
                         "WHERE slot_type = 'logical' ORDER BY slot_name")
    assert rows.splitlines() == ["topo_failover|pgoutput|t", "topo_logical|pgoutput|f"], rows
    for name in ("topo_failover", "topo_logical"):
        run = lab.playbook("topology-drop-" + name, "playbooks/slots.yml", inventory,
                           extra_vars={"slot_action": "drop", "slot_name": name})
        assert run.rc == 0, run.tail()
    assert lab.psql(PG1, "SELECT count(*) FROM pg_replication_slots "
                         "WHERE slot_type = 'logical'") == "0"


BAD_INPUT = [
    pytest.param({"postgresql_synchronous_count": "3"}, "postgresql_synchronous_count",
                 id="count-larger-than-the-list"),
    pytest.param({"postgresql_synchronous_method": "SOME"}, "postgresql_synchronous_method",
                 id="method-not-any-or-first"),
    pytest.param({"postgresql_synchronous_standbys": [PG2, "topology-pg9"]},
                 "postgresql_synchronous_standbys", id="unknown-synchronous-standby"),
    pytest.param({"standby_apply_delay": "1 hour"}, "standby_apply_delay",
                 id="delay-not-a-postgresql-time"),
    pytest.param({"primary_wal_level": "minimal"}, "primary_wal_level", id="wal-level-minimal"),
    pytest.param({"standby_upstream": "topology-pg9"}, "standby_upstream",
                 id="upstream-not-in-the-inventory"),
    pytest.param({"standby_upstream": PG2}, "standby_upstream", id="upstream-is-itself"),
    pytest.param({"postgresql_tls_ca_cert": "/nonexistent/ca.crt",
                  "postgresql_tls_cert": "/nonexistent/host.crt",
                  "postgresql_tls_key": "/nonexistent/host.key"},
                 "postgresql_tls_ca_cert", id="tls-files-missing"),
]


@pytest.mark.parametrize(("extra_vars", "variable"), BAD_INPUT)
def test_bad_input_is_refused_before_any_change(cluster: Converged, extra_vars: dict,
                                                variable: str) -> None:
    before = conf_state()
    run = lab.playbook("topology-bad-" + variable, "site.yml", cluster.inventory,
                       extra_vars=extra_vars)
    assert run.rc != 0, run.tail()
    assert variable in run.output, run.tail()
    assert not any(row["changed"] for row in run.recap().values()), run.tail()
    assert conf_state() == before


def replication_login(client: str, server: str, options: str) -> subprocess.CompletedProcess:
    """IDENTIFY_SYSTEM as the replication user with the right password, from client to
    server, with the given libpq options (the password in the environment of this one
    command, never on a command line)."""
    conninfo = "host=%s user=replicator dbname=replication replication=true %s" % (server, options)
    return subprocess.run(
        ["podman", "exec", "-e", "PGPASSWORD=" + PASSWORD, "-e", "PGCONNECT_TIMEOUT=10", client,
         "psql", "-XAtq", "-d", conninfo, "-c", "IDENTIFY_SYSTEM"],
        env=lab.environment(), capture_output=True, text=True, check=False)


@pytest.mark.parametrize(("client", "server"), [(PG2, PG1), (PG4, PG3)],
                         ids=["standby-to-primary", "cascade-to-upstream"])
def test_replication_without_tls_is_refused(cluster: Converged, client: str,
                                            server: str) -> None:
    """The right password over plaintext is rejected by pg_hba (hostnossl ... reject); the
    same login with the CA and verify-full works, so the refusal is the TLS rule's."""
    plain = replication_login(client, server, "sslmode=disable")
    assert plain.returncode != 0, plain.stdout
    assert "no encryption" in plain.stderr, plain.stderr
    verified = replication_login(
        client, server, "sslmode=verify-full sslrootcert=%s/tls/root.crt channel_binding=require"
        % CONF_DIR)
    assert verified.returncode == 0, verified.stderr
    # verify-full really checks: against another CA bundle the same login fails.
    other_ca = replication_login(
        client, server, "sslmode=verify-full sslrootcert=/etc/ssl/certs/ca-certificates.crt")
    assert other_ca.returncode != 0 and "certificate verify failed" in other_ca.stderr, \
        other_ca.stderr


def tls_checksums() -> dict[str, str]:
    """The certificate files on every host, and the controller's CA directory."""
    hosts = {host: lab.sh(host, "md5sum %s/tls/*" % CONF_DIR) for host in (PG1, *STANDBYS)}
    ca_dir = Path.home() / ".pgrepl-streaming" / "tls"
    hosts["controller"] = "\n".join(
        "%s %s" % (path.name, path.stat().st_mtime_ns) for path in sorted(ca_dir.rglob("*")))
    return hosts


def test_a_cascade_loop_is_refused_before_any_change(cluster: Converged) -> None:
    """pg2 streams from pg3 and pg3 from pg2: neither reaches the primary."""
    looped = dict(HOST_VARS)
    looped[PG2] = {**HOST_VARS.get(PG2, {}), "standby_upstream": PG3}
    looped[PG3] = {**HOST_VARS.get(PG3, {}), "standby_upstream": PG2}
    inventory = lab.inventory("topology-loop", primary={PG1: looped.get(PG1)},
                              standbys={host: looped.get(host) for host in STANDBYS},
                              **{**GROUP_VARS, "postgresql_synchronous_standbys": []})
    before = conf_state()
    run = lab.playbook("topology-bad-loop", "site.yml", inventory)
    assert run.rc != 0, run.tail()
    assert "standby_upstream makes a loop" in run.output, run.tail()
    assert not any(row["changed"] for row in run.recap().values()), run.tail()
    assert conf_state() == before


def test_the_installed_tarball_runs_site_from_outside_the_checkout(
        cluster: Converged, tmp_path: Path) -> None:
    """The release as a user gets it: the built tarball installed offline into an empty
    collections path, `ansible-playbook -v pgrepl.streaming.site` run from a directory outside
    the repository without its ansible.cfg; on this converged cluster it changes nothing, no
    certificate is regenerated, and the output holds no key and no password."""
    collections = release.build_and_install(tmp_path)
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = release.installed_env(
        collections, scan_sys_path=True,  # containers.podman, for the lab's transport
        ANSIBLE_CONNECTION_PLUGINS=str(REPO / "scripts" / "ansible_plugins" / "connection"))
    certificates = tls_checksums()
    done = subprocess.run([str(BIN / "ansible-playbook"), "-v", "-i", str(cluster.inventory),
                           "pgrepl.streaming.site"], cwd=workdir, env=env,
                          capture_output=True, text=True, check=False)
    output = done.stdout + done.stderr
    (OUTPUT / "topology-installed-site.log").write_text(output)
    assert done.returncode == 0, output[-5000:]
    recaps = lab.RECAP.findall(output)
    assert len(recaps) == 4 and all(changed == "0" for _h, _o, changed, _u, _f in recaps), \
        output[-5000:]
    # Nothing regenerated, and with -v no key material and no password in the output.
    assert tls_checksums() == certificates
    assert "PRIVATE KEY" not in output
    for form in leak_forms(PASSWORD):
        leaked = form in output  # not in the assert: pytest would print the password
        assert not leaked, "the replication password appears in the -v output"


def test_switchover_rewrites_synchronous_standby_names(cluster: Converged) -> None:
    """Last: the new primary names the listed standbys that stream from it, without itself
    (num_sync capped); the old primary follows as an asynchronous standby."""
    run = lab.playbook("topology-switchover", "playbooks/switchover.yml", cluster.inventory,
                       extra_vars={"switchover_to": PG2})
    assert run.rc == 0, run.tail()
    assert lab.psql(PG2, "SHOW synchronous_standby_names") == 'ANY 1 ("%s")' % slot(PG3)
    lab.wait_until("pg1 and pg3 streaming from pg2", lambda: len(sync_states(PG2)) == 2)
    assert sync_states(PG2) == {slot(PG1): "async", slot(PG3): "quorum"}
    # The cascade is kept: pg4 still streams from pg3, which now follows pg2.
    assert sync_states(PG3) == {slot(PG4): "async"}
    assert lab.sh(PG1, "cd %s/conf.d && ls *.conf" % CONF_DIR).split() == [
        "50-pgrepl-standby.conf", "52-pgrepl-tls.conf"]
    rerun = lab.playbook("topology-after-switchover", "site.yml", write_inventory(PG2))
    assert rerun.rc == 0 and not rerun.changed_hosts(), rerun.tail()
