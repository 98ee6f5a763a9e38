"""A cluster's life on real systemd containers (issue 8): bad input to the life-cycle
playbooks, a switchover and back, a failover with divergence and the old primary's rejoin
with pg_rewind.

Runs on the fault lab (the session's `cluster` fixture, tests/system/conftest.py:
pgrepl-faults-pg1 primary, -pg2 and -pg3 standbys, Debian 12 / PostgreSQL 15). The tests run
in file order; test_l3 leaves pg2 as the primary (nothing uses the lab after it), and test_l4
reruns test_l3 on a Debian 13 / PostgreSQL 17 lab of its own. The measured times go to
tests/output/faults*/lifecycle-times.txt.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.molecule.hostenv import REPO
from tests.system import faultlab as lab
from tests.system.faultlab import (
    CONF_DIR,
    DATA_DIR,
    OUTPUT,
    PRIMARY,
    SERVICE,
    STANDBYS,
    Cluster,
    cut,
    heal,
    psql,
    sh,
    slot_of,
    snapshots,
)
from tests.system.test_faults import assert_refused, assert_said

pytestmark = pytest.mark.molecule

PG2, PG3 = STANDBYS
TIMES = OUTPUT / "lifecycle-times.txt"


def record(what: str, run: lab.Run) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with TIMES.open("a") as sink:
        sink.write("%s: %.1f s\n" % (what, run.seconds))
    print("%s took %.1f s" % (what, run.seconds))


def moved(primary: str) -> Path:
    """The inventory after the primary role moved to `primary` (the others are standbys)."""
    others = [host for host in lab.HOSTS if host != primary]
    return lab.inventory("primary-" + primary, primary={primary: None},
                         standbys=dict.fromkeys(others))


def inode(host: str) -> str:
    return sh(host, "stat -c %%i %s" % DATA_DIR)


def in_recovery(host: str) -> bool:
    return psql(host, "SELECT pg_is_in_recovery()") == "t"


def timeline(host: str) -> int:
    """The timeline a primary writes, or a standby receives."""
    if in_recovery(host):
        return int(psql(host, "SELECT received_tli FROM pg_stat_wal_receiver"))
    return int(psql(host, "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))"
                          "::bit(32)::int"))


def insert(host: str, note: str) -> int:
    return int(psql(host, "INSERT INTO faults_rows (note) VALUES ('%s') RETURNING id" % note))


def has_row(host: str, row: int) -> bool:
    return psql(host, "SELECT count(*) FROM faults_rows WHERE id = %d" % row) == "1"


def wait_row(hosts: tuple[str, ...] | list[str], row: int) -> None:
    for host in hosts:
        lab.wait_until("row %d on %s" % (row, host), lambda host=host: has_row(host, row))


def streams_to(primary: str) -> set[str]:
    rows = psql(primary, "SELECT application_name FROM pg_stat_replication "
                         "WHERE state = 'streaming'")
    return set(rows.split()) if rows else set()


def wait_streams_to(primary: str, standbys: list[str]) -> None:
    wanted = {slot_of(host) for host in standbys}
    lab.wait_until("%s streaming from %s" % (", ".join(sorted(wanted)), primary),
                   lambda: wanted <= streams_to(primary))


# --- bad input: a clear message, nothing changed ------------------------------------------------

BAD_REQUESTS = {
    "switchover-missing": ("playbooks/switchover.yml", {}, "Set switchover_to"),
    "switchover-unknown": ("playbooks/switchover.yml", {"switchover_to": "nosuchhost"},
                           "switchover_to='nosuchhost'"),
    "switchover-to-primary": ("playbooks/switchover.yml", {"switchover_to": PRIMARY},
                              "Set switchover_to to one host of the group 'standby'"),
    "rejoin-missing": ("playbooks/rejoin.yml", {}, "Set rejoin_host"),
    "rejoin-primary": ("playbooks/rejoin.yml", {"rejoin_host": PRIMARY},
                       "rejoin_host='%s'" % PRIMARY),
    "promote-unconfirmed": ("playbooks/promote.yml",
                            {"promote_host": PG2, "promote_confirm": PG3},
                            "promote_confirm='%s'" % PG3),
}


@pytest.mark.parametrize("variant", sorted(BAD_REQUESTS))
def test_l1_bad_requests_change_nothing(cluster: Cluster, variant: str) -> None:
    play, extra_vars, message = BAD_REQUESTS[variant]
    before = snapshots()
    run = lab.playbook("l1-" + variant, play, cluster.inventory, extra_vars=extra_vars)
    assert_refused(run, message, "Nothing was changed")
    assert snapshots() == before


def test_l1_a_switchover_target_that_does_not_stream_is_refused(cluster: Cluster) -> None:
    """Checked before the primary stops: the primary keeps running, untouched."""
    sh(PG3, "systemctl stop %s" % SERVICE)
    try:
        before = snapshots([PRIMARY, PG2])
        run = lab.playbook("l1-switchover-not-streaming", "playbooks/switchover.yml",
                           cluster.inventory, extra_vars={"switchover_to": PG3})
        assert_refused(run, "Refusing the switchover to %s" % PG3, "Nothing was changed")
        assert snapshots([PRIMARY, PG2]) == before
    finally:
        sh(PG3, "systemctl start %s" % SERVICE)
    lab.wait_streaming()


# --- switchover and back --------------------------------------------------------------------------

def test_l2_switchover_and_back(cluster: Cluster) -> None:
    inodes = {host: inode(host) for host in lab.HOSTS}
    first_timeline = timeline(PRIMARY)
    before = lab.write_and_wait()

    run = lab.playbook("l2-switchover", "playbooks/switchover.yml", cluster.inventory,
                       extra_vars={"switchover_to": PG2})
    assert run.rc == 0, run.tail()
    record("switchover", run)
    assert_said(run, "Edit the inventory now: move %s to the group 'primary'" % PG2)
    assert not in_recovery(PG2) and in_recovery(PRIMARY) and in_recovery(PG3)
    wait_streams_to(PG2, [PRIMARY, PG3])
    assert timeline(PG2) == timeline(PG3) == first_timeline + 1
    during = insert(PG2, "written on the new primary")
    wait_row([PRIMARY, PG3], during)
    assert all(has_row(host, before) for host in lab.HOSTS)

    # The inventory still names the old primary: refused, naming the running one.
    stale_before = snapshots()
    stale = lab.playbook("l2-stale-inventory", "site.yml", cluster.inventory)
    assert_refused(stale, "%s, the host in the group 'primary', runs as a standby" % PRIMARY,
                   "move %s to the group 'primary'" % PG2, "Nothing was changed")
    assert snapshots() == stale_before

    back = lab.playbook("l2-switchover-back", "playbooks/switchover.yml", moved(PG2),
                        extra_vars={"switchover_to": PRIMARY})
    assert back.rc == 0, back.tail()
    record("switchover back", back)
    assert not in_recovery(PRIMARY) and in_recovery(PG2) and in_recovery(PG3)
    wait_streams_to(PRIMARY, [PG2, PG3])
    after = lab.write_and_wait()
    assert all(has_row(host, row) for host in lab.HOSTS for row in (before, during, after))
    assert {host: inode(host) for host in lab.HOSTS} == inodes, "a node was re-cloned"
    # No slot left behind on the former primary (a standby's slot would pin its WAL).
    assert psql(PG2, "SELECT count(*) FROM pg_replication_slots") == "0"

    rerun = lab.playbook("l2-site-after", "site.yml", cluster.inventory)
    assert rerun.rc == 0, rerun.tail()
    assert not rerun.changed_hosts(), "site.yml after the switchover changed %s %s" % (
        rerun.changed_hosts(), rerun.tail())


# --- failover with divergence, then rejoin with pg_rewind --------------------------------------

def test_l3_failover_with_divergence_then_rejoin(cluster: Cluster) -> None:
    lab.wait_streaming()
    inodes = {host: inode(host) for host in lab.HOSTS}
    start_timeline = timeline(PRIMARY)
    seen_by_pg2 = 0
    try:
        cut(PG3)
        seen_by_pg2 = insert(PRIMARY, "reaches pg2 only")
        wait_row([PG2], seen_by_pg2)
        cut(PG2)
        lost = insert(PRIMARY, "reaches no standby")
        # Cut the primary's host too, then crash it: its queued WAL goes nowhere.
        cut(PRIMARY)
        sh(PRIMARY, "kill -9 $(head -n1 %s/postmaster.pid)" % DATA_DIR)
        heal(PG2)
        heal(PG3)

        refused = lab.playbook("l3-promote-lagging", "playbooks/promote.yml", cluster.inventory,
                               extra_vars={"promote_host": PG3, "promote_confirm": PG3})
        assert refused.rc != 0, refused.tail()
        assert_said(refused, "Refusing to promote %s" % PG3, "is behind %s" % PG2,
                    "Nothing was changed on the standbys")
        assert in_recovery(PG3) and in_recovery(PG2)
        # The old primary is fenced: stopped, and masked so nothing starts it.
        assert sh(PRIMARY, "systemctl is-enabled %s || true" % SERVICE) == "masked"

        promoted = lab.playbook("l3-promote", "playbooks/promote.yml", cluster.inventory,
                                extra_vars={"promote_host": PG2, "promote_confirm": PG2})
        assert promoted.rc == 0, promoted.tail()
        record("failover (promote.yml)", promoted)
    finally:
        heal(PRIMARY)
        heal(PG2)
        heal(PG3)
    assert not in_recovery(PG2)
    wait_streams_to(PG2, [PG3])
    assert inode(PG3) == inodes[PG3], "the other standby was re-cloned"
    assert has_row(PG3, seen_by_pg2) and not has_row(PG2, lost)

    # Before the inventory edit, site.yml refuses and names the new primary.
    stale = lab.playbook("l3-stale-inventory", "site.yml", cluster.inventory)
    assert_refused(stale, "%s runs as the primary of this cluster" % PG2, "rejoin.yml")

    inventory = moved(PG2)
    rejoined = lab.playbook("l3-rejoin", "playbooks/rejoin.yml", inventory,
                            extra_vars={"rejoin_host": PRIMARY})
    assert rejoined.rc == 0, rejoined.tail()
    record("rejoin (rejoin.yml, pg_rewind)", rejoined)
    assert_said(rejoined, "rewound in place", "diverged from %s at WAL location" % PG2)
    assert inode(PRIMARY) == inodes[PRIMARY], "the old primary was re-cloned, not rewound"
    wait_streams_to(PG2, [PRIMARY, PG3])
    assert in_recovery(PRIMARY) and timeline(PRIMARY) == timeline(PG2) == start_timeline + 1
    fresh = insert(PG2, "written after the rejoin")
    wait_row([PRIMARY, PG3], fresh)
    assert has_row(PRIMARY, seen_by_pg2)
    assert not has_row(PRIMARY, lost), "the old primary kept its diverged row"
    # The slots it held as the primary (pg2's and pg3's) would pin its WAL as a standby.
    assert psql(PRIMARY, "SELECT count(*) FROM pg_replication_slots") == "0"

    if lab.DISTRO != "bookworm":
        return  # the rerun and the re-clone for the time: on the Debian 12 lab only (CI time)

    rerun = lab.playbook("l3-site-after", "site.yml", inventory)
    assert rerun.rc == 0, rerun.tail()
    assert not rerun.changed_hosts(), "site.yml after the rejoin changed %s %s" % (
        rerun.changed_hosts(), rerun.tail())

    # For comparison: the same host re-cloned in full instead of rewound, by a run limited to
    # the primary and that host (as when a standby is added): pg3, outside the limit, keeps
    # its pg_hba line and its slot, and streams on.
    hba_before = sh(PG2, "grep -c %s %s/pg_hba.conf" % (PG3, CONF_DIR))
    recloned = lab.playbook("l3-reclone", "site.yml", inventory, limit="%s:%s" % (PG2, PRIMARY),
                            extra_vars={"standby_force_reclone": True})
    assert recloned.rc == 0, recloned.tail()
    record("full re-clone of the same host (site.yml, standby_force_reclone)", recloned)
    assert inode(PRIMARY) != inodes[PRIMARY] or sh(PRIMARY, "ls -d %s.pgrepl-old-* | wc -l"
                                                   % DATA_DIR) != "0"
    assert sh(PG2, "grep -c %s %s/pg_hba.conf" % (PG3, CONF_DIR)) == hba_before
    assert slot_of(PG3) in psql(PG2, "SELECT string_agg(slot_name, ' ') FROM pg_replication_slots")
    wait_streams_to(PG2, [PRIMARY, PG3])


# --- the same failover and rejoin on Debian 13 / PostgreSQL 17 ---------------------------------

def test_l4_failover_and_rejoin_on_debian13_pg17() -> None:
    """test_l3 again (up to the rejoin), in a child pytest on a lab of its own built from
    Debian 13 / PostgreSQL 17 (PGREPL_FAULTS_DISTRO=trixie; tests/output/faults-trixie/ keeps
    its logs)."""
    child = dict(os.environ, PGREPL_FAULTS_DISTRO="trixie")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(Path(__file__).relative_to(REPO)), "-k", "test_l3",
         "-p", "no:cacheprovider", "-q", "-rA"],
        cwd=REPO, env=child, capture_output=True, text=True, check=False)
    log = REPO / "tests" / "output" / "faults-trixie" / "pytest.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(done.stdout + done.stderr)
    print(done.stdout[-3000:])
    assert done.returncode == 0 and "1 passed" in done.stdout, (
        "test_l3 failed on Debian 13 / PostgreSQL 17 (full output: %s)\n%s"
        % (log, done.stdout[-6000:]))
