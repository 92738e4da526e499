"""``clock.frozen``: nested freezes restore the outer one, and freezes opened on several
threads that close in any order leave the clock running (a race test's workers once left the
rest of the suite frozen in 2026)."""

from __future__ import annotations

import threading

from kattoo.core import clock

EARLY = clock.bishkek(2026, 3, 1, 9)
LATE = clock.bishkek(2026, 4, 1, 10)


def test_a_nested_freeze_gives_back_the_outer_one() -> None:
    with clock.frozen(EARLY):
        with clock.frozen(LATE):
            assert clock.now() == LATE
        assert clock.now() == EARLY
    assert clock.now() not in (EARLY, LATE)


def test_freezes_that_close_out_of_order_leave_no_freeze_behind() -> None:
    first_in, second_in, first_may_leave, second_may_leave = (threading.Event() for _ in range(4))

    def first() -> None:
        with clock.frozen(LATE):
            first_in.set()
            first_may_leave.wait(5)

    def second() -> None:
        first_in.wait(5)
        with clock.frozen(LATE):
            second_in.set()
            second_may_leave.wait(5)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    second_in.wait(5)
    first_may_leave.set()  # the first one in leaves first: the second freeze still holds
    threads[0].join(5)
    assert clock.now() == LATE
    second_may_leave.set()
    threads[1].join(5)
    assert clock.now() != LATE


def test_an_outer_freeze_outlives_an_inner_one_closed_on_another_thread() -> None:
    inner_open, may_close = threading.Event(), threading.Event()

    def inner() -> None:
        with clock.frozen(LATE):
            inner_open.set()
            may_close.wait(5)

    with clock.frozen(EARLY):
        thread = threading.Thread(target=inner)
        thread.start()
        inner_open.wait(5)
        assert clock.now() == LATE
        may_close.set()
        thread.join(5)
        assert clock.now() == EARLY
    assert clock.now() != EARLY
