"""Requests that arrive while one batch runs go together as the next batch (issue 15, ADR 0048).

At the opening minute every thread of a process sends the same two statements for its own
request. Part of what each statement costs the database is paid per statement, whatever its
rows (the round trip, the bind, the executor's start, the relation locks, the snapshot, the
commit). ``Combiner`` lets concurrent callers share one statement without waiting for a
timer: the first caller runs its item alone; callers that arrive while a batch runs queue
up, and when it ends one of them runs everything queued, in the order it arrived, as the
next batch. Under light load every batch is one item; under the opening's load the batches
grow with the queue, and nothing waits longer than the batch before it.

A batch runs in the thread of one of its callers (on that caller's database connection);
each caller gets its own result back in its own thread, or the batch's exception raised
there.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

logger = logging.getLogger(__name__)


class _Waiting(Generic[T, R]):
    """One caller's item and, once woken, its result. The wake-up is a bare lock, taken at
    birth and released once, by whoever wakes the caller: ``threading.Event`` is a Condition
    written in Python, a lock's acquire and release are C — ~10 µs less a call on a
    microbenchmark of eight threads (docs/performance.md)."""

    __slots__ = ("_woken", "error", "item", "lead", "result")

    def __init__(self, item: T) -> None:
        self.item = item
        self._woken = threading.Lock()
        self._woken.acquire()
        self.lead = False  # woken to run the next batch, not with a result
        self.result: R | None = None
        self.error: BaseException | None = None

    def wait(self) -> None:
        self._woken.acquire()

    def wake(self) -> None:
        """Exactly once for a caller that waits (its result, or its turn to lead); once for
        a leader, whose batch's end releases it unobserved."""
        self._woken.release()


class Combiner(Generic[T, R]):
    """``run(items)`` returns one result per item, in order; ``combiner(item)`` is its result
    for one item, batched with whatever other threads handed in meanwhile. ``limit``: the
    most items in one batch; ``observe``: told each batch's size once it ran (a metric)."""

    def __init__(
        self,
        run: Callable[[Sequence[T]], Sequence[R]],
        *,
        limit: int,
        observe: Callable[[int], None] | None = None,
    ) -> None:
        self.run = run
        self.limit = limit
        self.observe = observe  # told each batch's size once its callers are woken
        self._lock = threading.Lock()
        self._queue: list[_Waiting[T, R]] = []
        self._running = False

    def __call__(self, item: T) -> R:
        me: _Waiting[T, R] = _Waiting(item)
        with self._lock:
            self._queue.append(me)
            lead = not self._running
            self._running = True
        if not lead:
            me.wait()
            if not me.lead:
                return self._outcome(me)
        self._run_next()
        return self._outcome(me)

    def _run_next(self) -> None:
        """Run the queue's first ``limit`` items (this caller's among them), hand each its
        result, then wake the next queued caller to run the rest — or mark none running."""
        with self._lock:
            batch, self._queue = self._queue[: self.limit], self._queue[self.limit :]
        try:
            results = self.run([w.item for w in batch])
            if len(results) != len(batch):
                raise RuntimeError("a batch's results do not match its items")
        except BaseException as exc:  # each caller raises it in its own thread
            for w in batch:
                w.error = exc
        else:
            for w, result in zip(batch, results, strict=True):
                w.result = result
        finally:
            with self._lock:
                following = self._queue[0] if self._queue else None
                self._running = following is not None
            for w in batch:
                w.wake()
            if following is not None:
                following.lead = True
                following.wake()
        # After every caller is woken, and never failing one: the batch's work is done (a
        # registration committed) whatever a metric does.
        if self.observe is not None:
            try:
                self.observe(len(batch))
            except Exception:
                logger.exception("a batch's observer failed")

    @staticmethod
    def _outcome(me: _Waiting[T, R]) -> R:
        if me.error is not None:
            raise me.error
        return me.result  # type: ignore[return-value]
