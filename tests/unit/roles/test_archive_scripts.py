"""The primary role's WAL archive scripts (roles/primary/files), imported from their files:
pgrepl-archive-wal (the archive_command) and pgrepl-archive-cleanup (retention)."""

from __future__ import annotations

import errno
import importlib.machinery
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

FILES = Path(__file__).resolve().parents[3] / "roles" / "primary" / "files"
NOW = 1_800_000_000.0
DAY = 86400
SEG = 16 * 1024 * 1024


def load(name: str):
    loader = importlib.machinery.SourceFileLoader(name.replace("-", "_"), str(FILES / name))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


wal = load("pgrepl-archive-wal")
cleanup = load("pgrepl-archive-cleanup")


def segment(n: int, timeline: int = 1) -> str:
    return "%08X%08X%08X" % (timeline, n // 256, n % 256)


# ------------------------------------------------------------------ pgrepl-archive-wal


@pytest.fixture
def pg(tmp_path):
    """A pg_wal file with random content and an empty archive directory."""
    source = tmp_path / "pg_wal" / segment(5)
    source.parent.mkdir()
    source.write_bytes(os.urandom(64 * 1024) + b"end")
    archive = tmp_path / "archive"
    archive.mkdir()
    return source, archive


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_copies_the_file_completely_and_leaves_no_temp(pg):
    source, archive = pg
    assert wal.archive(str(source), source.name, str(archive)) is None
    target = archive / source.name
    assert target.read_bytes() == source.read_bytes()
    assert listing(archive) == [source.name]
    assert target.stat().st_mode & 0o777 == 0o600


def test_identical_file_already_there_is_success_and_untouched(pg):
    source, archive = pg
    wal.archive(str(source), source.name, str(archive))
    inode = (archive / source.name).stat().st_ino
    note = wal.archive(str(source), source.name, str(archive))
    assert "already archived (identical)" in note
    assert (archive / source.name).stat().st_ino == inode
    assert listing(archive) == [source.name]


@pytest.mark.parametrize("existing", [b"", b"truncated by ENOSPC", None])
def test_different_file_is_refused_and_never_overwritten(pg, existing):
    source, archive = pg
    target = archive / source.name
    content = existing if existing is not None else source.read_bytes()[:-1] + b"X"
    target.write_bytes(content)
    with pytest.raises(wal.ArchiveError) as raised:
        wal.archive(str(source), source.name, str(archive))
    message = str(raised.value)
    assert "already exists and differs" in message and "never overwritten" in message
    assert "%d bytes in the archive" % len(content) in message
    assert target.read_bytes() == content
    assert listing(archive) == [source.name]


def test_a_crash_leftover_temp_is_ignored(pg):
    source, archive = pg
    leftover = archive / wal.temp_name(source.name, 4242)
    leftover.write_bytes(b"half a segment")
    wal.archive(str(source), source.name, str(archive), pid=777)
    assert (archive / source.name).read_bytes() == source.read_bytes()
    assert leftover.read_bytes() == b"half a segment"  # pgrepl-archive-cleanup's job
    # A leftover under this very pid (pid reused after a reboot) is replaced, not an error.
    (archive / source.name).unlink()
    own = archive / wal.temp_name(source.name, 777)
    own.write_bytes(b"stale")
    wal.archive(str(source), source.name, str(archive), pid=777)
    assert not own.exists()
    assert (archive / source.name).read_bytes() == source.read_bytes()


def test_a_failed_copy_leaves_nothing_behind(pg, monkeypatch):
    source, archive = pg

    def full(src, temp):
        Path(temp).write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(wal, "copy_durably", full)
    with pytest.raises(wal.ArchiveError, match="No space left on device"):
        wal.archive(str(source), source.name, str(archive))
    assert listing(archive) == []


def test_rename_where_there_are_no_hard_links(pg, monkeypatch):
    source, archive = pg

    def no_link(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(wal.os, "link", no_link)
    wal.archive(str(source), source.name, str(archive))
    assert listing(archive) == [source.name]
    assert (archive / source.name).read_bytes() == source.read_bytes()


def test_a_file_appearing_meanwhile_is_compared_not_replaced(pg, monkeypatch):
    source, archive = pg
    real_link = os.link

    def raced(src, dst):
        Path(dst).write_bytes(b"someone else's")
        real_link(src, dst)

    monkeypatch.setattr(wal.os, "link", raced)
    with pytest.raises(wal.ArchiveError, match="differs"):
        wal.archive(str(source), source.name, str(archive))
    assert (archive / source.name).read_bytes() == b"someone else's"
    assert listing(archive) == [source.name]


@pytest.mark.parametrize("name", ["", "../x", ".hidden", "a/b"])
def test_bad_names_are_refused(pg, name):
    source, archive = pg
    with pytest.raises(wal.ArchiveError, match="not a WAL file name"):
        wal.archive(str(source), name, str(archive))


def test_main_exit_codes_and_messages(pg, capsys):
    source, archive = pg
    assert wal.main([str(source), source.name]) == 2
    assert "usage: pgrepl-archive-wal %p %f <archive dir>" in capsys.readouterr().err
    assert wal.main([str(source), source.name, str(archive / "missing")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert wal.main([str(source), source.name, str(archive)]) == 0
    assert capsys.readouterr().err == ""
    assert wal.main([str(source), source.name, str(archive)]) == 0
    assert "already archived (identical)" in capsys.readouterr().err
    (archive / source.name).write_bytes(b"other")
    assert wal.main([str(source), source.name, str(archive)]) == 1
    assert "differs" in capsys.readouterr().err


def test_runs_as_a_script(pg):
    source, archive = pg
    done = subprocess.run([sys.executable, str(FILES / "pgrepl-archive-wal"), str(source),
                           source.name, str(archive)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert (archive / source.name).read_bytes() == source.read_bytes()


def test_scripts_are_executable_python3():
    for name in ("pgrepl-archive-wal", "pgrepl-archive-cleanup"):
        path = FILES / name
        assert path.read_text().startswith("#!/usr/bin/python3\n"), name
        assert os.access(path, os.X_OK), name


# ------------------------------------------------------------------ pgrepl-archive-cleanup


@pytest.mark.parametrize(("name", "kind"), [
    ("000000010000000000000001", "segment"),
    ("0000000A00000001000000FF", "segment"),
    ("000000020000000000000005.partial", "partial"),
    ("000000010000000000000003.00000028.backup", "backup"),
    ("00000002.history", "history"),
    (".000000010000000000000004.tmp.1234", "temp"),
    (".00000002.history.tmp.99", "temp"),
    ("000000010000000000000001.tmp", "other"),
    ("00000001000000000000000a", "other"),  # PostgreSQL writes upper case only
    ("0000000100000000000000011", "other"),
    (".bashrc", "other"),
    (".something.tmp.12", "other"),
    ("backup_label", "other"),
])
def test_kind_of(name, kind):
    assert cleanup.kind_of(name) == kind


def test_wal_order_by_position_then_timeline():
    names = [segment(0x101), segment(3, 2), "%s.00000028.backup" % segment(3),
             "%s.partial" % segment(3), segment(3), segment(2, 2), segment(0xFF)]
    assert sorted(names, key=cleanup.wal_order) == [
        segment(2, 2), segment(3), "%s.partial" % segment(3),
        "%s.00000028.backup" % segment(3), segment(3, 2), segment(0xFF), segment(0x101)]


def entry(name: str, size: int = SEG, age_days: float = 0.0):
    return cleanup.Entry(name, size, NOW - age_days * DAY)


def archive_of(count: int, age_of_oldest: float, step: float = 0.1):
    """count segments, the oldest age_of_oldest days old, each next one step days younger."""
    return [entry(segment(n + 1), age_days=age_of_oldest - n * step) for n in range(count)]


def test_age_limit_deletes_only_old_ones_oldest_first():
    entries = archive_of(100, age_of_oldest=9.95)  # the first 30 are older than 7 days
    result = cleanup.plan(entries, NOW, 7, None, 10)
    assert result.delete == [segment(n + 1) for n in range(30)]
    assert set(result.reasons.values()) == {"age"}
    assert result.total_after == 70 * SEG and not result.over_limit


def test_keep_newest_beats_the_age_limit():
    entries = archive_of(20, age_of_oldest=30)  # all older than 7 days
    result = cleanup.plan(entries, NOW, 7, None, 8)
    assert result.delete == [segment(n + 1) for n in range(12)]
    assert result.protected == 8
    assert result.kept == [segment(n + 1) for n in range(12, 20)]
    assert not result.over_limit  # an idle primary's old segments are no alarm


def test_size_limit_deletes_oldest_until_below():
    entries = archive_of(50, age_of_oldest=1)
    result = cleanup.plan(entries, NOW, 7, 20 * SEG, 5)
    assert result.delete == [segment(n + 1) for n in range(30)]
    assert set(result.reasons.values()) == {"size"}
    assert result.total_after == 20 * SEG and not result.over_limit


def test_size_limit_below_the_protected_files_says_so():
    entries = [*archive_of(10, age_of_oldest=1), entry("00000002.history", 40, 5)]
    result = cleanup.plan(entries, NOW, 7, 3 * SEG, 4)
    assert result.delete == [segment(n + 1) for n in range(6)]
    assert "00000002.history" in result.kept
    assert result.total_after == 4 * SEG + 40 and result.over_limit
    line = cleanup.summary("/a", result, 7, 4, False)
    assert "STILL OVER THE SIZE LIMIT" in line


def test_no_limit_hit_deletes_nothing():
    entries = archive_of(30, age_of_oldest=2)
    result = cleanup.plan(entries, NOW, 7, 100 * SEG, 10)
    assert result.delete == [] and result.total_after == result.total_before == 30 * SEG


def test_limits_switched_off():
    entries = archive_of(30, age_of_oldest=100)
    assert cleanup.plan(entries, NOW, 0, None, 1).delete == []


def test_history_and_other_names_are_never_deleted():
    entries = [entry("00000001.history", 30, 400), entry("00000002.history", 41, 300),
               entry("backup_label.old", 10, 400), entry("README", 10, 400),
               entry(".000000010000000000000001.tmp", 10, 400),  # no pid: not ours
               *archive_of(5, age_of_oldest=400)]
    result = cleanup.plan(entries, NOW, 1, 1, 1)
    assert result.delete == [segment(n + 1) for n in range(4)]
    assert {"00000001.history", "00000002.history", "backup_label.old", "README",
            ".000000010000000000000001.tmp", segment(5)} <= set(result.kept)


def test_stale_temp_files_go_fresh_ones_stay():
    stale = ".%s.tmp.123" % segment(9)
    fresh = ".%s.tmp.124" % segment(10)
    history_temp = ".00000003.history.tmp.5"
    entries = [entry(stale, 1000, 2 / 24), entry(fresh, 1000, 0.5 / 24),
               entry(history_temp, 10, 1), *archive_of(3, age_of_oldest=0.1)]
    result = cleanup.plan(entries, NOW, 7, None, 1)
    assert result.delete == [stale, history_temp]
    assert result.reasons[stale] == "temp" and fresh in result.kept


def test_partials_count_as_segments_and_backup_labels_go_with_their_era():
    entries = [entry(segment(1), age_days=10),
               entry("%s.00000028.backup" % segment(1), 300, 10),
               entry(segment(2), age_days=9), entry("%s.partial" % segment(3), age_days=8),
               entry(segment(3, 2), age_days=8),
               entry("%s.00000060.backup" % segment(3, 2), 300, 8)]
    result = cleanup.plan(entries, NOW, 7, None, 2)
    # The newest two segments: segment(3).partial and segment(3, 2); the label after them stays.
    assert result.delete == [segment(1), "%s.00000028.backup" % segment(1), segment(2)]
    assert result.protected == 3


def test_keep_newest_must_be_positive():
    with pytest.raises(cleanup.Refused):
        cleanup.plan([], NOW, 7, None, 0)


@pytest.mark.parametrize(("percent", "max_bytes", "expected"), [
    (10, 0, 100), (0, 50, 50), (10, 50, 50), (10, 500, 100), (0, 0, None), (100, 0, 1000)])
def test_size_limit(percent, max_bytes, expected):
    assert cleanup.size_limit(percent, max_bytes, 1000) == expected


def test_human():
    assert cleanup.human(10) == "10 B"
    assert cleanup.human(1536) == "1.5 KiB"
    assert cleanup.human(SEG * 64) == "1.0 GiB"


# --- the script on a real directory


def make_archive(directory: Path, count: int, size: int = 1000) -> list[str]:
    names = []
    for n in range(count):
        path = directory / segment(n + 1)
        path.write_bytes(b"s" * size)
        when = NOW - (count - n) * 3600
        os.utime(path, (when, when))
        names.append(path.name)
    return names


def run_cleanup(*args: str, now: float = NOW) -> int:
    return cleanup.main(list(args), now=now)


def test_main_deletes_within_the_directory_only(tmp_path, capsys):
    archive = tmp_path / "archive"
    archive.mkdir()
    names = make_archive(archive, 10)
    (archive / "00000002.history").write_bytes(b"h" * 10)
    (archive / "sub").mkdir()
    (archive / "sub" / segment(1)).write_bytes(b"deep")
    outside = tmp_path / segment(2)
    outside.write_bytes(b"o" * 5000)
    old = NOW - 30 * DAY
    os.utime(outside, (old, old))
    (archive / "000000010000000000000099").symlink_to(outside)

    rc = run_cleanup("--dir", str(archive), "--max-age-days", "7", "--max-percent", "0",
                     "--max-bytes", "4000", "--keep-newest", "2")

    assert rc == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert out[0].startswith("pgrepl-archive-cleanup %s: deleted 7 files (6.8 KiB: 7 by size)"
                             % archive)
    assert "kept 4 files" in out[0] and "newest 2 WAL files protected" in out[0]
    assert listing(archive) == sorted([*names[7:], "00000002.history", "sub",
                                       "000000010000000000000099"])
    assert (archive / "sub" / segment(1)).read_bytes() == b"deep"
    assert outside.exists()


def test_main_dry_run_deletes_nothing(tmp_path, capsys):
    names = make_archive(tmp_path, 5)
    rc = run_cleanup("--dir", str(tmp_path), "--max-age-days", "0", "--max-percent", "0",
                     "--max-bytes", "1", "--keep-newest", "1", "--dry-run")
    assert rc == 0
    out = capsys.readouterr().out
    assert "would delete %s (size)" % names[0] in out
    assert "(dry run) %s: would delete 4 files" % tmp_path in out
    assert listing(tmp_path) == names


def test_main_uses_percent_of_the_filesystem(tmp_path, capsys):
    make_archive(tmp_path, 5)
    assert run_cleanup("--dir", str(tmp_path), "--max-age-days", "7", "--max-percent", "100",
                       "--keep-newest", "1") == 0
    assert "deleted 0 files" in capsys.readouterr().out
    assert len(listing(tmp_path)) == 5


def test_main_refuses_dangerous_directories(tmp_path, capsys):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "file").write_text("x")
    common = ["--max-age-days", "7", "--max-percent", "10", "--keep-newest", "1"]
    for directory, message in [("/", "root directory"), ("/tmp/..", "root directory"),
                               (str(tmp_path / "link"), "is a symlink"),
                               (str(tmp_path / "file"), "is not a directory"),
                               (str(tmp_path / "missing"), "is not a directory"),
                               ("relative/dir", "absolute path")]:
        assert run_cleanup("--dir", directory, *common) == 2, directory
        assert message in capsys.readouterr().err, directory


@pytest.mark.parametrize("args", [
    ["--max-percent", "101"], ["--keep-newest", "0"], ["--max-age-days", "-1"],
    ["--max-bytes", "-5"]])
def test_main_rejects_bad_numbers(tmp_path, args):
    base = {"--max-age-days": "7", "--max-percent": "10", "--keep-newest": "1"}
    base.update(dict(zip(args[::2], args[1::2])))
    argv = ["--dir", str(tmp_path)] + [item for pair in base.items() for item in pair]
    with pytest.raises(SystemExit) as raised:
        cleanup.main(argv)
    assert raised.value.code == 2


def test_main_reports_files_it_could_not_delete(tmp_path, capsys, monkeypatch):
    make_archive(tmp_path, 3)
    real_unlink = os.unlink

    def refuse_one(name, dir_fd=None):
        if name == segment(1):
            raise PermissionError(errno.EACCES, "Permission denied")
        real_unlink(name, dir_fd=dir_fd)

    monkeypatch.setattr(cleanup.os, "unlink", refuse_one)
    rc = run_cleanup("--dir", str(tmp_path), "--max-age-days", "0", "--max-percent", "0",
                     "--max-bytes", "1", "--keep-newest", "1")
    assert rc == 1
    captured = capsys.readouterr()
    assert "1 of them could NOT be deleted" in captured.out
    assert "could not delete %s: Permission denied" % segment(1) in captured.err
    assert listing(tmp_path) == [segment(1), segment(3)]
