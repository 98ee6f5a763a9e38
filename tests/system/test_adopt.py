"""Taking over clusters built by hand (issue 7), on real systemd containers.

Its own lab (pgrepl-adopt-pg1..3, Debian 12 / PostgreSQL 15). Every host gets PostgreSQL
exactly as the classic runbook (shared/seed-runbook-ko.txt) builds it: distro packages with
the package's own main cluster, a REPLICATION role `replication_admin` with a password, the
primary's settings appended to postgresql.conf (after include_dir), an archive in a home
directory, `host replication all <ip>/32 trust`, and standbys made by stopping, emptying the
data dir, `pg_basebackup -X stream`, settings with `password=` in postgresql.conf and in
standby.signal (with trigger_file). The standbys sit on "their own disks": pg2's data dir is
relocated (data_directory = /srv/pgdata/15/main, as `pg_createcluster -d` makes it), pg3's is a
symlink to /srv/pgdisk/main. site.yml then takes the cluster over with an inventory that names
that user, that archive dir and a new password.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.molecule.hostenv import REPO, tool_env
from tests.system import faultlab as lab

pytestmark = pytest.mark.molecule

PREFIX = "pgrepl-adopt"
PRIMARY = PREFIX + "-pg1"
RELOCATED = PREFIX + "-pg2"
SYMLINKED = PREFIX + "-pg3"
STANDBYS = (RELOCATED, SYMLINKED)
HOSTS = (PRIMARY, *STANDBYS)
OLD_PASSWORD = "runbook-Old-secret1"
NEW_PASSWORD = "collection-New-secret2"
ARCHIVE = "/home/ubuntu/wal_archive"
CONF = "/etc/postgresql/15/main"
REAL_DATA = {RELOCATED: "/srv/pgdata/15/main", SYMLINKED: "/srv/pgdisk/main"}
USER = "replication_admin"
# Where the DBA pointed pg_basebackup: the configured data dir (a symlink for pg3).
TARGET = {RELOCATED: "/srv/pgdata/15/main", SYMLINKED: "/var/lib/postgresql/15/main"}


def env() -> dict[str, str]:
    return tool_env(LAB_PREFIX=PREFIX)


def lab_sh(command: str) -> None:
    done = subprocess.run(["bash", str(REPO / "scripts" / "lab.sh"), command], cwd=REPO,
                          env=env(), capture_output=True, text=True, check=False)
    assert done.returncode == 0, "lab.sh %s failed:\n%s%s" % (command, done.stdout, done.stderr)


def address(host: str) -> str:
    return lab.sh(host, "hostname -I").split()[0]


# The runbook, step by step, as a DBA types it (steps 1-5 of the seed).
RUNBOOK_PRIMARY = r"""
set -e
apt-get install -y -qq postgresql >/dev/null
runuser -u postgres -- psql -qc "CREATE ROLE {user} WITH REPLICATION LOGIN PASSWORD '{old}'"
cat >>{conf}/postgresql.conf <<'EOF'
listen_addresses = '*'
wal_level = replica
max_wal_senders = 10
archive_mode = on
archive_command = 'test ! -f {archive}/%f && cp %p {archive}/%f'
EOF
mkdir -p {archive}
chown postgres:postgres {archive}
chmod 700 {archive}
{hba}
systemctl restart postgresql@15-main
"""

RUNBOOK_STANDBY = r"""
set -e
apt-get install -y -qq postgresql >/dev/null
systemctl stop postgresql@15-main
cat >>{conf}/postgresql.conf <<'EOF'
listen_addresses = '*'
restore_command = 'cp {archive}/%f %p'
primary_conninfo = 'host={primary} port=5432 user={user} password={old}'
EOF
{disk}
runuser -u postgres -- pg_basebackup -h {primary} -D {target} -U {user} \
  -P --wal-method=stream >/dev/null 2>&1
cat >{data}/standby.signal <<'EOF'
primary_conninfo = 'host={primary} port=5432 user={user} password={old}'
trigger_file = '/tmp/postgresql.trigger.5432'
EOF
chown postgres:postgres {data}/standby.signal
systemctl start postgresql@15-main
"""

# "Their own disks": the data dir moved to /srv, referenced by data_directory or by a symlink.
DISKS = {
    RELOCATED: r"""
rm -rf /var/lib/postgresql/15/main
install -d -o postgres -g postgres -m 700 /srv/pgdata/15/main
sed -i "s|^data_directory = .*|data_directory = '/srv/pgdata/15/main'|" {conf}/postgresql.conf
""",
    SYMLINKED: r"""
rm -rf /var/lib/postgresql/15/main
install -d -o postgres -g postgres -m 700 /srv/pgdisk/main
ln -s /srv/pgdisk/main /var/lib/postgresql/15/main
""",
}


def build_by_hand() -> None:
    hba = "\n".join("echo 'host replication all %s/32 trust' >>%s/pg_hba.conf"
                    % (address(host), CONF) for host in STANDBYS)
    lab.sh(PRIMARY, RUNBOOK_PRIMARY.format(user=USER, old=OLD_PASSWORD, conf=CONF,
                                           archive=ARCHIVE, hba=hba))
    for host in STANDBYS:
        disk = DISKS[host].format(conf=CONF)
        lab.sh(host, RUNBOOK_STANDBY.format(user=USER, old=OLD_PASSWORD, conf=CONF,
                                            archive=ARCHIVE, primary=PRIMARY, disk=disk,
                                            data=REAL_DATA[host], target=TARGET[host]))
    lab.psql(PRIMARY, "CREATE TABLE adopt_rows (id serial PRIMARY KEY, note text)")
    lab.psql(PRIMARY, "INSERT INTO adopt_rows (note) VALUES ('written by hand')")
    for host in STANDBYS:
        lab.wait_until("the hand-built standby %s replays" % host,
                       lambda host=host: lab.psql(host, "SELECT count(*) FROM adopt_rows") == "1")


def inventory(name: str) -> Path:
    return lab.inventory(name, primary={PRIMARY: None}, standbys=dict.fromkeys(STANDBYS),
                         postgresql_replication_password=NEW_PASSWORD,
                         postgresql_replication_user=USER, postgresql_archive_dir=ARCHIVE,
                         primary_max_wal_senders=12)


def state(host: str) -> dict[str, str]:
    """Identity of the data: the real dir's inode, a marker file in it, the system identifier,
    the symlink in front of it. (The standbys restart once: primary_max_wal_senders rises to
    12 and a standby must not have fewer, a restart-only setting.)"""
    data = REAL_DATA.get(host, "/var/lib/postgresql/15/main")
    lab.sh(host, f"test -e {data}/adopt-marker || touch {data}/adopt-marker")
    return {
        "inode": lab.sh(host, "stat -c %%i %s" % data),
        "marker": lab.sh(host, "stat -c %%i %s/adopt-marker" % data),
        "system_id": lab.system_identifier(host),
        "link": lab.sh(host, "readlink /var/lib/postgresql/15/main || true"),
    }


@dataclass
class Adopted:
    before: dict[str, dict[str, str]]
    converge: lab.Run
    rerun: lab.Run


@pytest.fixture(scope="module")
def adopted() -> Iterator[Adopted]:
    lab.require_podman()
    keep = os.environ.get("PGREPL_FAULTS_KEEP") == "1"
    try:
        lab_sh("down")
        lab_sh("containers")
        build_by_hand()
        before = {host: state(host) for host in HOSTS}
        inv = inventory("adopt")
        converge = lab.playbook("adopt-converge", "site.yml", inv, verbose=True)
        assert converge.rc == 0, "site.yml could not take the cluster over " + converge.tail()
        rerun = lab.playbook("adopt-rerun", "site.yml", inv)
        yield Adopted(before, converge, rerun)
    finally:
        if not keep:
            lab_sh("down")


def test_standbys_kept_not_recloned(adopted: Adopted) -> None:
    for host in STANDBYS:
        now = state(host)
        assert now == adopted.before[host], "%s: the data dir was replaced" % host
        assert lab.psql(host, "SELECT pg_is_in_recovery()") == "t"
        assert lab.psql(host, "SHOW data_directory") in (REAL_DATA[host],
                                                         "/var/lib/postgresql/15/main")
    lab.psql(PRIMARY, "INSERT INTO adopt_rows (note) VALUES ('written after the takeover')")
    for host in STANDBYS:
        lab.wait_until("the new row on %s" % host,
                       lambda host=host: lab.psql(host, "SELECT count(*) FROM adopt_rows") == "2")


def test_each_standby_now_uses_its_slot(adopted: Adopted) -> None:
    rows = lab.psql(PRIMARY, "SELECT slot_name || ':' || active FROM pg_replication_slots "
                             "ORDER BY 1").split()
    assert rows == ["%s:true" % lab.slot_of(host) for host in STANDBYS]
    for host in STANDBYS:
        assert lab.psql(host, "SELECT slot_name FROM pg_stat_wal_receiver") == lab.slot_of(host)


def test_no_trust_replication_rule_in_effect(adopted: Adopted) -> None:
    rules = lab.psql(PRIMARY, "SELECT line_number || ' ' || auth_method FROM pg_hba_file_rules "
                              "WHERE 'replication' = ANY(database) AND type LIKE 'host%'")
    assert "trust" not in rules, rules
    hba = lab.sh(PRIMARY, "cat %s/pg_hba.conf" % CONF)
    for host in STANDBYS:
        trust = "host replication all %s/32 trust" % address(host)
        assert "#pgrepl.streaming" in hba and trust in hba
    assert lab.sh(PRIMARY, "ls %s/pg_hba.conf.pgrepl-*" % CONF)


def test_managed_settings_win_over_appended_lines(adopted: Adopted) -> None:
    assert lab.psql(PRIMARY, "SHOW max_wal_senders") == "12"
    assert lab.psql(PRIMARY, "SELECT count(*) FROM pg_file_settings WHERE name = "
                             "'max_wal_senders' AND applied AND sourcefile LIKE '%conf.d%'") == "1"
    conf = lab.sh(PRIMARY, "cat %s/postgresql.conf" % CONF)
    assert "#pgrepl.streaming" in conf and "max_wal_senders = 10" in conf
    assert lab.sh(PRIMARY, "ls %s/postgresql.conf.pgrepl-*" % CONF)
    flat = " ".join(adopted.converge.output.split())
    assert "Moved aside in %s/postgresql.conf" % CONF in flat
    assert "Moved aside in %s/pg_hba.conf" % CONF in flat
    # archive_command now comes from the drop-in, with the inventory's archive dir.
    source = lab.psql(PRIMARY, "SELECT sourcefile FROM pg_settings WHERE name = 'archive_command'")
    assert source.endswith("conf.d/50-pgrepl-replication.conf")
    assert ARCHIVE in lab.psql(PRIMARY, "SHOW archive_command")


def test_no_password_in_any_config_file(adopted: Adopted) -> None:
    for host in HOSTS:
        for secret in (OLD_PASSWORD, NEW_PASSWORD):
            places = "/etc/postgresql %s" % REAL_DATA.get(host, "/var/lib/postgresql/15/main")
            found = lab.sh(host, "grep -rlF -- %s %s || true" % (secret, places))
            assert not found, "%s: a password is still in %s" % (host, found)
    for host in STANDBYS:
        signal = lab.sh(host, "cat %s/standby.signal" % REAL_DATA[host])
        assert all(not line or line.startswith("#") for line in signal.splitlines()), signal
        conninfo = lab.psql(host, "SHOW primary_conninfo")
        assert "password" not in conninfo and "passfile" in conninfo


def replication_login(password: str) -> bool:
    script = ("PGPASSWORD=%s psql -XAtq 'host=%s user=%s dbname=replication replication=true' "
              "-c IDENTIFY_SYSTEM" % (lab.shell_quote(password), PRIMARY, USER))
    done = subprocess.run(["podman", "exec", RELOCATED, "runuser", "-u", "postgres", "--",
                           "bash", "-c", script], env=env(), capture_output=True, text=True,
                          check=False)
    return done.returncode == 0


def test_old_password_no_longer_works(adopted: Adopted) -> None:
    assert replication_login(NEW_PASSWORD)
    assert not replication_login(OLD_PASSWORD)


def test_rerun_changes_nothing(adopted: Adopted) -> None:
    assert adopted.rerun.rc == 0, adopted.rerun.tail()
    assert not adopted.rerun.changed_hosts(), adopted.rerun.tail()
