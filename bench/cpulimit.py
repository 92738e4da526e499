"""The benchmark's database on a share of the machine: a CPU cgroup with a quota (issue 15).

``make bench`` runs the load generator, the app and PostgreSQL on the same cores, so the app's
Python and its database take CPU from each other and from pgbench's ceiling alike. In
production they do not: the database has a machine of its own and the app's processes scale out
on others (docs/deployment.md), so the opening is bound by what the database can do. To measure
that shape on one machine the cluster's processes go into a cgroup whose quota is a fraction of
a core (``cpus``), the app and the load generator keep the rest: the database is the bound, as
on a dedicated machine, and the app's accepted registrations per second ÷ the minimal
statement's tps under the same quota says how close a registration comes to what the database
needs (ADR 0059).

Both cgroup versions: v1's ``cpu`` controller (``/sys/fs/cgroup/cpu/<name>``,
``cpu.cfs_quota_us`` over ``cpu.cfs_period_us``) and v2's unified tree (``/sys/fs/cgroup/<name>``,
``cpu.max``, the ``cpu`` controller enabled in the root's ``cgroup.subtree_control``). The
postmaster forks every backend, and a child starts in its parent's cgroup, so moving the
cluster's processes once confines every connection opened after. On the way out they go back
to the root group and the group is removed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")
PERIOD_US = 100_000  # the kernel's default period; a 10 ms one throttled pgbench into chaos
NAME = "kattoo-bench-db"


class CpuLimit:
    """A cgroup with a CPU quota; ``stat()`` counts its throttled periods."""

    def __init__(self, path: Path, root: Path, version: int, cpus: float) -> None:
        self.path, self.root, self.version, self.cpus = path, root, version, cpus

    def adopt(self, pids: Iterable[int]) -> None:
        """Move these processes into the group. A process that has ended is skipped; any other
        refusal is raised, so a run never reports a quota its database was not under."""
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                (self.path / "cgroup.procs").write_text(f"{pid}\n")

    def members(self) -> list[int]:
        try:
            text = (self.path / "cgroup.procs").read_text()
        except FileNotFoundError:  # the group is gone: nobody is in it
            return []
        return [int(x) for x in text.split()]

    def stat(self) -> dict[str, int]:
        """``periods``, ``throttled`` (periods the group ran out of its quota) and
        ``throttled_ms``, from the group's ``cpu.stat``."""
        raw = dict(
            line.split() for line in (self.path / "cpu.stat").read_text().splitlines() if line
        )
        throttled_ms = (
            int(raw.get("throttled_time", 0)) // 1_000_000
            if self.version == 1
            else int(raw.get("throttled_usec", 0)) // 1_000
        )
        return {
            "periods": int(raw.get("nr_periods", 0)),
            "throttled": int(raw.get("nr_throttled", 0)),
            "throttled_ms": throttled_ms,
        }

    def release(self) -> None:
        """Every member back to the root group, then the group removed."""
        for _ in range(20):
            pids = self.members()
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(OSError):  # ended, or already gone: cleanup goes on
                    (self.root / "cgroup.procs").write_text(f"{pid}\n")
        with contextlib.suppress(OSError):
            self.path.rmdir()


def throttled_share(before: dict[str, int], after: dict[str, int]) -> float | None:
    """The share of the quota's periods between two ``stat()`` readings in which the group
    used all of its quota: near 1 when the database was the bound."""
    periods = after["periods"] - before["periods"]
    return round((after["throttled"] - before["throttled"]) / periods, 3) if periods else None


def unavailable(root: Path = CGROUP) -> str | None:
    """Why a CPU quota cannot be set here, or None."""
    if os.geteuid() != 0 and root == CGROUP:
        return "not root: a CPU cgroup needs root"
    v1 = root / "cpu"
    if (v1 / "cpu.cfs_quota_us").exists():
        return None if os.access(v1, os.W_OK) else f"{v1} is not writable"
    controllers = root / "cgroup.controllers"
    if controllers.exists():
        if "cpu" not in controllers.read_text().split():
            return "the cgroup v2 tree has no cpu controller"
        return None if os.access(root, os.W_OK) else f"{root} is not writable"
    return "no CPU cgroup controller mounted"


@contextlib.contextmanager
def limited(
    cpus: float, pids: Callable[[], Iterable[int]], *, root: Path = CGROUP, name: str = NAME
) -> Iterator[CpuLimit]:
    """``pids()``'s processes (and every process they fork after) held to ``cpus`` cores
    until the block ends."""
    if not cpus > 0:
        raise ValueError("cpus must be positive")
    quota = max(int(cpus * PERIOD_US), 1_000)
    if (root / "cpu" / "cpu.cfs_quota_us").exists():
        limit = CpuLimit(root / "cpu" / name, root / "cpu", 1, cpus)
        settings = {"cpu.cfs_period_us": f"{PERIOD_US}\n", "cpu.cfs_quota_us": f"{quota}\n"}
    else:
        subtree = root / "cgroup.subtree_control"
        if "cpu" not in subtree.read_text().split():
            subtree.write_text("+cpu\n")
        limit = CpuLimit(root / name, root, 2, cpus)
        settings = {"cpu.max": f"{quota} {PERIOD_US}\n"}
    limit.path.mkdir(exist_ok=True)
    try:
        for file, value in settings.items():
            (limit.path / file).write_text(value)
        limit.adopt(pids())
        yield limit
    finally:
        limit.release()
