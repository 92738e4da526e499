"""The quota rule of §11 as a pure function, with its table and its properties."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kattoo.quotas.compute import ExistingSet, clamp_seats, language_slots, plan_quota


@pytest.mark.parametrize(
    ("n", "seats"), [(10, 25), (24, 25), (25, 25), (30, 30), (41, 41), (42, 42), (43, 42), (60, 42)]
)
def test_clamp_table(n: int, seats: int) -> None:
    assert clamp_seats(n, low=25, high=42) == seats


def test_one_class_set_per_fourth_grade_with_clamped_sizes() -> None:
    plan = plan_quota(
        fourth_grade=[
            ExistingSet("ky", 20, "А"),
            ExistingSet("ky", 45, "Б"),
            ExistingSet("ru", 33, "В"),
        ],
        first_grade=[ExistingSet("ky", 30), ExistingSet("ky", 30), ExistingSet("ru", 30)],
        low=25,
        high=42,
    )
    assert [(p.language, p.seats, p.source_label) for p in plan.class_sets] == [
        ("ky", 25, "А"),
        ("ky", 42, "Б"),
        ("ru", 33, "В"),
    ]
    assert plan.basis == "fourth_grade" and plan.kyrgyz_floor == 2


def test_languages_come_from_the_current_first_grades_kyrgyz_rounding_up() -> None:
    # 3 new class-sets; first grades are 1 ky : 1 ru → ky gets ceil(1.5) = 2.
    plan = plan_quota(
        fourth_grade=[ExistingSet("ru", 30), ExistingSet("ru", 28), ExistingSet("ru", 26)],
        first_grade=[ExistingSet("ky", 30), ExistingSet("ru", 30)],
        low=25,
        high=42,
    )
    assert Counter(p.language for p in plan.class_sets) == Counter({"ky": 2, "ru": 1})
    # the ru 4th grade keeps its size on the ru class-set; the others go to ky
    assert [(p.language, p.seats) for p in plan.class_sets] == [("ru", 30), ("ky", 28), ("ky", 26)]


def test_kyrgyz_never_below_last_years_count() -> None:
    slots = language_slots(2, Counter({"ky": 2, "ru": 3}))
    assert slots["ky"] == 2


def test_kyrgyz_class_sets_never_fewer_than_last_years_kyrgyz_first_grades() -> None:
    # §11: one 4th grade, but three Kyrgyz first grades this year → three Kyrgyz class-sets;
    # the two the 4th grades do not give are sized from the Kyrgyz first grades left over.
    plan = plan_quota(
        fourth_grade=[ExistingSet("ru", 30, "А")],
        first_grade=[
            ExistingSet("ky", 31, "А"),
            ExistingSet("ru", 28, "Б"),
            ExistingSet("ky", 20, "В"),
            ExistingSet("ky", 44, "Г"),
        ],
        low=25,
        high=42,
    )
    assert [(p.language, p.seats, p.source, p.source_label) for p in plan.class_sets] == [
        ("ky", 30, "fourth_grade", "А"),
        ("ky", 25, "first_grade", "В"),
        ("ky", 42, "first_grade", "Г"),
    ]
    assert plan.basis == "fourth_grade" and plan.kyrgyz_floor == 3


def test_kyrgyz_floor_adds_nothing_when_fourth_grades_give_enough() -> None:
    plan = plan_quota(
        fourth_grade=[ExistingSet("ky", 30), ExistingSet("ru", 30)],
        first_grade=[ExistingSet("ky", 30), ExistingSet("ky", 30)],
        low=25,
        high=42,
    )
    assert [(p.language, p.source) for p in plan.class_sets] == [
        ("ky", "fourth_grade"),
        ("ky", "fourth_grade"),
    ]
    assert plan.kyrgyz_floor == 2


def test_other_languages_share_by_largest_remainder() -> None:
    slots = language_slots(5, Counter({"ru": 3, "uz": 1, "ky": 0}))
    assert slots == Counter({"ru": 4, "uz": 1})


def test_new_school_uses_this_years_first_grades() -> None:
    plan = plan_quota(
        fourth_grade=[], first_grade=[ExistingSet("ky", 22), ExistingSet("ru", 44)], low=25, high=42
    )
    assert plan.basis == "new_school"
    assert [(p.language, p.seats, p.source) for p in plan.class_sets] == [
        ("ky", 25, "first_grade"),
        ("ru", 42, "first_grade"),
    ]


def test_school_without_data_has_no_class_sets() -> None:
    assert plan_quota(fourth_grade=[], first_grade=[], low=25, high=42).class_sets == []


languages = st.sampled_from(["ky", "ru", "uz", "tg", "en"])
sets = st.lists(st.builds(ExistingSet, languages, st.integers(1, 60)), max_size=12)


@given(fourth=sets, first=sets)
def test_plan_properties(fourth: list[ExistingSet], first: list[ExistingSet]) -> None:
    plan = plan_quota(fourth_grade=fourth, first_grade=first, low=25, high=42)
    first_ky = sum(1 for s in first if s.language == "ky")
    extra = max(0, first_ky - len(fourth)) if fourth else 0
    expected = len(fourth) + extra if fourth else len(first)
    assert len(plan.class_sets) == expected
    assert all(25 <= p.seats <= 42 for p in plan.class_sets)
    source = fourth or first
    from_source = [
        p for p in plan.class_sets if p.source == ("fourth_grade" if fourth else "first_grade")
    ]
    # every actual size is used exactly once (clamped)
    assert sorted(p.source_size for p in from_source) == sorted(s.size for s in source)
    assert all(p.seats == min(max(p.source_size, 25), 42) for p in plan.class_sets)
    ky = sum(1 for p in plan.class_sets if p.language == "ky")
    assert ky == plan.kyrgyz_floor
    # §11: never fewer Kyrgyz class-sets than last year's Kyrgyz first grades
    assert ky >= first_ky
    if fourth:
        # the class-sets added for the floor are Kyrgyz, from Kyrgyz first grades
        added = [p for p in plan.class_sets if p.source == "first_grade"]
        assert len(added) == extra
        assert all(p.language == "ky" for p in added)
        current = Counter(s.language for s in first) or Counter(s.language for s in fourth)
        if current.get("ky"):
            assert ky >= min(current["ky"], len(fourth))
            assert ky * sum(current.values()) >= len(fourth) * current["ky"]  # share rounded up
        assert set(p.language for p in plan.class_sets) <= set(current)


@given(
    fourth=sets,
    first=st.lists(
        st.builds(ExistingSet, st.just("ky"), st.integers(1, 60)), min_size=1, max_size=12
    ),
    others=sets,
)
def test_kyrgyz_floor_holds_however_few_fourth_grades(
    fourth: list[ExistingSet], first: list[ExistingSet], others: list[ExistingSet]
) -> None:
    # §11: the Kyrgyz first grades alone set the floor, whatever the 4th grades and the other
    # first grades are.
    plan = plan_quota(fourth_grade=fourth, first_grade=first + others, low=25, high=42)
    ky = sum(1 for p in plan.class_sets if p.language == "ky")
    last_year_ky = len(first) + sum(1 for s in others if s.language == "ky")
    assert ky >= last_year_ky
    assert plan.kyrgyz_floor == ky
