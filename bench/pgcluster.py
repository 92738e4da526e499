"""A PostgreSQL cluster of the benchmark's own: initdb into ``var/bench/pg``, a free port, the
unix socket in the data directory. The shared development server is never touched — the
durability run SIGKILLs this postmaster.

Durable settings (``fsync``, ``synchronous_commit``, ``full_page_writes`` on): a registration
acknowledged with 201 is on disk, and the kill -9 run proves it.
"""

# ruff: noqa: S603 - fixed PostgreSQL binaries with arguments built here
from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Self

PG_BIN = Path(os.environ.get("KATTOO_PG_BIN", "/usr/lib/postgresql/15/bin"))
ROOT = Path(__file__).resolve().parent.parent

DEPLOYED = ROOT / "deploy" / "postgres" / "kattoo.conf"
NR_HUGEPAGES = Path("/proc/sys/vm/nr_hugepages")


# The app's database sessions, for pgbench's too: one generic plan per prepared statement and
# connection (config/settings/production.py's ``plan_cache_mode``), built on the indexes (the
# app plans its hot statements with sequential scans off while it prepares them,
# kattoo/enrollment/fastpath.py ``_index_plan``; here for the whole session, and every
# statement a benchmark sends is a lookup by key). Under the default ``auto`` every pgbench
# connection planned each statement afresh for its first five executions, a planning of the
# read locking every index of its tables (57 relation locks): at 256 clients, 1,280 plannings of a
# 1.3 ms statement in a 15 s run, work the app's long-lived pool never does (session 17:
# +10 % for the app's SQL at 256 clients, four rounds alternating).
APP_SESSION = "-c plan_cache_mode=force_generic_plan -c enable_seqscan=off"


def deployed_settings(path: Path = DEPLOYED) -> dict[str, str]:
    """The settings a deployment installs (``deploy/postgres/kattoo.conf``, ADR 0042), as
    ``name: value`` in the file's order: the benchmark measures what is deployed."""
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, value = line.partition("=")
            found[name.strip()] = value.strip()
    return found


# The deployment's settings, then only what the benchmark itself needs: its own address, room
# for the 1,024-connection overload run, quieter logs, and — its two cores shared with the
# load generator and the app — no parallel query workers and no JIT (the hot statements
# never reach JIT's cost threshold). Autovacuum looks every 10 s, so a run's tables are
# analyzed within the run as a long opening's would be (ADR 0037); against the default
# minute a deployment keeps, bench.checkpoints measured no difference (ADR 0042). It keeps
# 2 GB of WAL past each checkpoint, so that the cost table reads a run's WAL bytes and full-page
# images from the WAL itself (bench/cost.py's ``wal_of``).
SETTINGS = deployed_settings() | {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "600",
    "commit_delay": "0",
    "max_worker_processes": "4",
    "max_parallel_workers_per_gather": "0",
    "jit": "off",
    "log_min_messages": "warning",
    "log_checkpoints": "off",
    "autovacuum_naptime": "10s",
    "wal_keep_size": "2GB",
}
# The file loads pg_stat_statements: the statements per registration of the cost table
# (bench/cost.py, issue 15), its bookkeeping the same for every path measured. Where the
# contrib module is not installed the cluster runs without it (the column then falls back).
if not (PG_BIN.parent / "lib" / "pg_stat_statements.so").exists():
    for name in ("shared_preload_libraries", "pg_stat_statements.max", "pg_stat_statements.track"):
        SETTINGS.pop(name, None)


def free_port(preferred: int | None = None) -> int:
    """``preferred`` or the next free one after it; without one, any free port."""
    if preferred is None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])
    for port in range(preferred, preferred + 100):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def available() -> bool:
    """Whether this machine can run a cluster of its own (the PostgreSQL server binaries)."""
    return (PG_BIN / "initdb").exists() and (PG_BIN / "postgres").exists()


class PgCluster:
    def __init__(
        self,
        datadir: Path | str | None = None,
        port: int = 55432,
        *,
        user: str = "bench",
        settings: dict[str, str] | None = None,
        huge_pages: bool = False,
    ) -> None:
        self.datadir = Path(datadir or ROOT / "var" / "bench" / "pg").resolve()
        self.port = port
        self.user = user
        self.settings = SETTINGS if settings is None else settings
        self.as_root = os.geteuid() == 0
        self.log = self.datadir.parent / f"{self.datadir.name}.log"
        self.started_once = False
        self.huge_pages = huge_pages
        self._hugepages_before: int | None = None

    # -- helpers -----------------------------------------------------------------------------
    def _cmd(self, *args: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *args] if self.as_root else list(args)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self._cmd(*args), check=check, capture_output=True, text=True)

    @property
    def pid_file(self) -> Path:
        return self.datadir / "postmaster.pid"

    def postmaster_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def is_running(self) -> bool:
        pid = self.postmaster_pid()
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True

    # -- lifecycle ---------------------------------------------------------------------------
    def init(self) -> None:
        if (self.datadir / "PG_VERSION").exists():
            return
        self.datadir.parent.mkdir(parents=True, exist_ok=True)
        if self.datadir.exists():
            shutil.rmtree(self.datadir)
        self.datadir.mkdir(mode=0o700)
        if self.as_root:
            pw = pwd.getpwnam("postgres")
            os.chown(self.datadir, pw.pw_uid, pw.pw_gid)
            # The postgres user must be able to reach the data directory.
            for parent in self.datadir.parents:
                if parent == Path("/"):
                    break
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    os.chmod(parent, mode | 0o001)
        self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.datadir),
            "-U",
            self.user,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-instructions",
        )
        self.write_settings()

    def write_settings(self) -> None:
        """The settings into ``postgresql.auto.conf``; at every start of a stopped cluster too,
        so a cluster made by an older version of this file gets today's settings."""
        conf = "\n".join(f"{k} = {v}" for k, v in self.settings.items())
        (self.datadir / "postgresql.auto.conf").write_text(
            f"# written by {type(self).__module__}\n{conf}\n"
        )
        if self.as_root:
            pw = pwd.getpwnam("postgres")
            os.chown(self.datadir / "postgresql.auto.conf", pw.pw_uid, pw.pw_gid)

    def start(self, timeout: float = 60) -> Self:
        self.init()
        if self.is_running():
            # Left running (--keep): its port is the fourth line of postmaster.pid.
            with contextlib.suppress(OSError, ValueError, IndexError):
                self.port = int(self.pid_file.read_text().splitlines()[3])
            self.started_once = True
            return self
        self.write_settings()
        if not self.started_once:
            # A restart keeps the port: the app's DATABASE_URL names it.
            self.port = free_port(self.port)
            self.started_once = True
        self.log.touch()
        if self.as_root:
            pw = pwd.getpwnam("postgres")
            os.chown(self.log, pw.pw_uid, pw.pw_gid)
        if self.huge_pages:
            self.reserve_huge_pages()
        # Not pg_ctl -w: postgres itself in the background, so kill9() hits the real postmaster.
        subprocess.Popen(
            self._cmd(
                str(PG_BIN / "postgres"),
                "-D",
                str(self.datadir),
                "-p",
                str(self.port),
                "-k",
                str(self.datadir),
            ),
            stdout=open(self.log, "ab"),  # noqa: SIM115 - owned by the child
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = subprocess.run(
                [str(PG_BIN / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
                check=False,
            )
            if ready.returncode == 0:
                return self
            time.sleep(0.2)
        raise RuntimeError(f"PostgreSQL did not start; see {self.log}:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.is_running():
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop")
        self.release_huge_pages()

    # -- huge pages (ADR 0061) -----------------------------------------------------------------
    # A backend maps the shared buffers page by page: the first time it touches each 4 kB page
    # of them the kernel takes a minor fault. The app's statements touch many more buffers a
    # registration than the minimal statement, and a profile of the database held to half a
    # core put 7 % of its CPU in those faults. A database machine is set up with huge pages
    # (docs/deployment.md step 4), and ``huge_pages = try`` (deploy/postgres/kattoo.conf) takes
    # them when the kernel has them reserved. The benchmark reserves them for its own cluster
    # (as root, where ``vm.nr_hugepages`` can be written) and gives the machine back its
    # previous reservation when the cluster stops.
    def huge_pages_needed(self) -> int | None:
        """The 2 MB pages this cluster's shared memory takes (PostgreSQL computes it for a
        stopped cluster: ``postgres -C shared_memory_size_in_huge_pages``)."""
        out = self._run(
            str(PG_BIN / "postgres"),
            "-D",
            str(self.datadir),
            "-C",
            "shared_memory_size_in_huge_pages",
            check=False,
        )
        try:
            return int(out.stdout.strip())
        except ValueError:
            return None

    def reserve_huge_pages(self, path: Path = NR_HUGEPAGES) -> None:
        """Raise ``vm.nr_hugepages`` to what the cluster needs, when this process may. Where
        it may not, the cluster starts on ordinary pages (``huge_pages = try``)."""
        try:
            current = int(path.read_text())
        except (OSError, ValueError):
            return
        need = self.huge_pages_needed()
        if need is None or current >= need:
            return
        try:
            path.write_text(f"{need}\n")
        except OSError:
            return
        if self._hugepages_before is None:
            self._hugepages_before = current

    def release_huge_pages(self, path: Path = NR_HUGEPAGES) -> None:
        """The machine's reservation as it was before ``reserve_huge_pages``."""
        if self._hugepages_before is None:
            return
        with contextlib.suppress(OSError):
            path.write_text(f"{self._hugepages_before}\n")
        self._hugepages_before = None

    def on_huge_pages(self) -> bool:
        """Whether the running postmaster's shared memory lies on huge pages (PostgreSQL 15
        does not say: its mapping does, ``/anon_hugepage`` in the postmaster's maps)."""
        pid = self.postmaster_pid()
        if pid is None:
            return False
        try:
            return "anon_hugepage" in Path(f"/proc/{pid}/maps").read_text()
        except OSError:
            return False

    def kill9(self) -> int | None:
        """SIGKILL the postmaster (its backends notice and exit); the next start recovers."""
        pid = self.postmaster_pid()
        if pid is None:
            return None
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        # Backends die when they notice the postmaster is gone; wait for the lock to clear.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self._backends_alive():
            time.sleep(0.1)
        return pid

    def _backends_alive(self) -> bool:
        """Any process whose cwd is the data directory (postgres children run there)."""
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                if os.readlink(proc / "cwd") == str(self.datadir):
                    return True
            except OSError:
                continue
        return False

    def restart(self) -> None:
        self.stop()
        self.start()

    def pids(self) -> list[int]:
        """The postmaster and its children (for the CPU split)."""
        out = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                if os.readlink(proc / "cwd") == str(self.datadir):
                    out.append(int(proc.name))
            except OSError:
                continue
        return out

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    # -- connections -------------------------------------------------------------------------
    def url(self, dbname: str = "postgres") -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def pgbench_command(
        self, script: Path, *, clients: int, seconds: int, dbname: str, mode: str = "prepared"
    ) -> list[str]:
        """pgbench running ``script`` against this cluster: ``clients`` connections on two
        threads for ``seconds``, no vacuum, its sessions set as the app's are
        (``APP_SESSION``) — the benchmarks' one way to call it."""
        binary = str(PG_BIN / "pgbench") if (PG_BIN / "pgbench").exists() else "pgbench"
        return [
            "env", f"PGOPTIONS={APP_SESSION}", binary, "-n", "-M", mode, "-c", str(clients), "-j", "2", "-T", str(seconds),
            "-f", str(script), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, dbname,
        ]  # fmt: skip

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        out = subprocess.run(
            [
                str(PG_BIN / "psql"),
                "-X",
                "-q",
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                dbname,
                "-c",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    def createdb(self, name: str) -> str:
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)
