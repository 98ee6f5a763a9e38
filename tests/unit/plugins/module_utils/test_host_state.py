"""host_state: what host_probe reads, and the comparison that lets a task be skipped."""

from __future__ import annotations

import grp
import hashlib
import os
import pwd

from ansible_collections.pgrepl.streaming.plugins.module_utils import host_state

ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name


def test_describes_a_file_with_its_checksum(tmp_path):
    path = tmp_path / "a.conf"
    path.write_text("x = 1\n")
    path.chmod(0o640)
    found = host_state.describe_path(str(path))
    assert found == {"exists": True, "type": "file", "mode": "0640", "owner": ME,
                     "group": MY_GROUP, "sha1": hashlib.sha1(b"x = 1\n").hexdigest()}


def test_a_link_is_a_link_and_a_missing_path_is_missing(tmp_path):
    (tmp_path / "target").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "target")
    assert host_state.describe_path(str(tmp_path / "link"))["type"] == "link"
    assert host_state.describe_path(str(tmp_path / "target"))["type"] == "directory"
    assert host_state.describe_path(str(tmp_path / "nothing")) == {"exists": False}


def test_a_large_file_has_no_checksum(tmp_path, monkeypatch):
    monkeypatch.setattr(host_state, "MAX_HASHED", 3)
    path = tmp_path / "big"
    path.write_text("four")
    assert "sha1" not in host_state.describe_path(str(path))


def test_matching_lines_as_lineinfile_finds_them(tmp_path):
    path = tmp_path / "postgresql.conf"
    path.write_text("#include_dir = 'conf.d'\ninclude_dir = 'conf.d'\nport = 5432\n")
    regexp = r"^\s*include_dir\s*=\s*'conf\.d'"
    assert host_state.matching_lines(str(path), regexp) == ["include_dir = 'conf.d'"]
    assert host_state.matching_lines(str(tmp_path / "none"), regexp) == []


def test_parse_dpkg_keeps_installed_packages_only():
    out = ("postgresql-15\tii \t15.8-0+deb12u1\nacl\trc \t2.3.1-3\n"
           "python3-psycopg2:amd64\tii \t2.9.5-1+b1\n")
    assert host_state.parse_dpkg(out) == {"postgresql-15": "15.8-0+deb12u1",
                                          "python3-psycopg2": "2.9.5-1+b1"}


def test_parse_units():
    out = ("Id=postgresql@15-main.service\nLoadState=loaded\nActiveState=active\n"
           "UnitFileState=enabled\n\nId=pgrepl-archive-cleanup.timer\nLoadState=loaded\n"
           "ActiveState=inactive\nUnitFileState=masked\n")
    assert host_state.parse_units(out) == {
        "postgresql@15-main.service": {"loaded": "loaded", "active": "active",
                                       "enabled": "enabled"},
        "pgrepl-archive-cleanup.timer": {"loaded": "loaded", "active": "inactive",
                                         "enabled": "masked"}}


FILE = {"exists": True, "type": "file", "mode": "0644", "owner": "postgres",
        "group": "postgres", "sha1": hashlib.sha1(b"ssl = on\n").hexdigest()}


def test_matches_only_when_every_given_attribute_is_equal():
    sha1 = FILE["sha1"]
    assert host_state.matches(FILE, sha1=sha1, mode="0644", owner="postgres", group="postgres")
    assert host_state.matches(FILE, mode="644")
    assert not host_state.matches(FILE, sha1=hashlib.sha1(b"ssl = off\n").hexdigest())
    assert not host_state.matches(FILE, mode="0600")
    assert not host_state.matches(FILE, owner="root")
    assert not host_state.matches(FILE, group="root")
    assert not host_state.matches(FILE, state="directory")
    assert not host_state.matches(dict(FILE, type="link"), sha1=sha1)
    assert not host_state.matches({"exists": False})
    assert not host_state.matches(None)


def test_absent_matches_only_a_missing_path():
    assert host_state.matches({"exists": False}, state="absent")
    assert not host_state.matches(FILE, state="absent")
