from __future__ import annotations

import pytest

from kattoo.catalog.models import MicrodistrictRequest, RequestStatus
from kattoo.catalog.selectors import AddressKey, microdistrict_school_ids
from kattoo.catalog.services import (
    microdistrict_address_add,
    microdistrict_request_file,
    teacher_add,
)
from kattoo.core.errors import FieldError

from ..conftest import SYSTEM, World


def test_a_parents_request_is_answered_by_adding_the_address(world: World) -> None:
    family = world.family()
    [request] = microdistrict_request_file(
        user=family.parent, child=family.child, school=world.other_school, actor=SYSTEM
    )
    microdistrict_address_add(
        school=world.other_school,
        street=world.home,
        house_from=1,
        house_to=1,
        note="Cadastre extract 12/2026",
        actor=SYSTEM,
        request=request,
    )
    request.refresh_from_db()
    assert request.status == RequestStatus.ADDED
    assert world.other_school.pk in microdistrict_school_ids([AddressKey(world.home.code, "1")])


@pytest.mark.parametrize(
    ("start", "end", "note", "field"),
    [(5, 3, "x", "house_to"), (1, None, "x", "house_to"), (1, 2, " ", "note")],
)
def test_bad_address_lines_are_refused(world: World, start, end, note, field) -> None:
    with pytest.raises(FieldError) as error:
        microdistrict_address_add(
            school=world.school,
            street=world.elsewhere,
            house_from=start,
            house_to=end,
            note=note,
            actor=SYSTEM,
        )
    assert error.value.field == field
    assert not MicrodistrictRequest.objects.exists()


def test_teacher_roster(world: World) -> None:
    teacher = teacher_add(
        school=world.school, pin="11203198800001", full_name="Мугалим", actor=SYSTEM
    )
    assert (
        teacher_add(school=world.school, pin="11203198800001", full_name="Мугалим", actor=SYSTEM)
        == teacher
    )
    with pytest.raises(FieldError):
        teacher_add(school=world.school, pin="123", full_name="x", actor=SYSTEM)


def test_an_answered_request_is_not_answered_again(world: World) -> None:
    from kattoo.catalog.services import microdistrict_request_reject
    from kattoo.core.errors import RuleViolation

    family = world.family()
    [request] = microdistrict_request_file(
        user=family.parent, child=family.child, school=world.other_school, actor=SYSTEM
    )
    microdistrict_request_reject(request=request, note="not our street", actor=SYSTEM)
    request.refresh_from_db()
    with pytest.raises(RuleViolation):
        microdistrict_address_add(
            school=world.other_school,
            street=world.home,
            house_from=1,
            house_to=1,
            note="x",
            actor=SYSTEM,
            request=request,
        )
