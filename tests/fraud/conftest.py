"""Crafted registrations for the fraud signals: rows as the registration leaves them, built
directly in the real database so a test can shape a suspicious pattern in a few lines."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from kattoo.accounts.models import Role, User
from kattoo.campaigns.models import Campaign
from kattoo.catalog.models import School, Street
from kattoo.core import clock
from kattoo.enrollment.models import Application, ApplicationTransition, SeatPool
from kattoo.people.models import Person

from ..conftest import World
from ..factories import PersonFactory, UserFactory


@dataclass
class Town:
    world: World

    @property
    def campaign(self) -> Campaign:
        return self.world.campaign

    def adult(self, *, street: Street | None = None, moved: dt.date | None = None) -> Person:
        street = street or self.world.home
        return PersonFactory(
            address_street_code=street.code,
            address_house="1",
            address_registered_on=moved or dt.date(2015, 3, 1),
        )

    def child(
        self,
        *,
        mother: Person | None = None,
        born: dt.date = dt.date(2019, 9, 1),
        street: Street | None = None,
        house: str = "1",
        flat: str = "",
        moved: dt.date | None = None,
    ) -> Person:
        return PersonFactory(
            sex="M",
            birth_date=born,
            mother_pin=mother.pin if mother else "",
            address_street_code=(street or self.world.home).code,
            address_house=house,
            address_flat=flat,
            address_registered_on=moved or born,
        )

    def register(
        self,
        *,
        applicant: Person,
        child: Person,
        school: School | None = None,
        route: str = "microdistrict",
    ) -> Application:
        school = school or self.world.school
        pool, _ = SeatPool.objects.get_or_create(
            campaign=self.campaign, school=school, language="ky"
        )
        user = User.objects.filter(person=applicant).first() or UserFactory(
            role=Role.APPLICANT, person=applicant
        )
        now = clock.now()
        application = Application.objects.create(
            campaign=self.campaign,
            child=child,
            applicant=applicant,
            user=user,
            school=school,
            language="ky",
            pool=pool,
            route=route,
            position=Application.objects.filter(pool=pool).count() + 1,
            created_at=now,
            status_changed_at=now,
        )
        ApplicationTransition.objects.create(
            application=application, to_status="registered", at=now, actor=user
        )
        return application


@pytest.fixture
def town(world: World) -> Town:
    return Town(world)
