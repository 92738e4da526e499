"""Races on real PostgreSQL (§24): the same roster change asked at the same instant — a double
click, or a click and a catalog file — makes one change, never an error."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection  # noqa: F401  (read by the skipif condition)

from kattoo.catalog.models import Teacher, TeacherAddition
from kattoo.catalog.services import TeacherCheck, teacher_remove, teacher_roster_add
from kattoo.core import clock
from kattoo.core.actors import Actor

from ..conftest import BEFORE, SYSTEM, World
from ..enrollment.test_concurrency import race
from ..factories import registry_adult

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "connection.vendor != 'postgresql'", reason="concurrency is proven on PostgreSQL"
    ),
]

PIN = "11203198800001"
AFTER_LOCK = clock.bishkek(2026, 3, 30, 9, 0)


def test_two_removals_of_one_teacher_after_the_lock_make_one_request(world: World) -> None:
    world.registry.add_person(registry_adult(PIN))
    with clock.frozen(BEFORE):
        teacher = Teacher.objects.create(school=world.school, pin=PIN, added_at=clock.now())

    def remove() -> Callable[[], object]:
        def job() -> object:
            with clock.frozen(AFTER_LOCK):
                return teacher_remove(teacher=teacher, actor=SYSTEM, ground="Dismissed")

        return job

    outcomes = race([remove() for _ in range(4)])
    assert outcomes == {"ok": 4}, outcomes
    assert TeacherAddition.objects.filter(kind="remove", pin=PIN).count() == 1
    assert Teacher.objects.filter(pk=teacher.pk).exists()


def test_two_additions_of_one_teacher_after_the_lock_make_one_request(world: World) -> None:
    check = TeacherCheck(PIN, full_name="Асанова Айгүл")

    def add() -> Callable[[], object]:
        def job() -> object:
            from django.db import transaction

            with clock.frozen(AFTER_LOCK), transaction.atomic():
                return teacher_roster_add(
                    school_id=world.school.pk,
                    check=check,
                    campaign=world.campaign,
                    actor=Actor(user=None, channel="cli"),
                )

        return job

    outcomes = race([add() for _ in range(4)])
    assert outcomes == {"ok": 4}, outcomes
    assert TeacherAddition.objects.filter(kind="add", pin=PIN).count() == 1
    assert not Teacher.objects.filter(pin=PIN).exists()
