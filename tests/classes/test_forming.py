"""§19: classes formed with the gender balance, deterministically."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from kattoo.classes.forming import ClassSlot, Pupil, form_classes, share


def test_share_is_largest_remainder() -> None:
    assert share(10, [1, 1, 1]) == [4, 3, 3]
    assert share(0, [25, 30]) == [0, 0]
    assert share(7, [0, 0]) == [0, 0]


def test_a_small_example() -> None:
    pupils = [Pupil(str(i), "M" if i % 3 else "F", f"S{i:02d}", "N") for i in range(20)]
    classes = form_classes(pupils, [ClassSlot(1, 25), ClassSlot(2, 25)])
    assert [len(c) for c in classes.values()] == [10, 10]
    boys = [sum(p.sex == "M" for p in c) for c in classes.values()]
    assert sorted(boys) == [6, 7]


pupils_strategy = st.lists(
    st.builds(
        Pupil,
        st.uuids().map(str),
        st.sampled_from("FM"),
        st.text("АБВГДЕ", min_size=1, max_size=6),
        st.text("абв", max_size=3),
    ),
    max_size=120,
    unique_by=lambda p: p.key,
)
slots_strategy = st.lists(st.integers(25, 42), min_size=1, max_size=5).map(
    lambda seats: [ClassSlot(i + 1, s) for i, s in enumerate(seats)]
)


@given(pupils=pupils_strategy, slots=slots_strategy)
def test_every_child_once_balanced_and_deterministic(
    pupils: list[Pupil], slots: list[ClassSlot]
) -> None:
    classes = form_classes(pupils, slots)
    placed = [p.key for members in classes.values() for p in members]
    assert sorted(placed) == sorted(p.key for p in pupils)
    total, seats = len(pupils), sum(s.seats for s in slots)
    boys_total = sum(p.sex == "M" for p in pupils)
    for slot in slots:
        members = classes[slot.number]
        assert abs(len(members) - total * slot.seats / seats) < 1  # size follows the seats
        if members:
            ideal_boys = len(members) * boys_total / total
            assert abs(sum(p.sex == "M" for p in members) - ideal_boys) < 1 + 1e-9  # §19 balance
    shuffled = pupils[:]
    random.Random(7).shuffle(shuffled)
    assert form_classes(shuffled, list(reversed(slots))) == classes
