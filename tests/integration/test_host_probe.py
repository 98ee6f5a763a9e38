"""host_probe run as a module (AnsiballZ, argument spec, check mode) on this host."""

from __future__ import annotations

import hashlib
import os
import pwd

from .ansible_runner import run_module


def test_reads_files_lines_packages_and_users(tmp_path):
    conf = tmp_path / "postgresql.conf"
    conf.write_text("port = 5432\ninclude_dir = 'conf.d'\n")
    conf.chmod(0o644)
    me = pwd.getpwuid(os.getuid()).pw_name
    result = run_module("pgrepl.streaming.host_probe", {
        "paths": [str(conf), str(tmp_path), str(tmp_path / "missing")],
        "lines": [{"path": str(conf), "regexp": r"^\s*include_dir\s*="}],
        "packages": ["dpkg", "no-such-package-pgrepl"],
        "users": [me, "no-such-user-pgrepl"],
    }, check=True)
    assert not result.failed, result.stdout + result.stderr
    assert not result.changed
    files = result["files"]
    assert files[str(conf)]["type"] == "file"
    assert files[str(conf)]["mode"] == "0644"
    assert files[str(conf)]["sha1"] == hashlib.sha1(conf.read_bytes()).hexdigest()
    assert files[str(tmp_path)]["type"] == "directory"
    assert files[str(tmp_path / "missing")] == {"exists": False}
    assert result["lines"] == [["include_dir = 'conf.d'"]]
    assert "dpkg" in result["packages"]
    assert "no-such-package-pgrepl" not in result["packages"]
    assert result["users"][me]["uid"] == os.getuid()
    assert result["users"]["no-such-user-pgrepl"] is None
