"""What site.yml leaves on each host, seen from the host itself: packages, the service, the
listening socket, owners and modes of the files it writes, the archive and its timer, and no
password in the server's configuration.

Testinfra logs in the way the inventory says (over SSH as the login user for the Molecule
scenario `default`) and reads as root through sudo. The role of a host comes from its
inventory groups (`primary`, `standby`); the PostgreSQL version from its Debian release.
Run by tests/molecule/test_scenarios.py; see conftest.py for running them by hand.
"""

from __future__ import annotations

import base64
import io
import shlex
import tarfile

import pytest

from tests.molecule.test_scenarios import leak_forms

# The distribution's own PostgreSQL (the roles' default, postgresql_version: "").
VERSIONS = {"bookworm": "15", "trixie": "17"}
PORT = 5432
CLEANUP_TIMER = "pgrepl-archive-cleanup.timer"
PSQL = ["runuser", "-u", "postgres", "--", "psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-c"]


def groups_of(host, given_groups: dict[str, str]) -> list[str]:
    """The host's inventory groups: from --pgrepl-group for a host reached directly
    (podman://NAME), else from the Ansible inventory."""
    name = host.backend.get_hostname()
    if name in given_groups:
        return [given_groups[name]]
    return host.backend.get_variables()["group_names"]


def version_of(host) -> str:
    codename = host.system_info.codename
    assert codename in VERSIONS, "no PostgreSQL version known for Debian %s" % codename
    return VERSIONS[codename]


def only_on(host, given_groups: dict[str, str], group: str) -> None:
    if group not in groups_of(host, given_groups):
        pytest.skip("not a %s" % group)


def psql(host, sql: str) -> str:
    with host.sudo():
        return host.check_output(shlex.join(PSQL + [sql]))


def test_host_is_primary_or_standby(host, given_groups):
    assert {"primary", "standby"} & set(groups_of(host, given_groups))


def test_postgresql_packages_installed(host):
    version = version_of(host)
    for name in ("postgresql-" + version, "postgresql-client-" + version):
        assert host.package(name).is_installed, name


def test_service_running_and_enabled(host):
    service = host.service("postgresql@%s-main" % version_of(host))
    assert service.is_running
    assert service.is_enabled


def test_listening_on_postgresql_port(host):
    assert host.socket("tcp://%d" % PORT).is_listening


def test_configuration_files_owned_by_postgres(host):
    conf_dir = "/etc/postgresql/%s/main" % version_of(host)
    with host.sudo():
        drop_ins = host.check_output(
            "find %s/conf.d -maxdepth 1 -type f -name '*.conf'" % conf_dir).split()
        assert drop_ins, "no drop-in in %s/conf.d" % conf_dir
        for path in drop_ins:
            conf = host.file(path)
            assert (conf.user, conf.group) == ("postgres", "postgres"), path
            assert conf.mode & 0o022 == 0, "%s is writable by others: %o" % (path, conf.mode)
        hba = host.file(conf_dir + "/pg_hba.conf")
        assert (hba.user, hba.group) == ("postgres", "postgres")
        # Group may read it (Debian's default 0640), nobody else.
        assert hba.mode & 0o137 == 0, "pg_hba.conf mode %o" % hba.mode


def test_pgpass_private_on_standby(host, given_groups):
    only_on(host, given_groups, "standby")
    home = host.user("postgres").home
    with host.sudo():
        pgpass = host.file(home + "/.pgpass")
        assert pgpass.is_file
        assert pgpass.user == "postgres"
        assert pgpass.mode == 0o600


def test_archive_directory_private_on_primary(host, given_groups):
    only_on(host, given_groups, "primary")
    # archive_command = '<script> %p %f <archive dir>'
    words = psql(host, "SHOW archive_command").split()
    assert words[1:3] == ["%p", "%f"], words
    with host.sudo():
        archive = host.file(words[3].strip("'"))
        assert archive.is_directory
        assert archive.user == "postgres"
        assert archive.mode == 0o700


def test_archive_cleanup_timer_on_primary(host, given_groups):
    only_on(host, given_groups, "primary")
    timer = host.service(CLEANUP_TIMER)
    assert timer.is_enabled
    assert timer.is_running


def test_no_password_under_etc_postgresql(host, secrets):
    # The whole tree in one archive, searched here: the secret never goes to the host.
    with host.sudo():
        packed = host.check_output("tar -C / -cf - etc/postgresql | base64 -w0")
    forms = {form.encode() for secret in secrets for form in leak_forms(secret)}
    with tarfile.open(fileobj=io.BytesIO(base64.b64decode(packed))) as tree:
        files = [member for member in tree.getmembers() if member.isfile()]
        assert files, "no file under /etc/postgresql"
        leaked = [member.name for member in files
                  if any(form in tree.extractfile(member).read() for form in forms)]
    assert not leaked, "a replication password is written in %s" % leaked
