"""Real PostgreSQL clusters for the module integration tests, from the host's binaries.

A primary is initdb'd into a temp dir and started on a free port (TCP on 127.0.0.1 and a
private socket dir); a standby is a real ``pg_basebackup -R -S`` clone that streams from it.
PostgreSQL refuses to run as root, so when the tests run as root the server processes run
as the ``postgres`` user that the Debian package creates.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import random
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2

SUPERUSER_PASSWORD = "it-super-Secret1"


def find_bindir() -> Path:
    """PG_BINDIR, else the newest /usr/lib/postgresql/*/bin that has initdb."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name),
    )
    if not candidates:
        raise RuntimeError("no PostgreSQL server binaries: apt-get install postgresql")
    return Path(candidates[-1]).parent


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A free port on 127.0.0.1 below the kernel's ephemeral range: no outgoing connection
    (pg_basebackup's, or the other lane's SSH and podman traffic in `make test`) can take it
    between this check and the server's start, as one the kernel handed out (bind to 0) could."""
    low = min(_ephemeral_low(), 32768)
    for _attempt in range(200):
        port = random.randrange(20000, low) if low > 21000 else 0
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free local port")


def _run_as() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _chown_to_server_user(path: Path) -> None:
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(path, pw.pw_uid, pw.pw_gid)


@dataclass
class Node:
    """One running server."""

    name: str
    datadir: Path
    sockdir: Path
    port: int
    bindir: Path
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.datadir.parent / (self.name + ".log")

    def bin(self, tool: str) -> str:
        return str(self.bindir / tool)

    def run(self, *args: str, env: dict | None = None, check: bool = True):
        full_env = dict(os.environ, PGPASSWORD=SUPERUSER_PASSWORD, **(env or {}))
        return subprocess.run(
            _run_as() + list(args), check=check, capture_output=True, text=True, env=full_env
        )

    def start(self) -> None:
        opts = "-p %d -k %s -c listen_addresses=127.0.0.1" % (self.port, self.sockdir)
        self.run(self.bin("pg_ctl"), "-D", str(self.datadir), "-l", str(self.log),
                 "-o", opts, "-w", "-t", "120", "start")

    def stop(self, mode: str = "fast") -> None:
        self.run(self.bin("pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "stop",
                 check=False)

    def connect(self, dbname: str = "postgres", **kwargs):
        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres",
                                password=SUPERUSER_PASSWORD, dbname=dbname, **kwargs)
        conn.autocommit = True
        return conn

    def sql(self, query: str, args=None, dbname: str = "postgres") -> list[tuple]:
        """Run one statement; rows for a query, [] otherwise."""
        with contextlib.closing(self.connect(dbname)) as conn, conn.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchall() if cur.description else []

    def scalar(self, query: str, args=None, dbname: str = "postgres"):
        rows = self.sql(query, args, dbname)
        return rows[0][0] if rows else None

    @property
    def conn_args(self) -> dict:
        """Module options that reach this node over TCP with the superuser."""
        return {"login_host": "127.0.0.1", "login_port": self.port, "login_user": "postgres",
                "login_password": SUPERUSER_PASSWORD}


class Lab:
    """A primary plus one streaming standby (slot ``standby1``) under one temp dir."""

    def __init__(self, base: Path | None = None, extra_conf: str = ""):
        self.bindir = find_bindir()
        self.extra_conf = extra_conf
        self.base = Path(base or tempfile.mkdtemp(prefix="pgrepl-it-"))
        self.base.chmod(0o755)
        self.sockdir = self.base / "sock"
        self.sockdir.mkdir()
        _chown_to_server_user(self.base)
        _chown_to_server_user(self.sockdir)
        self.primary = Node("primary", self.base / "primary", self.sockdir, free_port(),
                            self.bindir)
        self.standby = Node("standby1", self.base / "standby1", self.sockdir, free_port(),
                            self.bindir)

    def _init_primary(self) -> None:
        pwfile = self.base / "pwfile"
        pwfile.write_text(SUPERUSER_PASSWORD + "\n")
        _chown_to_server_user(pwfile)
        self.primary.run(self.primary.bin("initdb"), "-D", str(self.primary.datadir),
                         "-U", "postgres", "--auth=scram-sha-256", "--pwfile", str(pwfile),
                         "--no-sync")
        pwfile.unlink()
        with open(self.primary.datadir / "postgresql.conf", "a") as conf:
            # logical: lets the tests create logical slots too. Small WAL settings keep
            # the test clusters light.
            conf.write("wal_level = logical\nmax_wal_senders = 10\n"
                       "max_replication_slots = 10\nfsync = off\nshared_buffers = 16MB\n"
                       "max_wal_size = 64MB\n" + self.extra_conf)

    def _clone_standby(self) -> None:
        self.primary.sql("SELECT pg_create_physical_replication_slot('standby1', true)")
        self.standby.run(self.bindir.joinpath("pg_basebackup").as_posix(),
                         "-h", "127.0.0.1", "-p", str(self.primary.port), "-U", "postgres",
                         "-D", str(self.standby.datadir), "-R", "-S", "standby1",
                         "-X", "stream", "-c", "fast", "--no-sync")
        with open(self.standby.datadir / "postgresql.auto.conf", "a") as conf:
            # cluster_name becomes the walreceiver's application_name on the primary.
            conf.write("cluster_name = 'standby1'\n")

    def start(self, standby: bool = True) -> Lab:
        """Start the primary and, unless ``standby`` is false, its streaming standby."""
        self._init_primary()
        self.primary.start()
        if standby:
            self._clone_standby()
            self.standby.start()
            self.wait_streaming("standby1")
        return self

    def wait_streaming(self, application_name: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.primary.scalar(
                "SELECT state FROM pg_stat_replication WHERE application_name = %s",
                (application_name,))
            if state == "streaming":
                return
            time.sleep(0.2)
        raise RuntimeError("standby %s did not start streaming" % application_name)

    @contextlib.contextmanager
    def wal_consumer(self, slot: str):
        """Keep ``slot`` active with a real pg_receivewal for the duration of the block."""
        target = self.base / ("receivewal-" + slot)
        target.mkdir(exist_ok=True)
        _chown_to_server_user(target)
        env = dict(os.environ, PGPASSWORD=SUPERUSER_PASSWORD)
        proc = subprocess.Popen(
            _run_as() + [self.primary.bin("pg_receivewal"), "-h", "127.0.0.1",
                         "-p", str(self.primary.port), "-U", "postgres", "-D", str(target),
                         "--slot", slot, "--no-loop", "--no-sync"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while not self.primary.scalar(
                    "SELECT active FROM pg_replication_slots WHERE slot_name = %s", (slot,)):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("pg_receivewal did not attach: %s" % proc.stderr.read())
                time.sleep(0.1)
            yield proc
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(10)

    def stop(self) -> None:
        self.standby.stop("immediate")
        self.primary.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)
