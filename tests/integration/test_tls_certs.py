"""The replication TLS files (roles/postgresql/tasks/tls.yml) with real ansible-playbook runs.

tests/integration/playbooks/tls.yml runs preflight and tls.yml against two stand-in hosts with a
local connection: db1 (ansible_host 10.0.0.11, a cluster configuration the drop-in is checked
against with `postgres -C`) and db2 (a fresh standby: no postgresql.conf yet). Each has its own
throwaway configuration directory; the CA and host certificates go to a temporary
postgresql_tls_dir. No PostgreSQL server runs, so nothing is reloaded.

Needs openssl, the user postgres and PostgreSQL 15's binaries (as the other integration tests).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from .ansible_runner import REPO, ansible_env

PLAYBOOK = REPO / "tests" / "integration" / "playbooks" / "tls.yml"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
BIN = Path("/usr/lib/postgresql/15/bin")
HOST_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
UNCHANGED = "Nothing was changed."

pytestmark = pytest.mark.skipif(
    shutil.which("openssl") is None or not (BIN / "postgres").exists(),
    reason="needs openssl and PostgreSQL 15")


@dataclass
class Run:
    rc: int
    output: str
    stats: dict

    def changed(self, host: str) -> int:
        return self.stats[host]["changed"]

    def changed_tasks(self) -> list:
        """(task, host) of every changed result of a json run: the message of a failed assert."""
        try:
            plays = json.loads(self.output[:self.output.rindex("}") + 1])["plays"]
        except ValueError:
            return [self.output[-3000:]]
        return [(task["task"]["name"], host) for play in plays for task in play["tasks"]
                for host, result in task["hosts"].items() if result.get("changed")]


@dataclass
class Lab:
    root: Path     # readable by postgres: the hosts' configuration directories
    tls_dir: Path  # the controller's postgresql_tls_dir

    def conf(self, host: str) -> Path:
        return self.root / host / "main"

    def host_cert(self, host: str) -> Path:
        return self.tls_dir / "hosts" / (host + ".crt")

    def host_key(self, host: str) -> Path:
        return self.tls_dir / "hosts" / (host + ".key")

    def inventory(self) -> Path:
        common = {"ansible_connection": "local", "ansible_python_interpreter": HOST_PYTHON,
                  "ansible_become_method": "su"}
        hosts = {
            "db1": dict(common, ansible_host="10.0.0.11", tls_test_conf_dir=str(self.conf("db1"))),
            "db2": dict(common, ansible_host="DB2.example.com", standby_address="10.0.0.12",
                        tls_test_conf_dir=str(self.conf("db2"))),
        }
        path = self.root / "inventory.json"
        path.write_text(json.dumps({"all": {"hosts": hosts}}))
        return path

    def run(self, extra: dict | None = None, check: bool = False, limit: str = "",
            verbose: bool = False) -> Run:
        """ansible-playbook tls.yml; verbose: the default callback with -v, else json."""
        variables = {"postgresql_replication_password": "secret", "postgresql_version": "15",
                     "postgresql_tls_dir": str(self.tls_dir), **(extra or {})}
        varfile = self.root / "extra.json"
        varfile.write_text(json.dumps(variables))
        cmd = [str(ANSIBLE_PLAYBOOK), "-i", str(self.inventory()), "-e", "@" + str(varfile),
               str(PLAYBOOK)]
        if check:
            cmd.append("--check")
        if limit:
            cmd += ["--limit", limit]
        env = ansible_env()
        if verbose:
            cmd.append("-v")
            env["ANSIBLE_STDOUT_CALLBACK"] = "default"
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO,
                              timeout=600, check=False)
        output = proc.stdout + proc.stderr
        if verbose:
            stats = {m.group(1): {"changed": int(m.group(2)), "failures": int(m.group(3))}
                     for m in re.finditer(r"^(\S+)\s*:\s*ok=\d+\s+changed=(\d+)\s+"
                                          r"unreachable=\d+\s+failed=(\d+)", output, re.M)}
        else:
            try:
                stats = json.loads(proc.stdout)["stats"]
            except (ValueError, KeyError):
                stats = {}
        return Run(proc.returncode, output, stats)


def openssl(*args: str) -> str:
    return subprocess.run(["openssl", *args], check=True, capture_output=True, text=True).stdout


def san(cert: Path) -> str:
    text = openssl("x509", "-in", str(cert), "-noout", "-text")
    return text.split("X509v3 Subject Alternative Name:", 1)[1].splitlines()[1].strip()


def digests(lab: Lab) -> dict:
    """sha256 of every file the runs make, on the controller and on the hosts."""
    found = {}
    for base in (lab.tls_dir, lab.root / "db1", lab.root / "db2"):
        for path in sorted(base.rglob("*")):
            if path.is_file():
                found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def key_body_lines(*keys: Path) -> list[str]:
    """The base64 lines of PEM keys (what a leak would show)."""
    return [line for key in keys for line in key.read_text().splitlines()
            if line and not line.startswith("-----")]


def write_cluster_conf(conf: Path) -> None:
    """Enough of a cluster's configuration for `postgres -C` (no data directory needed)."""
    conf.mkdir(parents=True)
    (conf / "pg_hba.conf").write_text("local all postgres peer\n")
    (conf / "pg_ident.conf").write_text("")
    (conf / "postgresql.conf").write_text(
        "data_directory = '%s/data'\nhba_file = '%s/pg_hba.conf'\n"
        "ident_file = '%s/pg_ident.conf'\ninclude_dir = 'conf.d'\n" % (conf, conf, conf))
    for path in [conf.parent, conf, *conf.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)


@pytest.fixture
def lab(tmp_path: Path):
    root = Path(tempfile.mkdtemp(prefix="pgrepl-tls-", dir="/tmp"))
    root.chmod(0o755)
    write_cluster_conf(root / "db1" / "main")
    yield Lab(root, tmp_path / "controller" / "tls")
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def generated(lab: Lab) -> Lab:
    """A lab after a first run (default callback, -v) that generated everything."""
    run = lab.run(verbose=True)
    assert run.rc == 0, run.output
    assert run.changed("db1") > 0 and run.changed("db2") > 0
    keys = [lab.tls_dir / "ca.key", lab.host_key("db1"), lab.host_key("db2")]
    leaked = [line for line in key_body_lines(*keys) if line in run.output]
    assert not leaked, "a private key appears in the -v output"
    assert run.output.count("TASK [pgrepl.streaming.postgresql : Make the CA]") == 1
    return lab


def test_the_ca_and_the_host_certificates_are_generated(generated: Lab) -> None:
    lab = generated
    ca = lab.tls_dir / "ca.crt"
    assert mode(lab.tls_dir) == 0o700 and mode(lab.tls_dir / "hosts") == 0o700
    assert mode(lab.tls_dir / "ca.key") == 0o600
    assert sorted(p.name for p in (lab.tls_dir / "hosts").iterdir()) == [
        "db1.crt", "db1.key", "db2.crt", "db2.key"]
    assert "CN=pgrepl.streaming replication CA" in openssl("x509", "-in", str(ca), "-noout",
                                                           "-subject").replace(" = ", "=")
    for host in ("db1", "db2"):
        assert mode(lab.host_key(host)) == 0o600
        assert openssl("verify", "-CAfile", str(ca), str(lab.host_cert(host))).strip().endswith(
            ": OK")
    assert san(lab.host_cert("db1")) == "DNS:db1, IP Address:10.0.0.11"
    assert san(lab.host_cert("db2")) == "DNS:db2, DNS:db2.example.com, IP Address:10.0.0.12"


def test_the_host_gets_the_files_and_the_drop_in(generated: Lab) -> None:
    lab = generated
    for host in ("db1", "db2"):
        tls = lab.conf(host) / "tls"
        assert tls.stat().st_uid == 0 and tls.stat().st_gid == _gid("postgres")
        assert mode(tls) == 0o750
        assert (tls / "root.crt").read_bytes() == (lab.tls_dir / "ca.crt").read_bytes()
        assert (tls / "server.crt").read_bytes() == lab.host_cert(host).read_bytes()
        assert (tls / "server.key").read_bytes() == lab.host_key(host).read_bytes()
        assert mode(tls / "server.key") == 0o600
        assert (tls / "server.key").stat().st_uid == _uid("postgres")
        assert mode(tls / "root.crt") == mode(tls / "server.crt") == 0o644
        dropin = (lab.conf(host) / "conf.d" / "52-pgrepl-tls.conf").read_text()
        assert "ssl = on\n" in dropin
        assert "ssl_cert_file = '%s/server.crt'" % tls in dropin
        assert "ssl_key_file = '%s/server.key'" % tls in dropin
        assert "ssl_min_protocol_version = 'TLSv1.2'" in dropin
    # postgres -C read db1's configuration with the drop-in (its backup is gone again).
    assert not list((lab.conf("db1") / "conf.d").glob("*~"))


def test_a_rerun_changes_nothing(generated: Lab) -> None:
    lab = generated
    before = digests(lab)
    run = lab.run()
    assert run.rc == 0, run.output
    assert run.changed("db1") == run.changed("db2") == 0, run.changed_tasks()
    assert digests(lab) == before
    assert "tls_changed=False" in run.output


def test_check_mode_on_a_fresh_lab_writes_nothing_and_reports_changes(lab: Lab) -> None:
    run = lab.run(check=True)
    assert run.rc == 0, run.output
    assert run.changed("db1") > 0 and run.changed("db2") > 0
    assert not lab.tls_dir.exists()
    assert not (lab.conf("db2")).exists()
    assert "Would issue the certificate of db1" in run.output
    assert "tls_changed=True" in run.output


def test_check_mode_after_a_run_changes_nothing(generated: Lab) -> None:
    before = digests(generated)
    run = generated.run(check=True)
    assert run.rc == 0, run.output
    assert run.changed("db1") == run.changed("db2") == 0, run.changed_tasks()
    assert digests(generated) == before


def test_a_certificate_expiring_within_renew_days_is_issued_again(generated: Lab) -> None:
    lab = generated
    short = lab.root / "short.crt"
    csr = lab.root / "db1.csr"
    openssl("req", "-new", "-key", str(lab.host_key("db1")), "-subj", "/CN=db1", "-out", str(csr))
    ext = lab.root / "ext.cnf"
    ext.write_text("subjectAltName = DNS:db1, IP:10.0.0.11\n")
    openssl("x509", "-req", "-in", str(csr), "-CA", str(lab.tls_dir / "ca.crt"), "-CAkey",
            str(lab.tls_dir / "ca.key"), "-set_serial", "7", "-days", "1", "-extfile", str(ext),
            "-out", str(short))
    shutil.copyfile(short, lab.host_cert("db1"))
    before = digests(lab)
    run = lab.run()
    assert run.rc == 0, run.output
    assert run.changed("db2") == 0, run.changed_tasks()
    assert "expires within 30 days" in run.output
    after = digests(lab)
    changed = sorted(path for path in after if after[path] != before.get(path))
    assert changed == sorted([str(lab.host_cert("db1")), str(lab.host_key("db1")),
                              str(lab.conf("db1") / "tls" / "server.crt"),
                              str(lab.conf("db1") / "tls" / "server.key")])
    openssl("x509", "-in", str(lab.host_cert("db1")), "-noout", "-checkend", str(800 * 86400))
    assert "tls_changed=True" in run.output


def test_a_new_name_reissues_and_a_dropped_one_does_not(generated: Lab) -> None:
    lab = generated
    run = lab.run({"postgresql_tls_extra_names": "pg.example.com,10.9.9.9"})
    assert run.rc == 0, run.output
    assert "its SAN lacks DNS:pg.example.com, IP:10.9.9.9" in run.output
    assert san(lab.host_cert("db1")) == (
        "DNS:db1, IP Address:10.0.0.11, DNS:pg.example.com, IP Address:10.9.9.9")
    before = digests(lab)
    run = lab.run()
    assert run.rc == 0, run.output
    assert run.changed("db1") == run.changed("db2") == 0, run.changed_tasks()
    assert digests(lab) == before


def test_a_forced_rotation_of_one_host(generated: Lab) -> None:
    lab = generated
    before = digests(lab)
    run = lab.run({"postgresql_tls_rotate": "true"}, limit="db2")
    assert run.rc == 0, run.output
    after = digests(lab)
    assert after[str(lab.host_cert("db2"))] != before[str(lab.host_cert("db2"))]
    assert after[str(lab.host_cert("db1"))] == before[str(lab.host_cert("db1"))]
    assert after[str(lab.tls_dir / "ca.crt")] == before[str(lab.tls_dir / "ca.crt")]


# ------------------------------------------------------------------ bring your own


def own_ca(root: Path, name: str) -> tuple[Path, Path]:
    key, crt = root / (name + ".key"), root / (name + ".crt")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-subj",
            "/CN=" + name, "-days", "30", "-out", str(crt))
    return key, crt


def own_cert(root: Path, ca: tuple[Path, Path], host: str) -> tuple[Path, Path]:
    key, csr, crt = root / (host + ".key"), root / (host + ".csr"), root / (host + ".crt")
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-subj",
            "/CN=" + host, "-out", str(csr))
    ext = root / (host + ".ext")
    ext.write_text("subjectAltName = DNS:%s\n" % host)
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca[1]), "-CAkey", str(ca[0]),
            "-set_serial", "9", "-days", "20", "-extfile", str(ext), "-out", str(crt))
    return key, crt


def test_own_certificates_are_checked_and_copied(lab: Lab, tmp_path: Path) -> None:
    ca = own_ca(tmp_path, "ownca")
    key, crt = own_cert(tmp_path, ca, "db1")
    run = lab.run({"postgresql_tls_ca_cert": str(ca[1]), "postgresql_tls_cert": str(crt),
                   "postgresql_tls_key": str(key)}, limit="db1", verbose=True)
    assert run.rc == 0, run.output
    assert not lab.tls_dir.exists()
    tls = lab.conf("db1") / "tls"
    assert (tls / "root.crt").read_bytes() == ca[1].read_bytes()
    assert (tls / "server.key").read_bytes() == key.read_bytes()
    assert not [line for line in key_body_lines(key) if line in run.output]
    # It expires within 30 days and lacks the address: warned, not replaced.
    assert "expires within 30 days" in run.output
    assert "lacks the SAN entries IP:10.0.0.11" in run.output


def test_own_key_that_does_not_fit_is_refused(lab: Lab, tmp_path: Path) -> None:
    ca = own_ca(tmp_path, "ownca")
    _key, crt = own_cert(tmp_path, ca, "db1")
    other_key, _crt = own_cert(tmp_path, ca, "db2")
    run = lab.run({"postgresql_tls_ca_cert": str(ca[1]), "postgresql_tls_cert": str(crt),
                   "postgresql_tls_key": str(other_key)}, limit="db1")
    assert run.rc != 0
    assert "postgresql_tls_key (%s) is not the key of postgresql_tls_cert" % other_key in run.output
    assert not (lab.conf("db1") / "tls").exists()


def test_own_certificate_of_another_ca_is_refused(lab: Lab, tmp_path: Path) -> None:
    ca = own_ca(tmp_path, "ownca")
    other = own_ca(tmp_path, "otherca")
    key, crt = own_cert(tmp_path, ca, "db1")
    run = lab.run({"postgresql_tls_ca_cert": str(other[1]), "postgresql_tls_cert": str(crt),
                   "postgresql_tls_key": str(key)}, limit="db1")
    assert run.rc != 0
    wanted = "postgresql_tls_ca_cert (%s) does not verify postgresql_tls_cert" % other[1]
    assert wanted in run.output
    assert not (lab.conf("db1") / "tls").exists()


# ------------------------------------------------------------------ preflight


@pytest.mark.parametrize(
    ("extra", "message"),
    [({"postgresql_tls_cert": "/x.crt"},
      "postgresql_tls_cert is set, but not postgresql_tls_ca_cert and postgresql_tls_key"),
     ({"postgresql_tls_cert": "/no/x.crt", "postgresql_tls_key": "/no/x.key",
       "postgresql_tls_ca_cert": "/no/ca.crt"},
      "postgresql_tls_ca_cert = /no/ca.crt, postgresql_tls_cert = /no/x.crt, "
      "postgresql_tls_key = /no/x.key: not a file on the controller"),
     ({"postgresql_tls_dir": str(REPO / ".cache" / "tls")},
      "is inside the git checkout of playbook_dir (%s)" % REPO),
     ({"postgresql_tls_renew_days": "900"}, "postgresql_tls_renew_days (900) from 0 to less"),
     ({"postgresql_tls_extra_names": ["ok.example", "not ok"]}, "(not: not ok)")],
)
def test_preflight_refuses_bad_input_before_any_change(lab: Lab, extra: dict,
                                                       message: str) -> None:
    run = lab.run(extra)
    assert run.rc != 0
    flat = " ".join(run.output.split())
    assert message in flat, run.output
    assert UNCHANGED in flat
    assert not lab.tls_dir.exists()
    assert not (REPO / ".cache" / "tls").exists()
    assert not (lab.conf("db1") / "tls").exists()


def _uid(user: str) -> int:
    import pwd

    return pwd.getpwnam(user).pw_uid


def _gid(group: str) -> int:
    import grp

    return grp.getgrnam(group).gr_gid
