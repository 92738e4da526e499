"""bench/pgcluster.py's huge pages (ADR 0061): the benchmark's cluster reserves the 2 MB pages
its shared memory needs when it may, and gives the machine its own reservation back when it
stops; where it may not, nothing changes and the cluster starts on ordinary pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.pgcluster import PgCluster

from ..reliability.pgcluster import TempCluster, available


def _cluster(tmp_path: Path, need: int | None) -> PgCluster:
    cluster = PgCluster(tmp_path / "data", port=1, huge_pages=True)
    cluster.huge_pages_needed = lambda: need  # type: ignore[method-assign]
    return cluster


def test_the_cluster_reserves_what_it_needs_and_gives_the_machine_its_own_back(
    tmp_path: Path,
) -> None:
    nr = tmp_path / "nr_hugepages"
    nr.write_text("0\n")
    cluster = _cluster(tmp_path, 600)
    cluster.reserve_huge_pages(nr)
    assert nr.read_text() == "600\n"
    cluster.reserve_huge_pages(nr)  # a restart (the kill -9 run) keeps the first "before"
    cluster.release_huge_pages(nr)
    assert nr.read_text() == "0\n"
    cluster.release_huge_pages(nr)
    assert nr.read_text() == "0\n"


def test_a_machine_that_has_enough_reserved_keeps_its_reservation(tmp_path: Path) -> None:
    nr = tmp_path / "nr_hugepages"
    nr.write_text("1000\n")
    cluster = _cluster(tmp_path, 600)
    cluster.reserve_huge_pages(nr)
    cluster.release_huge_pages(nr)
    assert nr.read_text() == "1000\n"


def test_where_the_reservation_cannot_be_read_or_computed_nothing_changes(tmp_path: Path) -> None:
    _cluster(tmp_path, 600).reserve_huge_pages(tmp_path / "no" / "nr_hugepages")
    nr = tmp_path / "nr_hugepages"
    nr.write_text("0\n")
    cluster = _cluster(tmp_path, None)
    cluster.reserve_huge_pages(nr)
    cluster.release_huge_pages(nr)
    assert nr.read_text() == "0\n"
    assert not (tmp_path / "no").exists()


@pytest.mark.skipif(not available(), reason="needs the PostgreSQL server binaries")
def test_postgresql_says_how_many_pages_a_stopped_cluster_needs() -> None:
    """The count comes from PostgreSQL itself (``-C shared_memory_size_in_huge_pages``): the
    test cluster's 32 MB of shared buffers and the rest of its shared memory in 2 MB pages."""
    cluster = TempCluster()
    try:
        cluster.init()
        need = cluster.huge_pages_needed()
        assert need is not None and 16 < need < 64
        assert not cluster.on_huge_pages()  # not running: no postmaster to map them
    finally:
        cluster.destroy()
