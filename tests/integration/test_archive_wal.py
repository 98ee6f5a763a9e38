"""The primary role's archive_command script (roles/primary/files/pgrepl-archive-wal) as the
archive_command of a real cluster: segments arrive complete, a file already archived
(identical) is accepted, a different file under the next segment's name stops archiving with
a clear message and is never overwritten, and archiving resumes once it is moved away.

A crash of the script never leaves a file under a segment's name: it writes
``.<f>.tmp.<pid>`` and links it to ``<f>`` only once complete and fsynced. So a same-named
file that differs was written by something else (the old ``test ! -f && cp`` after a full
disk, another cluster); the script refuses it rather than guess.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .ansible_runner import run_module
from .pgcluster import Lab, Node, _chown_to_server_user

SCRIPT = Path(__file__).resolve().parents[2] / "roles" / "primary" / "files" / "pgrepl-archive-wal"


class ArchiveLab:
    def __init__(self, lab: Lab, archive: Path):
        self.lab = lab
        self.archive = archive
        self.node: Node = lab.primary

    def archiver(self) -> dict:
        row = self.node.sql("SELECT archived_count, failed_count, last_archived_wal, "
                            "last_failed_wal FROM pg_stat_archiver")[0]
        return dict(zip(("archived", "failed", "last_archived", "last_failed"), row))

    def switch(self) -> str:
        """Write a little WAL and close the segment: the name of the segment closed."""
        self.node.sql("CREATE TABLE IF NOT EXISTS archive_it(i int)")
        self.node.sql("INSERT INTO archive_it VALUES (1)")
        return self.node.scalar("SELECT pg_walfile_name(pg_switch_wal())")

    def current(self) -> str:
        """The segment being written now: the next one the archiver will see. (Right after
        a switch the position sits on the boundary, which pg_walfile_name() names after the
        closed segment: write a little first.)"""
        self.node.sql("INSERT INTO archive_it VALUES (2)")
        return self.node.scalar("SELECT pg_walfile_name(pg_current_wal_lsn())")

    def wait(self, what: str, probe, timeout: float = 90) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            state = self.archiver()
            if probe(state):
                return state
            if time.monotonic() > deadline:
                raise AssertionError("gave up waiting for %s: %s\n%s" % (what, state, self.log()))
            time.sleep(0.2)

    def wait_archived(self, segment: str) -> dict:
        return self.wait("%s archived" % segment,
                         lambda s: s["last_archived"] is not None and s["last_archived"] >= segment)

    def wait_failed(self, segment: str, failed_before: int) -> dict:
        return self.wait("a failure on %s" % segment,
                         lambda s: s["failed"] > failed_before and s["last_failed"] == segment)

    def log(self) -> str:
        return self.node.log.read_text(errors="replace")

    def pg_wal(self, segment: str) -> Path:
        return self.node.datadir / "pg_wal" / segment


@pytest.fixture(scope="module")
def archiving() -> Iterator[ArchiveLab]:
    """A primary of its own (no standby) whose archive_command is the role's script."""
    base = Path(tempfile.mkdtemp(prefix="pgrepl-archive-it-"))
    bindir = base / "bin"
    archive = base / "archive"
    bindir.mkdir()
    archive.mkdir(mode=0o700)
    script = bindir / "pgrepl-archive-wal"
    shutil.copyfile(SCRIPT, script)
    script.chmod(0o755)
    _chown_to_server_user(archive)
    conf = ("archive_mode = on\narchive_command = '%s %%p %%f %s'\n" % (script, archive))
    lab = Lab(base=base, extra_conf=conf).start(standby=False)
    try:
        yield ArchiveLab(lab, archive)
    finally:
        lab.stop()


def test_segments_arrive_complete_and_durable(archiving: ArchiveLab) -> None:
    segments = [archiving.switch() for _switch in range(3)]
    archiving.wait_archived(segments[-1])
    size = archiving.node.scalar("SELECT pg_size_bytes(current_setting('wal_segment_size'))")
    for segment in segments:
        target = archiving.archive / segment
        assert target.stat().st_size == size, segment
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        source = archiving.pg_wal(segment)
        if source.exists():  # not yet recycled by a checkpoint
            assert target.read_bytes() == source.read_bytes(), segment
    assert not [p.name for p in archiving.archive.iterdir() if ".tmp." in p.name]
    assert archiving.archiver()["failed"] == 0
    # The role's status module reads the same counters and the archive's size.
    status = run_module("pg_replication_status",
                        dict(archiving.node.conn_args, archive_dir=str(archiving.archive)))
    assert not status.failed, status.msg
    assert status["archiver"]["archive_mode"] == "on"
    assert status["archiver"]["archived_count"] >= 3
    assert status["archiver"]["last_archived_wal"] >= segments[-1]
    files = list(archiving.archive.iterdir())
    assert status["archive"]["files"] == len(files)
    assert status["archive"]["bytes"] == sum(p.stat().st_size for p in files)


def test_an_identical_file_already_archived_is_accepted(archiving: ArchiveLab) -> None:
    """The crash window between the rename and PostgreSQL recording success: the segment is
    archived again, finds itself there, and succeeds without touching the file."""
    archiving.wait_archived(archiving.switch())
    away = archiving.archive.with_name("archive.away")
    archiving.archive.rename(away)  # archiving fails while the directory is gone
    try:
        before = archiving.archiver()
        segment = archiving.switch()
        archiving.wait_failed(segment, before["failed"])
        assert "archive directory %s does not exist" % archiving.archive in archiving.log()
        # What a run that died after its link() but before PostgreSQL heard of it leaves.
        shutil.copyfile(archiving.pg_wal(segment), away / segment)
        _chown_to_server_user(away / segment)
        inode = (away / segment).stat().st_ino
    finally:
        away.rename(archiving.archive)

    after = archiving.switch()  # a new segment wakes the archiver, which retries in order
    archiving.wait_archived(after)
    assert (archiving.archive / segment).stat().st_ino == inode
    assert "%s is already archived (identical)" % (archiving.archive / segment) in archiving.log()


def test_a_different_file_under_the_next_name_stops_archiving_until_moved(
        archiving: ArchiveLab) -> None:
    archiving.wait_archived(archiving.switch())
    segment = archiving.current()
    planted = archiving.archive / segment
    garbage = b"\0" * 8192  # a cut-off copy, as `test ! -f && cp` left one after ENOSPC
    planted.write_bytes(garbage)
    _chown_to_server_user(planted)
    before = archiving.archiver()

    assert archiving.switch() == segment
    failed = archiving.wait_failed(segment, before["failed"])
    time.sleep(2)  # PostgreSQL retries; the file must survive every attempt
    assert planted.read_bytes() == garbage
    assert archiving.archiver()["last_archived"] == before["last_archived"]
    assert failed["archived"] == before["archived"]
    log = archiving.log()
    assert "%s already exists and differs from pg_wal/%s (8192 bytes in the archive" % (
        planted, segment) in log
    assert "it is never overwritten" in log

    status = run_module("pg_replication_status", archiving.node.conn_args)
    assert not status.failed, status.msg
    assert status["archiver"]["last_failed_wal"] == segment
    assert status["archiver"]["failed_count"] >= failed["failed"]
    assert status["archiver"]["last_failed_time"]

    os.unlink(planted)  # the operator's fix
    after = archiving.switch()
    archiving.wait_archived(after)
    assert planted.stat().st_size > len(garbage)
    assert not [p.name for p in archiving.archive.iterdir() if ".tmp." in p.name]
