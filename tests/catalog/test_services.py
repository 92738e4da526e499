from __future__ import annotations

import datetime as dt

import pytest

from kattoo.accounts.models import Role
from kattoo.audit.models import AuditEvent
from kattoo.catalog.models import (
    AdditionStatus,
    MicrodistrictRequest,
    RequestStatus,
    Teacher,
    TeacherAddition,
)
from kattoo.catalog.selectors import AddressKey, microdistrict_school_ids
from kattoo.catalog.services import (
    microdistrict_address_add,
    microdistrict_request_file,
    teacher_add,
    teacher_addition_decide,
    teacher_remove,
    teachers_check,
)
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import FieldError, RuleViolation

from ..conftest import BEFORE, SYSTEM, World
from ..factories import DistrictFactory, UserFactory, registry_adult, registry_person


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
    world.registry.add_person(registry_adult("11203198800001"))
    with clock.frozen(BEFORE):
        teacher = teacher_add(
            school=world.school, pin="11203198800001", full_name="Мугалим", actor=SYSTEM
        )
        assert isinstance(teacher, Teacher)
        # §7: the name is the registry's, not the one typed
        assert teacher.full_name == "Асанова Айгүл"
        again = teacher_add(
            school=world.school, pin="11203198800001", full_name="Мугалим", actor=SYSTEM
        )
        assert again == teacher
        with pytest.raises(FieldError):
            teacher_add(school=world.school, pin="123", full_name="x", actor=SYSTEM)


def test_a_teacher_is_an_adult_the_registry_knows(world: World) -> None:
    # §24: the roster is checked against the registry.
    with clock.frozen(BEFORE):
        with pytest.raises(RuleViolation, match="person_not_found"):
            teacher_add(school=world.school, pin="11203198800009", full_name="x", actor=SYSTEM)
        child = registry_person(sex="F", born=dt.date(2012, 5, 5))
        world.registry.add_person(child)
        with pytest.raises(RuleViolation, match="teacher_not_adult"):
            teacher_add(school=world.school, pin=child["pin"], full_name="x", actor=SYSTEM)
    assert not Teacher.objects.filter(school=world.school).exists()


@pytest.mark.parametrize(
    ("born", "adult"), [(dt.date(2008, 3, 2), True), (dt.date(2008, 3, 3), False)]
)
def test_adult_on_the_18th_birthday(world: World, born: dt.date, adult: bool) -> None:
    person = registry_person(sex="M", born=born)
    world.registry.add_person(person)
    with clock.frozen(BEFORE):  # 2026-03-02
        if adult:
            assert teacher_add(
                school=world.school, pin=person["pin"], full_name="x", actor=SYSTEM
            ).pk
        else:
            with pytest.raises(RuleViolation, match="teacher_not_adult"):
                teacher_add(school=world.school, pin=person["pin"], full_name="x", actor=SYSTEM)


def test_roster_frozen_at_the_quota_lock_district_decides(world: World) -> None:
    # §24, §17: the lock is the end of 2026-03-27 (Asia/Bishkek); later additions wait.
    world.registry.add_person(registry_adult("11203198800001"))
    world.registry.add_person(registry_adult("21505198500002", surname="Асанов", name="Бакыт"))
    director = Actor(user=UserFactory(role=Role.SCHOOL, school=world.school))
    with clock.frozen(clock.bishkek(2026, 3, 27, 23, 59)):
        assert isinstance(
            teacher_add(school=world.school, pin="11203198800001", full_name="", actor=director),
            Teacher,
        )
    with clock.frozen(clock.bishkek(2026, 3, 28, 0, 0)):
        late = teacher_add(school=world.school, pin="21505198500002", full_name="", actor=director)
        assert isinstance(late, TeacherAddition) and late.status == AdditionStatus.PENDING
        # asked twice: still one pending addition
        assert (
            teacher_add(school=world.school, pin="21505198500002", full_name="", actor=director).pk
            == late.pk
        )
    assert not Teacher.objects.filter(pin="21505198500002").exists()
    assert AuditEvent.objects.filter(action="teacher.addition_request").count() == 1

    outsider = UserFactory(role=Role.DISTRICT, district=DistrictFactory())
    officer = UserFactory(role=Role.DISTRICT, district=world.school.district)
    with pytest.raises(RuleViolation, match="not_found"):
        teacher_addition_decide(
            addition=late, officer=outsider, approve=True, note="", actor=Actor(user=outsider)
        )
    with pytest.raises(FieldError):
        teacher_addition_decide(
            addition=late, officer=officer, approve=False, note=" ", actor=Actor(user=officer)
        )
    approved = teacher_addition_decide(
        addition=late, officer=officer, approve=True, note="", actor=Actor(user=officer)
    )
    assert approved.status == AdditionStatus.APPROVED and approved.teacher is not None
    assert Teacher.objects.filter(school=world.school, pin="21505198500002").exists()
    assert AuditEvent.objects.filter(action="teacher.addition_approve").count() == 1
    with pytest.raises(RuleViolation, match="invalid_status_transition"):
        teacher_addition_decide(
            addition=late, officer=officer, approve=False, note="late", actor=Actor(user=officer)
        )


def test_district_rejects_a_late_addition_with_a_reason(world: World) -> None:
    world.registry.add_person(registry_adult("21505198500002", surname="Асанов", name="Бакыт"))
    officer = UserFactory(role=Role.DISTRICT, district=world.school.district)
    with clock.frozen(clock.bishkek(2026, 4, 2, 9, 0)):
        late = teacher_add(school=world.school, pin="21505198500002", full_name="", actor=SYSTEM)
        rejected = teacher_addition_decide(
            addition=late,
            officer=officer,
            approve=False,
            note="Not employed at the school",
            actor=Actor(user=officer),
        )
    assert rejected.status == AdditionStatus.REJECTED and rejected.note
    assert not Teacher.objects.filter(pin="21505198500002").exists()
    event = AuditEvent.objects.get(action="teacher.addition_reject")
    assert event.data["note"] == "Not employed at the school"


def test_a_teacher_is_checked_once_and_an_outage_adds_nobody(world: World) -> None:
    # §24: one registry call per distinct PIN; a dead person is not a teacher; an outage
    # refuses (nothing is added unchecked).
    world.registry.add_person(registry_adult("11203198800001"))
    gone = {**registry_adult("21505198500002"), "deathDate": "2025-01-01"}
    world.registry.add_person(gone)
    world.registry.calls.clear()
    with clock.frozen(BEFORE):
        checks = teachers_check(
            pins=["11203198800001", "11203198800001", "21505198500002"], actor=SYSTEM
        )
    assert [pin for _service, pin in world.registry.calls] == ["11203198800001", "21505198500002"]
    assert checks["11203198800001"].full_name == "Асанова Айгүл"
    world.registry.available = False
    with clock.frozen(BEFORE), pytest.raises(RuleViolation, match="registry_unavailable"):
        teacher_add(school=world.school, pin="11203198800001", full_name="x", actor=SYSTEM)
    assert not Teacher.objects.exists()


def test_before_the_lock_the_school_removes_a_teacher_at_once(world: World) -> None:
    world.registry.add_person(registry_adult("11203198800001"))
    with clock.frozen(BEFORE):
        teacher = teacher_add(school=world.school, pin="11203198800001", full_name="", actor=SYSTEM)
        assert isinstance(teacher, Teacher)
        assert teacher_remove(teacher=teacher, actor=SYSTEM) is None
    assert not Teacher.objects.exists() and not TeacherAddition.objects.exists()
    assert AuditEvent.objects.filter(action="teacher.remove").count() == 1


def test_after_the_lock_a_removal_waits_for_the_district_with_the_schools_ground(
    world: World,
) -> None:
    # §24: a removal changes priorities; removing then re-adding would get round the freeze.
    world.registry.add_person(registry_adult("11203198800001"))
    director = Actor(user=UserFactory(role=Role.SCHOOL, school=world.school))
    officer = UserFactory(role=Role.DISTRICT, district=world.school.district)
    with clock.frozen(BEFORE):
        teacher = teacher_add(school=world.school, pin="11203198800001", full_name="", actor=SYSTEM)
        assert isinstance(teacher, Teacher)
    with clock.frozen(clock.bishkek(2026, 3, 28, 0, 0)):
        with pytest.raises(FieldError) as no_ground:
            teacher_remove(teacher=teacher, actor=director, ground=" ")
        assert no_ground.value.field == "ground"
        removal = teacher_remove(teacher=teacher, actor=director, ground="Dismissed, order 12")
        assert removal is not None
        assert (removal.kind, removal.status, removal.ground) == (
            "remove",
            AdditionStatus.PENDING,
            "Dismissed, order 12",
        )
        # Still on the roster until the district decides; asked twice, one request.
        assert Teacher.objects.filter(pk=teacher.pk).exists()
        assert teacher_remove(teacher=teacher, actor=director, ground="again") == removal
        # Re-adding while the removal waits changes nothing.
        assert (
            teacher_add(school=world.school, pin="11203198800001", full_name="", actor=director)
            == teacher
        )
        rejected = teacher_addition_decide(
            addition=removal,
            officer=officer,
            approve=False,
            note="Still employed",
            actor=Actor(user=officer),
        )
        assert rejected.status == AdditionStatus.REJECTED
        assert Teacher.objects.filter(pk=teacher.pk).exists()
        again = teacher_remove(teacher=teacher, actor=director, ground="Dismissed, order 13")
        assert again is not None and again.pk != removal.pk
        approved = teacher_addition_decide(
            addition=again, officer=officer, approve=True, note="", actor=Actor(user=officer)
        )
    assert approved.status == AdditionStatus.APPROVED
    assert not Teacher.objects.filter(school=world.school, pin="11203198800001").exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="teacher.removal").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == sorted(
        [
            "teacher.removal_request",
            "teacher.removal_reject",
            "teacher.removal_request",
            "teacher.removal_approve",
        ]
    )
    request = AuditEvent.objects.filter(action="teacher.removal_request").earliest("id")
    assert request.data["ground"] == "Dismissed, order 12"


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
