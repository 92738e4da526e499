"""Requests that arrive while a batch runs go together as the next one (core/combining.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import pytest

from kattoo.core.combining import Combiner


def _until(condition: object, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def held_first(
    release: threading.Event, seen: list[list[int]], answer: Callable[[int], int] = int
) -> Callable[[Sequence[int]], list[int]]:
    """A ``run`` that records each batch in ``seen``, holds the first until ``release``, and
    answers ``answer(item)`` for each item."""

    def run(items: Sequence[int]) -> list[int]:
        if not seen:
            release.wait(10)
        seen.append(list(items))
        return [answer(i) for i in items]

    return run


def behind_a_held_first(
    combiner: Combiner[int, int],
    call: Callable[[int], object],
    release: threading.Event,
    others: Sequence[int],
) -> list[threading.Thread]:
    """``call(0)`` in a thread, its batch held (``run`` waits for ``release``); then
    ``call(i)`` for each of ``others`` in a thread of its own, each queued before the next
    starts (arrival order is queue order); then the first batch released and every thread
    joined."""
    threads = [threading.Thread(target=call, args=(0,))]
    threads[0].start()
    _until(lambda: combiner._running)
    for n, i in enumerate(others, 1):
        threads.append(threading.Thread(target=call, args=(i,)))
        threads[-1].start()
        _until(lambda n=n: len(combiner._queue) == n)
    release.set()
    for thread in threads:
        thread.join(10)
    return threads


def test_a_caller_alone_runs_its_item_alone() -> None:
    seen: list[list[int]] = []

    def run(items: Sequence[int]) -> list[int]:
        seen.append(list(items))
        return [i * 10 for i in items]

    sizes: list[int] = []
    combiner = Combiner(run, limit=8, observe=sizes.append)
    assert [combiner(1), combiner(2)] == [10, 20]
    assert seen == [[1], [2]]
    assert sizes == [1, 1]  # what the metrics are told


def test_callers_that_arrive_while_a_batch_runs_go_together_each_with_its_own_result() -> None:
    """The first caller's batch is held until four more callers wait: they run as the next
    batch, in the order they arrived, and each thread gets its own item's result."""
    release = threading.Event()
    seen: list[list[int]] = []
    combiner = Combiner(held_first(release, seen, lambda i: i * 10), limit=8)
    results: dict[int, int] = {}

    def caller(i: int) -> None:
        results[i] = combiner(i)

    behind_a_held_first(combiner, caller, release, range(1, 5))
    assert seen == [[0], [1, 2, 3, 4]]
    assert results == {i: i * 10 for i in range(5)}
    assert not combiner._running and not combiner._queue


def test_a_batch_holds_at_most_limit_items_and_the_rest_follow() -> None:
    release = threading.Event()
    seen: list[list[int]] = []
    combiner = Combiner(held_first(release, seen), limit=2)
    behind_a_held_first(combiner, combiner, release, range(1, 6))
    assert seen == [[0], [1, 2], [3, 4], [5]]


def test_a_batch_that_fails_raises_in_every_callers_thread() -> None:
    release = threading.Event()
    calls: list[int] = []

    def run(items: Sequence[int]) -> list[int]:
        calls.append(len(items))
        if len(calls) == 1:
            release.wait(10)
            return [0]
        raise RuntimeError("the database went away")

    combiner = Combiner(run, limit=8)
    errors: list[str] = []

    def caller(i: int) -> None:
        try:
            combiner(i)
        except RuntimeError as exc:
            errors.append(str(exc))

    behind_a_held_first(combiner, caller, release, (1, 2, 3))
    assert calls == [1, 3]
    assert errors == ["the database went away"] * 3
    # And the next caller runs as ever.
    with pytest.raises(RuntimeError):
        combiner(9)
    assert not combiner._running


def test_an_observer_that_fails_fails_no_caller(caplog: pytest.LogCaptureFixture) -> None:
    """The metric is told after every caller of the batch is woken, and its failure is logged,
    not raised: the batch's work is done (a registration committed) whatever a metric does."""
    release = threading.Event()

    def run(items: Sequence[int]) -> list[int]:
        if 0 in items:
            release.wait(10)
        return list(items)

    def observe(size: int) -> None:
        if size > 1:
            raise RuntimeError("the metrics' file is gone")

    combiner = Combiner(run, limit=8, observe=observe)
    results: dict[int, int] = {}

    def caller(i: int) -> None:
        results[i] = combiner(i)

    threads = behind_a_held_first(combiner, caller, release, (1, 2))
    assert not any(thread.is_alive() for thread in threads)
    assert results == {0: 0, 1: 1, 2: 2}
    assert "a batch's observer failed" in caplog.text
