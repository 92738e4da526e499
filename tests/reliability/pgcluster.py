"""A throwaway PostgreSQL cluster for tests that restart, kill or restore the database, so the
machine's shared server (other engineers' tests) is never touched.

    with TempCluster() as cluster:          # initdb in a temporary directory, a free port
        cluster.createdb("kattoo")
        url = cluster.url("kattoo")         # postgres://kattoo@127.0.0.1:PORT/kattoo
        cluster.restart()                   # pg_ctl restart -m fast
        cluster.kill9(); cluster.start()    # SIGKILL the postmaster, crash recovery on start

Durable defaults (fsync, synchronous_commit, full_page_writes on), so what a commit promised
survives ``kill9``; small memory settings, so it runs beside everything else on a shared
machine. Runs PostgreSQL as ``postgres`` when started as root (initdb refuses root)."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

PG_BIN = Path(os.environ.get("KATTOO_PG_BIN", "/usr/lib/postgresql/15/bin"))

SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "40",
    "shared_buffers": "32MB",
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "huge_pages": "off",
    "max_wal_size": "256MB",
    "log_min_messages": "warning",
}


PSQL = [str(PG_BIN / "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def available() -> bool:
    """Whether this machine can run a cluster of its own (the PostgreSQL server binaries)."""
    return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists()


class TempCluster:
    def __init__(self, port: int | None = None, *, user: str = "kattoo") -> None:
        self.port = port or free_port()
        self.user = user
        self.root = Path(tempfile.mkdtemp(prefix="kattoo-pg-"))
        self.datadir = self.root / "data"
        self.log = self.root / "postgres.log"
        self.as_root = os.geteuid() == 0

    # -- the cluster's life -----------------------------------------------------------------
    def start(self, timeout: float = 60) -> TempCluster:
        if not (self.datadir / "PG_VERSION").exists():
            self._init()
        deadline = time.monotonic() + timeout
        while True:  # after kill9, orphaned backends may hold the old shared memory briefly
            wait = str(int(timeout))
            done = self._ctl("start", "-w", "-t", wait, "-l", str(self.log), check=False)
            if done.returncode == 0:
                return self
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start: {done.stderr}\n{self.log_tail()}")
            time.sleep(0.3)

    def stop(self) -> None:
        if self.postmaster_pid() is not None:
            self._ctl("stop", "-m", "fast", "-w", check=False)

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast", "-w", "-l", str(self.log))

    def kill9(self) -> None:
        """SIGKILL the postmaster; its backends exit when they notice. ``start`` recovers."""
        pid = self.postmaster_pid()
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self._alive(pid):
            time.sleep(0.05)

    def destroy(self) -> None:
        self.stop()
        self.kill9()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> TempCluster:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.destroy()

    # -- talking to it ----------------------------------------------------------------------
    def url(self, dbname: str = "postgres") -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        where = ["-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d", dbname]
        done = subprocess.run(  # noqa: S603 (our own binary and arguments)
            [*PSQL, *where, "-c", sql],
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout.strip()

    def createdb(self, name: str) -> str:
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.datadir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    # -- helpers ----------------------------------------------------------------------------
    def _as_owner(self, *args: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *args] if self.as_root else list(args)

    def _ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        options = f"-p {self.port} -k {self.root}"
        command = [str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-o", options, *args]
        return subprocess.run(  # noqa: S603 (our own binary and arguments)
            self._as_owner(*command), check=check, capture_output=True, text=True
        )

    def _init(self) -> None:
        if self.as_root:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            for parent in self.root.parents:  # postgres must be able to reach the directory
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    os.chmod(parent, mode | 0o001)
        subprocess.run(  # noqa: S603 (our own binary and arguments)
            self._as_owner(
                str(PG_BIN / "initdb"),
                "-D",
                str(self.datadir),
                "-U",
                self.user,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-instructions",
            ),
            check=True,
            capture_output=True,
        )
        conf = "\n".join(f"{key} = {value}" for key, value in SETTINGS.items())
        with (self.datadir / "postgresql.auto.conf").open("a") as handle:
            handle.write(f"# tests/reliability/pgcluster.py\n{conf}\n")

    @staticmethod
    def _alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True
