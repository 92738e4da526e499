"""A throwaway PostgreSQL cluster for tests that restart, kill or restore the database, so the
machine's shared server (other engineers' tests) is never touched.

    with TempCluster() as cluster:          # initdb in a temporary directory, a free port
        url = cluster.createdb("kattoo")    # postgres://kattoo@127.0.0.1:PORT/kattoo
        cluster.restart()                   # a fast shutdown and a start
        cluster.kill9(); cluster.start()    # SIGKILL the postmaster, crash recovery on start

The benchmark's cluster (``bench/pgcluster.py``: durable settings, the postmaster started
directly so ``kill9`` hits it, run as ``postgres`` when started as root) in a temporary
directory, with small memory settings so it runs beside everything else on a shared machine.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from bench.pgcluster import PgCluster, available, free_port

__all__ = ["TempCluster", "available", "free_port"]

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


class TempCluster(PgCluster):
    def __init__(self, port: int | None = None, *, user: str = "kattoo") -> None:
        self.root = Path(tempfile.mkdtemp(prefix="kattoo-pg-"))
        super().__init__(self.root / "data", port or free_port(), user=user, settings=SETTINGS)

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
