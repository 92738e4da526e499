"""The district's check of special-order admissions (§17, §24): every above-quota admission with
its ground, and the teachers added to a frozen roster, approved or rejected by the district."""

from __future__ import annotations

import datetime as dt

from django.test import Client

from kattoo.audit.models import AuditEvent
from kattoo.catalog.models import AdditionStatus, Teacher, TeacherAddition
from kattoo.commission.services import commission_place
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.enrollment.models import Route, SeatPool
from kattoo.enrollment.services import application_register

from ...conftest import BEFORE, STAGE1
from .conftest import Scene, verified


def test_every_above_quota_admission_is_listed_with_its_ground(
    client: Client, scene: Scene
) -> None:
    world = scene.world
    officer = scene.users["district_own"]
    teacher_family = world.family(street=world.elsewhere)
    Teacher.objects.create(
        school=world.school,
        pin=teacher_family.parent.person.pin,
        full_name="Асанова Айгүл",
        added_at=BEFORE,
    )
    SeatPool.objects.filter(school=world.school, language="ky").update(taken=25)
    with clock.frozen(STAGE1 + dt.timedelta(minutes=20)):
        teachers_child = application_register(
            campaign=world.campaign,
            user=teacher_family.parent,
            child=teacher_family.child,
            school=world.school,
            language="ky",
            actor=Actor(user=teacher_family.parent),
        )
        older = world.family(births=[dt.date(2018, 2, 2)])
        decision = commission_place(
            campaign=world.campaign,
            officer=officer,
            child=older.child,
            applicant=older.parent.person,
            school=world.school,
            language="ky",
            number="КДД-77",
            decided_on=dt.date(2026, 3, 30),
            ground="over_age",
            documents_checked=True,
            actor=Actor(user=officer),
        )
    assert teachers_child.route == Route.TEACHER and teachers_child.above_quota
    assert decision.application.above_quota
    client.cookies["django_language"] = "en"
    verified(client, officer)
    page = client.get("/staff/district/above-quota/").content.decode()
    assert teacher_family.child.full_name in page and older.child.full_name in page
    assert "teacher Асанова Айгүл, on the roster since 2026-03-02" in page
    assert "decision No. КДД-77 of 2026-03-30" in page
    # the page shows children's data: the read is audited (§7)
    assert AuditEvent.objects.filter(action="personal_data.read").exists()
    other = Client()
    other.cookies["django_language"] = "en"
    verified(other, scene.users["district_other"])
    assert (
        teacher_family.child.full_name
        not in other.get("/staff/district/above-quota/").content.decode()
    )


def test_the_district_approves_or_rejects_a_late_teacher(client: Client, scene: Scene) -> None:
    addition = scene.teacher_addition
    rejected = TeacherAddition.objects.create(
        school=scene.world.school,
        campaign=scene.world.campaign,
        pin="11203198800077",
        full_name="Токтогулова Асель",
        requested_at=clock.now(),
    )
    client.cookies["django_language"] = "en"
    verified(client, scene.users["district_own"])
    page = client.get("/staff/district/above-quota/").content.decode()
    assert "Асанов Бакыт" in page and f"/staff/district/teachers/{addition.pk}/approve/" in page
    no_reason = client.post(f"/staff/district/teachers/{rejected.pk}/reject/", {"note": ""})
    assert no_reason.status_code == 302
    rejected.refresh_from_db()
    assert rejected.status == AdditionStatus.PENDING  # a rejection needs its reason
    client.post(f"/staff/district/teachers/{rejected.pk}/reject/", {"note": "Not employed"})
    client.post(f"/staff/district/teachers/{addition.pk}/approve/")
    addition.refresh_from_db()
    rejected.refresh_from_db()
    assert addition.status == AdditionStatus.APPROVED
    assert rejected.status == AdditionStatus.REJECTED and rejected.note == "Not employed"
    assert Teacher.objects.filter(school=scene.world.school, pin=addition.pin).exists()
    assert not Teacher.objects.filter(pin=rejected.pin).exists()
    # out of another district's scope: 404, nothing changes
    other = Client()
    verified(other, scene.users["district_other"])
    late = TeacherAddition.objects.create(
        school=scene.world.school,
        campaign=scene.world.campaign,
        pin="11203198800078",
        full_name="x",
        requested_at=clock.now(),
    )
    assert other.post(f"/staff/district/teachers/{late.pk}/approve/").status_code == 404
    late.refresh_from_db()
    assert late.status == AdditionStatus.PENDING


def test_the_district_sees_a_removal_with_the_schools_ground_and_approves_it(
    client: Client, scene: Scene
) -> None:
    # §24: a removal after the quota lock leaves the roster only with the district's approval.
    teacher = scene.teacher
    removal = TeacherAddition.objects.create(
        school=scene.world.school,
        campaign=scene.world.campaign,
        kind="remove",
        pin=teacher.pin,
        full_name=teacher.full_name,
        ground="Dismissed, order 12",
        teacher=teacher,
        requested_at=clock.now(),
    )
    client.cookies["django_language"] = "en"
    verified(client, scene.users["district_own"])
    page = client.get("/staff/district/above-quota/").content.decode()
    assert "Dismissed, order 12" in page and "removal" in page
    done = client.post(f"/staff/district/teachers/{removal.pk}/approve/", follow=True)
    assert "The teacher leaves the roster." in done.content.decode()
    removal.refresh_from_db()
    assert removal.status == AdditionStatus.APPROVED
    assert not Teacher.objects.filter(pk=teacher.pk).exists()
    assert AuditEvent.objects.filter(action="teacher.removal_approve").count() == 1
