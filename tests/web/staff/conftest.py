"""Staff people and a scene with one of everything a staff URL can point at."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from kattoo.accounts.models import Role, User
from kattoo.accounts.staff import staff_create
from kattoo.appeals.models import Appeal
from kattoo.appeals.services import appeal_file
from kattoo.catalog.models import MicrodistrictRequest, Teacher, TeacherAddition
from kattoo.catalog.services import microdistrict_request_file, teacher_add
from kattoo.commission.models import CommissionDecision
from kattoo.commission.services import UnregisteredChild, commission_place
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.enrollment.models import Application
from kattoo.enrollment.services import application_register
from kattoo.people.models import GuardianAct

from ...conftest import BEFORE, STAGE1, SYSTEM, Family, World
from ...factories import UserFactory, registry_adult

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _limits() -> None:
    cache.clear()


def staff_user(role: str, **scope: Any) -> User:
    user = UserFactory(role=role, **scope)
    user.set_password(PASSWORD)
    user.save()
    return user


def totp_device(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="kattoo", confirmed=True)


def verified(client: Client, user: User) -> Client:
    """Signed in with the second factor, as django-otp records it in the session."""
    device = TOTPDevice.objects.filter(user=user).first() or totp_device(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@dataclass
class Scene:
    world: World
    family: Family
    application: Application
    teacher: Teacher
    address_request: MicrodistrictRequest
    act: GuardianAct
    appeal: Appeal
    users: dict[str, User | None]

    @cached_property
    def enrolment_token(self) -> str:
        """A newcomer's one-time enrolment link (the token is its last part)."""
        _user, token = staff_create(
            username="newcomer",
            role=Role.MINISTRY_ANALYST,
            full_name="Жаңы Кызматкер",
            actor_user=None,
            actor=Actor(user=None, channel="cli"),
        )
        return token

    @cached_property
    def teacher_addition(self) -> TeacherAddition:
        """A teacher the school added after the quota lock, waiting for the district (§24)."""
        return TeacherAddition.objects.create(
            school=self.world.school,
            campaign=self.world.campaign,
            pin="21505198500002",
            full_name="Асанов Бакыт",
            requested_at=clock.now(),
        )

    @cached_property
    def commission_decision(self) -> CommissionDecision:
        """A child the registry does not know, placed by the commission of the school's
        district under a temporary identifier (awaiting the PIN, §9)."""
        return commission_place(
            campaign=self.world.campaign,
            officer=self.users["district_own"],
            unregistered=UnregisteredChild(
                surname="Токтогулов", name="Алмаз", birth_date=dt.date(2017, 11, 2), sex="M"
            ),
            applicant=self.family.parent.person,
            school=self.world.school,
            language="ky",
            number="КДД-1",
            decided_on=dt.date(2026, 3, 20),
            ground="no_documents",
            documents_checked=True,
            actor=SYSTEM,
        )


@pytest.fixture
def scene(world: World) -> Scene:
    """A registered child at world.school, a teacher, a parent's address request, a guardian
    act, an appeal; and one user of each kind, with a school and a district of their own."""
    family = world.family()
    with clock.frozen(STAGE1 + dt.timedelta(minutes=5)):
        application = application_register(
            campaign=world.campaign,
            user=family.parent,
            child=family.child,
            school=world.school,
            language="ky",
            actor=Actor(user=family.parent),
        )
        appeal = appeal_file(
            campaign=world.campaign,
            user=family.parent,
            subject="refusal",
            text="The school does not answer my calls.",
            school=world.school,
            actor=Actor(user=family.parent),
        )
    # §24: the roster is kept before the quota lock; the teacher is an adult the registry knows.
    world.registry.add_person(registry_adult("11203198800001"))
    with clock.frozen(BEFORE):
        teacher = teacher_add(
            school=world.school, pin="11203198800001", full_name="Айгүл Асанова", actor=SYSTEM
        )
    assert isinstance(teacher, Teacher)
    # The family lives in world.school's microdistrict; ask world.school to add a house of
    # the street where it lives (a request as the parent's page files it).
    [address_request] = microdistrict_request_file(
        user=family.parent, child=family.child, school=world.school, actor=SYSTEM
    )
    act = GuardianAct.objects.create(
        link=family.links[0],
        kind="court",
        number="12",
        file=SimpleUploadedFile("act.pdf", b"%PDF-1.4 test"),
        uploaded_at=clock.now(),
    )
    users: dict[str, User | None] = {
        "anonymous": None,
        "parent": family.parent,
        "school_own": staff_user(Role.SCHOOL, school=world.school),
        "school_other": staff_user(Role.SCHOOL, school=world.other_school),
        "district_own": staff_user(Role.DISTRICT, district=world.school.district),
        "district_other": staff_user(Role.DISTRICT, district=world.other_school.district),
        "analyst": staff_user(Role.MINISTRY_ANALYST),
        "admin": staff_user(Role.MINISTRY_ADMIN),
        "operator": staff_user(Role.OPERATOR),
    }
    return Scene(
        world=world,
        family=family,
        application=application,
        teacher=teacher,
        address_request=address_request,
        act=act,
        appeal=appeal,
        users=users,
    )


def as_user(client: Client, user: User | None) -> Client:
    if user is None:
        return client
    if user.role == Role.APPLICANT:
        client.force_login(user)
        return client
    return verified(client, user)
