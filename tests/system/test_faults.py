"""Failure, bad-input and security cases of the roles on real systemd containers (issue 4).

One lab (tests/system/faultlab.py: pgrepl-faults-pg1 primary, -pg2 and -pg3 standbys,
Debian 12 / PostgreSQL 15) is created and converged with site.yml once for the session (the
`cluster` fixture of tests/system/conftest.py, shared with test_lifecycle.py); each
test then provokes one case with ansible-playbook and asserts on the return code, the message
and the real state read from the containers. Every test leaves the cluster streaming, so the
tests also run alone (-k). The cases are described in docs/safety.md.

PGREPL_FAULTS_KEEP=1 keeps (and reuses) the containers, for debugging.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import yaml

from tests.molecule.test_scenarios import leak_forms
from tests.system import faultlab as lab
from tests.system.faultlab import (
    CLONE_DIR,
    DATA_DIR,
    LOCK_DIR,
    PASSWORD,
    PRIMARY,
    SERVICE,
    STANDBYS,
    Cluster,
    psql,
    sh,
    slot_of,
    snapshot,
    snapshots,
)

pytestmark = pytest.mark.molecule

INSTALL_PLAY = "PLAY [Install PostgreSQL]"


def assert_said(run: lab.Run, *fragments: str) -> None:
    """Each fragment is in the output (line breaks and quoting of the YAML callback do not
    count)."""
    # The YAML callback writes a quote inside a single-quoted string as ''.
    flat = " ".join(run.output.split()).replace("''", "'")
    for fragment in fragments:
        assert fragment in flat, "%r missing from the output %s" % (fragment, run.tail())


def assert_refused(run: lab.Run, *fragments: str) -> None:
    """The run failed, said what is wrong, and reported no change on any host."""
    assert run.rc != 0, "the run should have failed " + run.tail()
    assert_said(run, *fragments)
    assert not run.changed_hosts(), "a refused run changed hosts: %s" % run.changed_hosts()


def assert_healthy() -> None:
    """Both standbys stream, a new row reaches them, every table matches the primary."""
    lab.wait_streaming()
    lab.write_and_wait()
    expected = lab.row_count(PRIMARY)
    assert {host: lab.row_count(host) for host in STANDBYS} == dict.fromkeys(STANDBYS, expected)


# --- case 7: secrets and access --------------------------------------------------------------

def test_c7_password_never_in_verbose_output(cluster: Cluster) -> None:
    """site.yml -v with a password of quote, double quote, space, backslash and colon: the
    output holds it in no form, and the standbys stream with it (it reached .pgpass right)."""
    output = cluster.converge.output
    assert "stdout:" in output, "the converge was not verbose (-v)"
    for form in leak_forms(PASSWORD) | {PASSWORD.replace('"', '\\"')}:
        leaked = form in output  # not in the assert: pytest would print the password
        assert not leaked, "the password appears in %s" % cluster.converge.log
    assert lab.streaming_standbys() == {slot_of(host) for host in STANDBYS}


def test_c7_pgpass_hba_and_no_password_on_disk(cluster: Cluster) -> None:
    escaped = PASSWORD.replace("\\", "\\\\").replace(":", "\\:")
    for host in STANDBYS:
        assert sh(host, "stat -c '%U %G %a' ~postgres/.pgpass") == "postgres postgres 600"
        assert sh(host, "grep -cF -- %s ~postgres/.pgpass" % lab.shell_quote(escaped)) == "2"
    addresses = {host: sh(host, "hostname -I").split()[0] for host in STANDBYS}
    for host in lab.HOSTS:
        # Only .pgpass holds the password: no config file, no process argument.
        # The needle is spelled in octal so that no command line of this probe holds it.
        leaks = sh(host, "printf 'p\\100ss\\n' | grep -rlF -f - /etc/postgresql %s/*.conf "
                         "/proc/[0-9]*/cmdline 2>/dev/null || true" % DATA_DIR)
        assert not leaks, "%s: the password is in %s" % (host, leaks)
        rules = psql(host, "SELECT type, coalesce(address, ''), coalesce(netmask, ''), auth_method"
                           " FROM pg_hba_file_rules WHERE error IS NULL AND "
                           "('replication' = ANY(database) OR 'all' = ANY(database))")
        for line in rules.splitlines():
            kind, _address, netmask, method = line.split("|")
            assert method != "trust", "%s: trust in pg_hba: %s" % (host, line)
            if kind.startswith("host"):
                assert netmask in ("255.255.255.255", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), (
                    "%s: pg_hba admits a network, not one address: %s" % (host, line))
    # Debian's local lines are plain host; each standby's address only over TLS, and its
    # plaintext replication login rejected first (postgresql_replication_tls, the default).

    def replication_from(kind: str, method: str = "") -> set[str]:
        return set(psql(PRIMARY, "SELECT address FROM pg_hba_file_rules WHERE 'replication' = "
                                 "ANY(database) AND type = '%s' AND auth_method %s" % (
                                     kind, "= '%s'" % method if method else "<> 'reject'")).split())
    assert replication_from("host") == {"127.0.0.1", "::1"}
    assert replication_from("hostssl") == set(addresses.values())
    assert replication_from("hostnossl", "reject") == set(addresses.values())


# --- case 1: the standby role aimed at the running primary -------------------------------------

MISDIRECTED = {
    # The primary listed again, under another name, in the group standby.
    "alias-of-primary": ({"ansible_host": PRIMARY},
                         "must name the primary, a host name or address other than this standby"),
    # Its primary answers (here: itself through 127.0.0.1, allowed by Debian's pg_hba), so
    # only the data dir evidence stands between the role and the primary's data.
    "primary-answers": ({"ansible_host": PRIMARY, "standby_primary_host": "127.0.0.1"},
                        "a primary runs on it (pg_is_in_recovery() is false)"),
}


@pytest.mark.parametrize("variant", MISDIRECTED)
def test_c1_standby_role_refuses_the_running_primary(cluster: Cluster, variant: str) -> None:
    host_vars, reason = MISDIRECTED[variant]
    inventory = lab.inventory("c1-" + variant, standbys={"misdirected-pg1": host_vars})
    before, rows = snapshot(PRIMARY), lab.row_count(PRIMARY)

    run = lab.playbook("c1-" + variant, "standby.yml", inventory)

    assert_refused(run, reason, "Nothing was changed")
    assert snapshot(PRIMARY) == before
    assert lab.row_count(PRIMARY) == rows
    assert psql(PRIMARY, "SELECT pg_is_in_recovery()") == "f"
    assert_healthy()


# --- case 6: bad input, refused before any host changes ---------------------------------------

def long_name() -> str:
    return "standby-" + "x" * 62  # 70 characters -> a 70-character slot name


BAD_INPUT = {
    "missing-password": ({"postgresql_replication_password": None}, {}, None,
                         ["postgresql_replication_password"]),
    "empty-password": ({}, {"postgresql_replication_password": ""}, None,
                       ["postgresql_replication_password must be set"]),
    "port-not-an-int": ({}, {"postgresql_port": "abc"}, None, ["postgresql_port"]),
    "version-9.6": ({}, {"postgresql_version": "9.6"}, None, ["postgresql_version"]),
    "version-42": ({}, {"postgresql_version": "42"}, None, ["postgresql_version"]),
    "slot-names-collide": ({}, {}, {"pg-x": {"ansible_host": STANDBYS[0]},
                                    "pg_x": {"ansible_host": STANDBYS[1]}},
                           ["pg-x and pg_x -> pg_x", "standby_slot_name"]),
    "slot-name-too-long": ({}, {}, {long_name(): {"ansible_host": STANDBYS[0]}, STANDBYS[1]: {}},
                           ["70 characters", "standby_slot_name"]),
    # A Debian 13 standby (17) beside a Debian 12 primary (15) would clone 15's data under 17.
    "mixed-major-versions": ({}, {}, {STANDBYS[0]: {"postgresql_version": "17"}, STANDBYS[1]: {}},
                             ["Every host must run the same PostgreSQL major version",
                              "%s: 17" % STANDBYS[0], "%s: 15" % PRIMARY]),
}


@pytest.mark.parametrize("variant", BAD_INPUT)
def test_c6_bad_input_stops_before_any_change(cluster: Cluster, variant: str) -> None:
    all_vars, extra_vars, standbys, fragments = BAD_INPUT[variant]
    inventory = lab.inventory("c6-" + variant, standbys=standbys, **all_vars)
    before = snapshots()

    run = lab.playbook("c6-" + variant, "site.yml", inventory, extra_vars=extra_vars)

    assert_refused(run, *fragments)
    assert INSTALL_PLAY not in run.output, "the run got past the input checks " + run.tail()
    assert snapshots() == before


def test_c6_unreachable_primary_host_stops_before_the_standby(cluster: Cluster) -> None:
    """Found before anything on the standby changes: its server keeps running (same
    postmaster PID), its data and files stay as they were."""
    host = STANDBYS[0]
    before = snapshot(host)

    run = lab.playbook("c6-unreachable-primary", "standby.yml", cluster.inventory, limit=host,
                       extra_vars={"standby_primary_host": "pgrepl-faults-nowhere",
                                   "standby_connect_timeout": 3, "standby_force_reclone": True})

    assert_refused(run, "(standby_primary_host) is", "not reachable",
                   "Nothing on this standby was changed or stopped")
    assert snapshot(host) == before
    assert_healthy()


# --- case 3: catch-up through the slot ---------------------------------------------------------

def test_c3_stopped_standby_catches_up_through_its_slot(cluster: Cluster) -> None:
    host = STANDBYS[0]
    slot = slot_of(host)
    sh(host, "touch %s/faults-marker && systemctl stop %s" % (DATA_DIR, SERVICE))
    before = snapshot(host)
    assert before["service"] == "inactive"
    start = psql(PRIMARY, "SELECT pg_current_wal_lsn()")

    psql(PRIMARY, "CREATE TABLE faults_bulk AS SELECT g AS id, repeat(md5(g::text), 30) AS pad "
                  "FROM generate_series(1, 120000) g")
    psql(PRIMARY, "CHECKPOINT")
    written = int(psql(PRIMARY, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '%s')" % start))
    assert written >= 100 * 1024 * 1024, "only %d bytes of WAL written" % written
    held = psql(PRIMARY, "SELECT active, wal_status, pg_wal_lsn_diff(pg_current_wal_lsn(), "
                         "restart_lsn) >= %d FROM pg_replication_slots WHERE slot_name = '%s'"
                % (written, slot))
    assert held == "f|extended|t" or held == "f|reserved|t", "slot %s: %s" % (slot, held)

    sh(host, "systemctl start %s" % SERVICE)
    assert_healthy()

    after = snapshot(host)
    for key in ("data_dir", "pg_version", "system_id", "standby_signal"):
        assert after[key] == before[key], "%s changed: a re-clone?" % key
    sh(host, "test -e %s/faults-marker" % DATA_DIR)
    assert lab.row_count(host, "faults_bulk") == 120000
    psql(PRIMARY, "DROP TABLE faults_bulk")  # keeps later clones small


# --- case 4: primary restart ------------------------------------------------------------------

def test_c4_standbys_reconnect_after_a_primary_restart(cluster: Cluster) -> None:
    before = snapshots()
    sh(PRIMARY, "systemctl restart %s" % SERVICE)
    assert snapshot(PRIMARY)["postmaster"] != before[PRIMARY]["postmaster"]
    assert_healthy()
    for host in STANDBYS:  # nobody restarted them: they reconnected by themselves
        assert snapshot(host)["postmaster"] == before[host]["postmaster"]


# --- case 2: failed clones keep the old data -------------------------------------------------

def stop_primary_during_clone(host: str, started: tuple, megabytes: int = 4) -> bool:
    """Once the clone on host has copied a few MB, stop the primary (while pg_basebackup is
    still running, slowed by --max-rate). True when it did."""
    proc = started[0]
    probe = "du -sm %s 2>/dev/null | cut -f1" % CLONE_DIR
    while proc.poll() is None:
        size = sh(host, probe, check=False)
        if size.isdigit() and int(size) >= megabytes:
            sh(PRIMARY, "systemctl stop %s" % SERVICE)
            return True
        threading.Event().wait(0.5)
    return False


def test_c2_clone_fails_when_the_primary_goes_away(cluster: Cluster) -> None:
    host = STANDBYS[1]
    before, rows = snapshot(host), lab.row_count(host)

    started = lab.start_playbook(
        "c2-primary-stops", "standby.yml", cluster.inventory, limit=host,
        extra_vars={"standby_force_reclone": True,
                    "standby_basebackup_extra_args": ["--max-rate=1M"]})
    stopped = stop_primary_during_clone(host, started)
    run = lab.finish_playbook(started)
    sh(PRIMARY, "systemctl start %s" % SERVICE)

    assert stopped, "the clone never got going " + run.tail()
    assert_refused(run, "Cloning %s:5432 into %s failed" % (PRIMARY, CLONE_DIR),
                   "pg_basebackup: error", "%s was not touched" % DATA_DIR)
    assert snapshot(host) == before, "the old standby changed"
    assert_healthy()
    assert lab.row_count(host) > rows

    # Cause fixed (the primary is back): the same forced re-clone now succeeds, and keeps
    # the old data dir beside the new one.
    rerun = lab.playbook("c2-primary-back", "standby.yml", cluster.inventory, limit=host,
                         extra_vars={"standby_force_reclone": True})
    assert rerun.rc == 0, rerun.tail()
    after = snapshot(host)
    assert after["data_dir"] != before["data_dir"] and after["system_id"] == before["system_id"]
    kept = sh(host, "ls -d %s.pgrepl-old-*" % DATA_DIR)
    assert sh(host, "cat %s/PG_VERSION" % kept) == lab.VERSION
    sh(host, "rm -rf %s" % kept)
    assert_healthy()


def test_c2_wrong_password_is_named_and_changes_nothing(cluster: Cluster) -> None:
    host = STANDBYS[1]
    before = snapshot(host)

    run = lab.playbook("c2-wrong-password", "standby.yml", cluster.inventory, limit=host,
                       extra_vars={"postgresql_replication_password": "not " + PASSWORD,
                                   "standby_force_reclone": True})

    assert_refused(run, "password authentication failed", "postgresql_replication_password",
                   "Nothing on this standby was changed or stopped")
    assert snapshot(host) == before
    assert_healthy()

    rerun = lab.playbook("c2-right-password", "standby.yml", cluster.inventory, limit=host)
    assert rerun.rc == 0 and not rerun.changed_hosts(), rerun.tail()
    assert snapshot(host) == before


# --- case 5: a standby removed from the inventory ---------------------------------------------

def test_c5_removed_standby_slot_is_reported_and_bounded(cluster: Cluster) -> None:
    gone = STANDBYS[1]
    slot = slot_of(gone)
    smaller = lab.inventory("c5-without-" + gone, standbys={STANDBYS[0]: None})
    try:
        # primary_report_orphan_slots as -e strings (case 9): "yes" reports, "false" does not.
        run = lab.playbook("c5-site-without-pg3", "site.yml", smaller,
                           extra_vars={"primary_report_orphan_slots": "yes"})
        assert run.rc == 0, run.tail()
        assert_said(run, "Slot %s belongs to no standby that streams from this primary" % slot)
        kept = {STANDBYS[0]: {"standby_address": sh(STANDBYS[0], "hostname -I").split()[0]}}
        quiet = lab.playbook("c5-site-without-pg3-quiet", "site.yml",
                             lab.inventory("c5-quiet", standbys=kept), limit=PRIMARY,
                             extra_vars={"primary_report_orphan_slots": "false"})
        assert quiet.rc == 0, quiet.tail()
        assert "belongs to no standby that streams" not in " ".join(quiet.output.split())

        status = lab.playbook("c5-status", "playbooks/status.yml", smaller)
        assert status.rc == 0, status.tail()
        assert any(slot in line and "physical" in line for line in status.output.splitlines()
                   ), status.tail()
    finally:
        restored = lab.playbook("c5-site-restored", "site.yml", cluster.inventory)
    assert restored.rc == 0, restored.tail()

    defaults = yaml.safe_load((lab.REPO / "roles/primary/defaults/main.yml").read_text())
    documented = defaults["primary_max_slot_wal_keep_size"]
    assert documented == "10GB"
    setting = psql(PRIMARY, "SELECT setting || unit FROM pg_settings "
                            "WHERE name = 'max_slot_wal_keep_size'")
    assert setting == "10240MB"
    # safe_wal_size is NULL only when max_slot_wal_keep_size is -1 (no bound).
    assert psql(PRIMARY, "SELECT safe_wal_size IS NOT NULL FROM pg_replication_slots "
                         "WHERE slot_name = '%s'" % slot) == "t"
    assert_healthy()


# --- case 8: concurrency and interrupted runs -------------------------------------------------

def test_c8_two_runs_at_once_corrupt_nothing(cluster: Cluster) -> None:
    before = snapshots()
    first = lab.start_playbook("c8-concurrent-1", "site.yml", cluster.inventory)
    second = lab.start_playbook("c8-concurrent-2", "site.yml", cluster.inventory)
    runs = [lab.finish_playbook(first), lab.finish_playbook(second)]

    for run in runs:
        assert run.rc == 0 or "Another pgrepl.streaming run is working" in run.output, run.tail()
    assert any(run.rc == 0 for run in runs)
    after = snapshots()
    for host in lab.HOSTS:
        for key in ("data_dir", "pg_version", "system_id", "standby_signal", "lock", "beside"):
            assert after[host][key] == before[host][key], "%s: %s changed" % (host, key)
    assert_healthy()


def test_c8_a_held_lock_refuses_with_the_holder(cluster: Cluster) -> None:
    host = STANDBYS[0]
    # Just taken by a run of another controller: live until postgresql_lock_stale_after (its
    # pid means nothing on this controller; docs/safety.md, "The run lock").
    sh(host, "mkdir %s && echo 'faulttest role=manual controller=elsewhere boot_id=faulttest "
             "pid=1 pid_start=1 since=2026-01-25T10:15:00Z' >%s/owner" % (LOCK_DIR, LOCK_DIR))
    try:
        before = snapshot(host)
        run = lab.playbook("c8-held-lock", "site.yml", cluster.inventory, limit=host,
                           extra_vars={"postgresql_lock_wait": 4})
        assert_refused(run, "Another pgrepl.streaming run is working on %s" % host,
                       "faulttest role=manual", "Nothing was changed by this run")
        assert snapshot(host) == before
        assert sh(host, "cat %s/owner" % LOCK_DIR).startswith("faulttest")
    finally:
        sh(host, "rm -rf %s" % LOCK_DIR)


def test_c8_run_interrupted_before_the_swap_recovers(cluster: Cluster) -> None:
    """pg2: a forced re-clone killed between its last steps (clone complete, server stopped,
    lock left behind hours ago). pg3: a first clone killed during pg_basebackup (partial
    clone, no data dir). The next plain run keeps pg2's data, re-clones pg3, cleans up."""
    kept, recloned = STANDBYS
    # The lock of a killed run of another controller, 3 hours old: older than
    # postgresql_lock_stale_after (2 h) and no heartbeat, so stale.
    sh(kept, f"systemctl stop {SERVICE} && cp -a {DATA_DIR} {CLONE_DIR} && mkdir {LOCK_DIR} && "
             f"echo 'killed role=standby controller=elsewhere boot_id=faulttest pid=1 "
             f"pid_start=1 since=2026-01-25T07:15:00Z' >{LOCK_DIR}/owner && "
             f"touch -d '-3 hours' {LOCK_DIR}")
    sh(recloned, f"systemctl stop {SERVICE} && mv {DATA_DIR} {CLONE_DIR} && "
                 f"rm -rf {CLONE_DIR}/base")
    before = snapshots(STANDBYS)

    run = lab.playbook("c8-after-interruption", "site.yml", cluster.inventory)

    assert run.rc == 0, run.tail()
    after = snapshots(STANDBYS)
    assert after[kept]["data_dir"] == before[kept]["data_dir"]
    assert after[recloned]["system_id"] == lab.system_identifier(PRIMARY)
    for host in STANDBYS:
        assert after[host]["beside"].split() == ["main"], "%s: %s" % (host, after[host]["beside"])
        assert after[host]["lock"] == "free" and after[host]["service"] == "active"
    assert_healthy()


# --- issue 7: typed input, config that cannot break the server, no password in the log ------

def every_typed_variable_as_string(bools: str) -> dict[str, str]:
    """Each bool of the argument specs as the string `bools` says, each int as a string of
    its current value; the values keep the lab as it is (nothing forced, same sizes)."""
    from tests.lint.test_typed_input import typed_variables

    ints = {"postgresql_port": "5432", "postgresql_apt_cache_valid_time": "3600",
            "postgresql_lock_wait": "300", "postgresql_lock_stale_after": "7200",
            "primary_max_wal_senders": "10", "primary_max_replication_slots": "10",
            "standby_connect_timeout": "10", "standby_clone_timeout": "0",
            "standby_wait_timeout": "300", "standby_clone_batch": "2",
            "primary_archive_max_age_days": "7", "primary_archive_max_percent": "10",
            "primary_archive_max_bytes": "0", "primary_archive_keep_newest": "64",
            "postgresql_synchronous_count": "1", "postgresql_tls_cert_days": "825",
            "postgresql_tls_ca_days": "3650", "postgresql_tls_renew_days": "30"}
    assert set(ints) == typed_variables("int"), "a new int variable: add it here"
    truthy = {"postgresql_install_python_driver", "primary_data_checksums",
              "primary_report_orphan_slots", "postgresql_archive_mode", "primary_rewind_source",
              "postgresql_replication_tls"}
    # Must be false: a true one re-clones a standby, or re-issues every certificate.
    falsy = {"standby_force_reclone", "postgresql_tls_rotate"}
    assert truthy | falsy == typed_variables("bool"), "a new bool: add it"
    yes, no = bools.split("/")
    values = {name: yes for name in truthy}
    values.update(dict.fromkeys(falsy, no))
    values.update(ints)
    return values


def test_c9_every_bool_and_int_as_an_extra_var_string(cluster: Cluster) -> None:
    """`-e standby_force_reclone=false` (a string) once counted as true and re-cloned a
    healthy standby. Every bool and int arrives here as a string ("no" for the one that must
    be false, "true" for the others; "false" and "yes" are in case 5): nothing is re-cloned,
    nothing changes."""
    before = snapshots()
    run = lab.playbook("c9-strings", "site.yml", cluster.inventory,
                       extra_vars=every_typed_variable_as_string("true/no"))
    assert run.rc == 0, run.tail()
    assert not run.changed_hosts(), run.tail()
    after = snapshots()
    for host in lab.HOSTS:
        for key in ("postmaster", "data_dir", "pg_version", "system_id", "beside"):
            assert after[host][key] == before[host][key], "%s: %s changed" % (host, key)


def primary_only_inventory(name: str) -> Path:
    """The lab with the standbys' addresses given (standby_address), so that a run can be
    limited to the primary."""
    addresses = {host: {"standby_address": sh(host, "hostname -I").split()[0]}
                 for host in STANDBYS}
    return lab.inventory(name, standbys=addresses)


def test_c10_a_typo_in_extra_settings_is_refused_before_any_reload(cluster: Cluster) -> None:
    dropin = lab.CONF_DIR + "/conf.d/50-pgrepl-replication.conf"
    before = snapshot(PRIMARY)
    content = sh(PRIMARY, "cat %s" % dropin)

    inventory = primary_only_inventory("c10")
    run = lab.playbook("c10-typo", "site.yml", inventory, limit=PRIMARY,
                       extra_vars={"primary_extra_settings": {"work_mem": "64MB",
                                                              "shared_bufers": "1GB"}})

    assert run.rc != 0, run.tail()
    assert_said(run, "PostgreSQL rejects the settings written to %s" % dropin,
                'unrecognized configuration parameter "shared_bufers"',
                "%s line" % dropin, "the server keeps running with its old settings")
    assert sh(PRIMARY, "cat %s" % dropin) == content, "the rejected file was not put back"
    assert sh(PRIMARY, "ls %s/conf.d" % lab.CONF_DIR).split() == [
        "50-pgrepl-replication.conf", "52-pgrepl-tls.conf"]
    assert snapshot(PRIMARY)["postmaster"] == before["postmaster"]
    assert psql(PRIMARY, "SELECT count(*) FROM pg_file_settings WHERE error IS NOT NULL") == "0"

    bad_value = lab.playbook("c10-bad-value", "site.yml", inventory, limit=PRIMARY,
                             extra_vars={"primary_extra_settings": {"work_mem": "lots"}})
    assert bad_value.rc != 0
    assert_said(bad_value, 'invalid value for parameter "work_mem": "lots"',
                "%s line" % dropin)
    assert sh(PRIMARY, "cat %s" % dropin) == content
    sh(PRIMARY, "systemctl restart %s" % SERVICE)  # the next restart starts: the file is good
    assert_healthy()


def test_c11_no_plain_password_in_the_server_log(cluster: Cluster) -> None:
    """With log_statement=all on the primary, a run that (re)sets the replication role's
    password sends only a SCRAM verifier."""
    log = "/var/log/postgresql/postgresql-%s-main.log" % lab.VERSION
    psql(PRIMARY, "ALTER SYSTEM SET log_statement = 'all'")
    psql(PRIMARY, "SELECT pg_reload_conf()")
    logged = ""
    try:
        mark = int(sh(PRIMARY, "stat -c %%s %s" % log))
        # Forget the stored verifier, so the role has to send one again.
        psql(PRIMARY, "ALTER ROLE replicator PASSWORD NULL")
        run = lab.playbook("c11-password-log", "site.yml", primary_only_inventory("c11"),
                           limit=PRIMARY)
        assert run.rc == 0, run.tail()
        logged = sh(PRIMARY, "tail -c +%d %s" % (mark + 1, log))
    finally:
        psql(PRIMARY, "ALTER SYSTEM RESET log_statement")
        psql(PRIMARY, "SELECT pg_reload_conf()")
    assert "ALTER ROLE" in logged and "SCRAM-SHA-256$" in logged, logged[-3000:]
    for form in (PASSWORD, PASSWORD.replace("'", "''")):
        leaked = form in logged  # not in the assert: pytest would print the password
        assert not leaked, "the plain password is in the server log"
    assert_healthy()


def test_c12_symlinked_data_dir_is_kept_with_its_server_running(cluster: Cluster) -> None:
    """A standby whose data dir is a symlink to another disk: once "judged empty" (the link
    was not followed), cloned, and stopped before the swap failed. Now it is judged by the
    real directory: kept, its server never stopped."""
    host = STANDBYS[0]
    real = "/srv/pgdisk/main"
    sh(host, f"systemctl stop {SERVICE} && mkdir -p /srv/pgdisk && mv {DATA_DIR} {real} && "
             f"ln -s {real} {DATA_DIR} && systemctl start {SERVICE}")
    try:
        lab.wait_streaming()
        started = psql(host, "SELECT pg_postmaster_start_time()")
        inode = sh(host, "stat -c %%i %s" % real)

        run = lab.playbook("c12-symlinked", "site.yml", cluster.inventory)

        assert run.rc == 0, run.tail()
        assert not run.changed_hosts(), run.tail()
        assert psql(host, "SELECT pg_postmaster_start_time()") == started
        assert sh(host, "stat -c %%i %s" % real) == inode
        assert sh(host, "readlink %s" % DATA_DIR) == real
        assert sh(host, "ls -A /srv/pgdisk") == "main", "a clone or old copy was left beside it"
    finally:
        sh(host, f"systemctl stop {SERVICE} && rm {DATA_DIR} && mv {real} {DATA_DIR} && "
                 f"systemctl start {SERVICE}")
    assert_healthy()


# --- case 13: the WAL archive stays within its limits ----------------------------------------

ARCHIVE_DIR = "/var/lib/postgresql/wal_archive"
CLEANUP = "pgrepl-archive-cleanup"


def archive_bytes() -> int:
    """Total size of the regular files directly in the archive (what the limit counts)."""
    return int(sh(PRIMARY, "find %s -maxdepth 1 -type f -printf '%%s\\n' | "
                           "awk '{s += $1} END {print s + 0}'" % ARCHIVE_DIR))


def test_c13_archive_cleanup_keeps_the_archive_within_its_limit(cluster: Cluster) -> None:
    """WAL written past a small primary_archive_max_bytes: one run of
    pgrepl-archive-cleanup.service brings the archive within the limit, oldest first, keeps the
    newest primary_archive_keep_newest segments and the .history files, and removes a stale
    temporary copy; archiving goes on. The schedule is moved out of the way (yearly) so the
    hourly timer cannot run in the middle of the test."""
    segment = 16 * 1024 * 1024
    limit, keep = 10 * segment, 4
    inventory = primary_only_inventory("c13")
    small = {"primary_archive_max_bytes": limit, "primary_archive_keep_newest": keep,
             "primary_archive_cleanup_schedule": "yearly"}
    history = "%s/0000000F.history" % ARCHIVE_DIR
    stale = "%s/.00000001000000000000FFFF.tmp.4242" % ARCHIVE_DIR
    try:
        run = lab.playbook("c13-small-archive", "site.yml", inventory, limit=PRIMARY,
                           extra_vars=small)
        assert run.rc == 0, run.tail()
        unit = sh(PRIMARY, "systemctl cat %s.service %s.timer" % (CLEANUP, CLEANUP))
        assert "--max-bytes %d" % limit in unit and "--keep-newest %d" % keep in unit, unit
        assert "OnCalendar=yearly" in unit, unit
        assert sh(PRIMARY, "systemctl is-enabled %s.timer" % CLEANUP) == "enabled"
        assert sh(PRIMARY, "systemctl is-active %s.timer" % CLEANUP) == "active"
        assert psql(PRIMARY, "SHOW archive_command") == (
            "/usr/local/lib/pgrepl/pgrepl-archive-wal %p %f " + ARCHIVE_DIR)

        sh(PRIMARY, "echo 'timeline history' >%s && touch -d '-2 hours' %s && "
                    "chown postgres:postgres %s %s" % (history, stale, history, stale))
        failed_before = int(psql(PRIMARY, "SELECT failed_count FROM pg_stat_archiver"))
        switched = []
        for _switch in range(2 * limit // segment):
            psql(PRIMARY, "INSERT INTO faults_rows (note) VALUES ('archive c13')")
            switched.append(psql(PRIMARY, "SELECT pg_walfile_name(pg_switch_wal())"))
        lab.wait_until("%s archived" % switched[-1], lambda: sh(
            PRIMARY, "test -f %s/%s && echo yes || true" % (ARCHIVE_DIR, switched[-1])) == "yes")
        before = archive_bytes()
        assert before > limit, "premise: the archive (%d bytes) exceeds %d" % (before, limit)

        sh(PRIMARY, "systemctl start %s.service" % CLEANUP)  # oneshot: returns when done

        assert sh(PRIMARY, "systemctl show -p Result --value %s.service" % CLEANUP) == "success"
        after = archive_bytes()
        assert after <= limit, "the archive holds %d bytes, the limit is %d" % (after, limit)
        present = set(sh(PRIMARY, "ls -A %s" % ARCHIVE_DIR).split())
        assert set(switched[-keep:]) <= present, "a newest segment was deleted"
        assert switched[0] not in present, "the oldest segment was kept"
        assert "0000000F.history" in present
        assert stale.rsplit("/", 1)[1] not in present
        journal = sh(PRIMARY, "journalctl -u %s.service --no-pager -o cat -n 20" % CLEANUP)
        assert "%s %s: deleted" % (CLEANUP, ARCHIVE_DIR) in journal, journal

        # Archiving goes on after the cleanup.
        psql(PRIMARY, "INSERT INTO faults_rows (note) VALUES ('archive c13 after')")
        last = psql(PRIMARY, "SELECT pg_walfile_name(pg_switch_wal())")
        lab.wait_until("%s archived" % last, lambda: sh(
            PRIMARY, "test -f %s/%s && echo yes || true" % (ARCHIVE_DIR, last)) == "yes")
        assert int(psql(PRIMARY, "SELECT failed_count FROM pg_stat_archiver")) == failed_before

        status = lab.playbook("c13-status", "playbooks/status.yml", inventory, limit=PRIMARY)
        assert status.rc == 0, status.tail()
        assert_said(status, "archive %s:" % ARCHIVE_DIR, "failed")
    finally:
        sh(PRIMARY, "rm -f %s %s" % (history, stale))
        restored = lab.playbook("c13-restored", "site.yml", inventory, limit=PRIMARY)
    assert restored.rc == 0, restored.tail()
    unit = sh(PRIMARY, "systemctl cat %s.service %s.timer" % (CLEANUP, CLEANUP))
    assert "--max-bytes 0" in unit and "--keep-newest 64" in unit and "OnCalendar=hourly" in unit
    assert_healthy()
