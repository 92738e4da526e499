"""Every SMS built for someone else speaks the RECIPIENT's language, never the acting
officer's or director's: the school's name, the class language, a refusal's reason, a
proposal's name. And a placement the district made is told to the family, not the officer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.utils import translation

from kattoo.accounts.models import Role, User
from kattoo.appeals.services import appeal_commission_place, appeal_file
from kattoo.catalog.models import Language, School
from kattoo.catalog.selectors import localized_name
from kattoo.commission.services import commission_place
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.enrollment.after_admission import application_transfer, pmpk_propose
from kattoo.enrollment.models import (
    Application,
    PmpkOutcome,
    PmpkProposalKind,
    RefusalReason,
)
from kattoo.enrollment.schoolwork import (
    application_documents_request,
    pmpk_outcome_record,
    pmpk_refer,
)
from kattoo.enrollment.services import application_admit, application_refuse, application_register
from kattoo.notifications.models import Notification
from kattoo.people.services import person_refresh
from kattoo.waitlist.services import waitlist_join

from ..conftest import SYSTEM, Family, World, build_school
from ..factories import UserFactory, registry_person
from ..waitlist.conftest import shrink

ACTOR_LANGUAGE = "ru"  # the officer or director works in Russian …
FAMILY_LANGUAGE = "ky"  # … the family's account is Kyrgyz


@pytest.fixture
def family(world: World) -> Family:
    School.objects.filter(pk=world.school.pk).update(
        name_ky="Айтматов атындагы мектеп", name_ru="Школа имени Айтматова"
    )
    world.school.refresh_from_db()
    family = world.family()
    User.objects.filter(pk=family.parent.pk).update(language=FAMILY_LANGUAGE)
    family.parent.refresh_from_db()
    return family


@pytest.fixture
def officer(world: World) -> User:
    return UserFactory(role=Role.DISTRICT, district=world.school.district, language="ru")


@pytest.fixture
def director(world: World) -> Actor:
    return Actor(user=UserFactory(role=Role.SCHOOL, school=world.school, language="ru"))


@pytest.fixture
def at_stage2_in_russian(at_stage2) -> Iterator[None]:
    """The staff member's request runs in Russian (the active language of the request)."""
    with translation.override(ACTOR_LANGUAGE):
        yield


def words(language: str, school: School, *labels: object) -> list[str]:
    with translation.override(language):
        return [localized_name(school), *(str(label) for label in labels)]


def only_sms(event: str) -> Notification:
    [sms] = Notification.objects.filter(event=event)
    return sms


def assert_in_family_language(sms: Notification, family: Family, *expected: object) -> None:
    assert sms.user_id == family.parent.pk and sms.language == FAMILY_LANGUAGE
    theirs = words(FAMILY_LANGUAGE, *expected)  # type: ignore[arg-type]
    actors = words(ACTOR_LANGUAGE, *expected)  # type: ignore[arg-type]
    for own, foreign in zip(theirs, actors, strict=True):
        assert own != foreign
        assert own in sms.body, (own, sms.body)
        assert foreign not in sms.body, (foreign, sms.body)


def placed(world: World, family: Family, officer: User, language: str = "ru") -> Application:
    """A child whose birth certificate the registry does not hold, placed by the commission
    (§9) — the application is the officer's, the family is the applicant."""
    family.child.birth_certificate_number = ""
    family.child.save(update_fields=["birth_certificate_number"])
    decision = commission_place(
        campaign=world.campaign,
        officer=officer,
        child=family.child,
        applicant=family.parent.person,
        school=world.school,
        language=language,
        number="КДД-5",
        decided_on=clock.today(),
        ground="no_documents",
        documents_checked=True,
        actor=Actor(user=officer),
    )
    return decision.application


def test_commission_placed(
    world: World, family: Family, officer: User, at_stage2_in_russian
) -> None:
    application = placed(world, family, officer)
    assert application.user_id == officer.pk  # made by the officer …
    sms = only_sms("commission_placed")  # … told to the family, in Kyrgyz
    assert "КДД-5" in sms.body
    assert_in_family_language(sms, family, world.school, Language("ru").label)


def test_admitted_after_a_commission_placement(
    world: World, family: Family, officer: User, director: Actor, at_stage2_in_russian
) -> None:
    application = placed(world, family, officer)
    application_admit(application=application, actor=director)
    sms = only_sms("application_admitted")
    assert_in_family_language(sms, family, world.school)
    assert not Notification.objects.filter(user=officer).exists()


def test_refused_with_the_reason_in_the_familys_words(
    world: World, family: Family, director: Actor, at_stage2
) -> None:
    application = application_register(
        campaign=world.campaign,
        user=family.parent,
        child=family.child,
        school=world.school,
        language="ru",
        actor=Actor(user=family.parent),
    )
    with translation.override(ACTOR_LANGUAGE):
        application_refuse(
            application=application,
            reason_code=RefusalReason.FALSE_DATA,
            reason="Адрес не подтверждён.",
            actor=director,
        )
    sms = only_sms("application_refused")
    assert "Адрес не подтверждён." in sms.body  # the director's own words, as written
    assert_in_family_language(sms, family, world.school, RefusalReason.FALSE_DATA.label)


def test_documents_requested_names_the_school_in_the_familys_language(
    world: World, family: Family, director: Actor, at_stage2
) -> None:
    # Here the family reads Russian and the director works in Kyrgyz: the school's name was
    # always the Kyrgyz one.
    User.objects.filter(pk=family.parent.pk).update(language="ru")
    family.parent.refresh_from_db()
    application = application_register(
        campaign=world.campaign,
        user=family.parent,
        child=family.child,
        school=world.school,
        language="ky",
        actor=Actor(user=family.parent),
    )
    with translation.override("ky"):
        application_documents_request(application=application, text="Акт опеки.", actor=director)
    sms = only_sms("documents_requested")
    assert sms.language == "ru" and "Акт опеки." in sms.body
    assert "Школа имени Айтматова" in sms.body
    assert "Айтматов атындагы мектеп" not in sms.body


def test_pmpk_proposed_after_a_commission_placement(
    world: World, family: Family, officer: User, director: Actor, at_stage2_in_russian
) -> None:
    application = application_admit(
        application=placed(world, family, officer, language="ky"), actor=director
    )
    referral = pmpk_refer(application=application, note="ПМПК № 4", actor=director)
    pmpk_outcome_record(referral=referral, outcome=PmpkOutcome.SPECIAL_SCHOOL, actor=director)
    pmpk_propose(
        application=application,
        kind=PmpkProposalKind.SPECIAL_SCHOOL,
        note="",
        actor=director,
    )
    sms = only_sms("pmpk_proposed")
    assert_in_family_language(sms, family, world.school, PmpkProposalKind.SPECIAL_SCHOOL.label)


def test_transferred_by_a_decision(
    world: World, family: Family, officer: User, director: Actor, at_stage2_in_russian
) -> None:
    neighbour = build_school(world.campaign, sizes=[("ky", 25)])
    School.objects.filter(pk=neighbour.pk).update(
        district=world.school.district,
        name_ky="Манас атындагы мектеп",
        name_ru="Школа имени Манаса",
    )
    neighbour.refresh_from_db()
    application = application_admit(
        application=placed(world, family, officer, language="ky"), actor=director
    )
    application_transfer(
        application=application,
        officer=officer,
        school=neighbour,
        language="ky",
        number="КДД-6",
        decided_on=clock.today(),
        actor=Actor(user=officer),
    )
    sms = only_sms("application_transferred")
    assert_in_family_language(sms, family, neighbour, Language("ky").label)
    assert not Notification.objects.filter(user=officer).exists()


def test_a_family_without_an_account_hears_in_kyrgyz_at_the_registrys_phone(
    world: World, officer: User, at_stage2_in_russian
) -> None:
    # The decision names a relative who has no account yet: the SMS goes to the phone the
    # registry holds, in Kyrgyz (the default), not in the officer's Russian.
    School.objects.filter(pk=world.school.pk).update(
        name_ky="Айтматов атындагы мектеп", name_ru="Школа имени Айтматова"
    )
    world.school.refresh_from_db()
    child = world.family(births=[dt.date(2018, 5, 5)]).child
    record = registry_person(sex="F", born=dt.date(1984, 6, 6), surname="Токтогулова")
    world.registry.add_person(record)
    aunt = person_refresh(pin=record["pin"], actor=SYSTEM, applicant=True)
    assert aunt.phone and not User.objects.filter(person=aunt).exists()
    commission_place(
        campaign=world.campaign,
        officer=officer,
        child=child,
        applicant=aunt,
        school=world.school,
        language="ru",
        number="КДД-8",
        decided_on=clock.today(),
        ground="over_age",
        documents_checked=True,
        actor=Actor(user=officer),
    )
    sms = only_sms("commission_placed")
    assert (sms.user_id, sms.address, sms.language) == (None, aunt.phone, "ky")
    assert "Айтматов атындагы мектеп" in sms.body and "Орус тили" in sms.body
    assert "Школа имени Айтматова" not in sms.body and "Русский" not in sms.body


def test_waitlist_offer_after_a_refusal_made_in_russian(
    world: World, family: Family, director: Actor, at_stage1
) -> None:
    shrink(world, seats=1)
    holder = world.family()
    application = application_register(
        campaign=world.campaign,
        user=holder.parent,
        child=holder.child,
        school=world.school,
        language="ky",
        actor=Actor(user=holder.parent),
    )
    waitlist_join(
        campaign=world.campaign,
        user=family.parent,
        child=family.child,
        school=world.school,
        language="ky",
        actor=Actor(user=family.parent),
    )
    with translation.override(ACTOR_LANGUAGE):
        application_refuse(
            application=application,
            reason_code=RefusalReason.FALSE_DATA,
            reason="Адрес не подтверждён.",
            actor=director,
        )
    sms = only_sms("waitlist_offer")
    assert_in_family_language(sms, family, world.school, Language("ky").label)


def test_appeal_placed_by_a_commission_decision(
    world: World, family: Family, officer: User, at_stage2_in_russian
) -> None:
    application = application_register(
        campaign=world.campaign,
        user=family.parent,
        child=family.child,
        school=world.school,
        language="ru",
        actor=Actor(user=family.parent),
    )
    application_refuse(
        application=application,
        reason_code=RefusalReason.FALSE_DATA,
        reason="—",
        actor=Actor(user=UserFactory(role=Role.SCHOOL, school=world.school)),
    )
    appeal = appeal_file(
        campaign=world.campaign,
        user=family.parent,
        subject="refusal",
        text="The school refused us although we live next door.",
        school=None,
        application=application,
        actor=Actor(user=family.parent),
    )
    appeal_commission_place(
        appeal=appeal,
        actor=Actor(user=officer),
        campaign=world.campaign,
        officer=officer,
        child=family.child,
        applicant=family.parent.person,
        school=world.school,
        language="ru",
        number="КДД-11",
        decided_on=clock.today(),
        ground="other",
        documents_checked=True,
    )
    sms = only_sms("appeal_placed")
    assert_in_family_language(sms, family, world.school, Language("ru").label)
    appeal.refresh_from_db()  # the answer the family reads in its account, in its words too
    assert "Айтматов атындагы мектеп" in appeal.answer
