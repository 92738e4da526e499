"""The school's duties after registration: certificates (§21), requests (§18), ПМПК (§23)."""

from __future__ import annotations

import datetime as dt

import pytest

from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation
from kattoo.enrollment.models import PmpkOutcome
from kattoo.enrollment.schoolwork import (
    application_document_record,
    application_documents_request,
    pmpk_outcome_record,
    pmpk_refer,
)
from kattoo.enrollment.services import application_admit, application_register
from kattoo.notifications.models import Notification

from ..conftest import SYSTEM, World
from ..factories import UserFactory


@pytest.fixture
def admitted(world: World, at_stage1):
    family = world.family()
    app = application_register(
        campaign=world.campaign,
        user=family.parent,
        child=family.child,
        school=world.school,
        language="ky",
        actor=Actor(user=family.parent),
    )
    return application_admit(application=app, actor=SYSTEM)


@pytest.fixture
def director(world: World) -> Actor:
    from kattoo.accounts.models import Role

    return Actor(user=UserFactory(role=Role.SCHOOL, school=world.school))


def test_certificates_only_in_the_window(admitted, director) -> None:
    # §21: between the campaign's dates (2026: 08-04 … 09-05), recorded while the window is open.
    with clock.frozen(clock.bishkek(2026, 9, 5, 17, 0)):
        with pytest.raises(RuleViolation, match="document_window_closed"):
            application_document_record(
                application=admitted,
                kind="medical_health",
                received_on=dt.date(2026, 8, 3),
                actor=director,
            )
        doc = application_document_record(
            application=admitted,
            kind="medical_health",
            received_on=dt.date(2026, 8, 4),
            actor=director,
        )
        assert doc.kind == "medical_health"
        application_document_record(
            application=admitted,
            kind="medical_vaccination",
            received_on=dt.date(2026, 9, 5),
            actor=director,
        )
    assert admitted.documents.count() == 2


def test_certificate_never_dated_in_the_future(admitted, director) -> None:
    # §21: a receipt is recorded after it happened, never ahead of it.
    with clock.frozen(clock.bishkek(2026, 8, 10, 9, 0)):
        with pytest.raises(RuleViolation, match="document_date_in_future"):
            application_document_record(
                application=admitted,
                kind="medical_health",
                received_on=dt.date(2026, 8, 11),
                actor=director,
            )
        application_document_record(
            application=admitted,
            kind="medical_health",
            received_on=dt.date(2026, 8, 10),
            actor=director,
        )
    assert admitted.documents.count() == 1


def test_certificate_not_back_dated_once_the_window_closed(admitted, director) -> None:
    # §21: after 09-05 a receipt inside the window can no longer be recorded (back-dating).
    with (
        clock.frozen(clock.bishkek(2026, 9, 6, 9, 0)),
        pytest.raises(RuleViolation, match="document_window_closed"),
    ):
        application_document_record(
            application=admitted,
            kind="medical_health",
            received_on=dt.date(2026, 8, 20),
            actor=director,
        )
    assert admitted.documents.count() == 0


def test_certificate_window_is_the_campaigns_data(admitted, director) -> None:
    campaign = admitted.campaign
    campaign.medical_from, campaign.medical_until = dt.date(2026, 8, 1), dt.date(2026, 8, 15)
    campaign.save(update_fields=["medical_from", "medical_until"])
    with clock.frozen(clock.bishkek(2026, 8, 2, 9, 0)):
        application_document_record(
            application=admitted,
            kind="medical_health",
            received_on=dt.date(2026, 8, 1),
            actor=director,
        )
    with (
        clock.frozen(clock.bishkek(2026, 8, 16, 9, 0)),
        pytest.raises(RuleViolation, match="document_window_closed"),
    ):
        application_document_record(
            application=admitted,
            kind="medical_vaccination",
            received_on=dt.date(2026, 8, 15),
            actor=director,
        )


def test_requests_until_august_30_and_the_parent_is_told(admitted, director) -> None:
    application_documents_request(
        application=admitted, text="Guardianship act, please.", actor=director
    )
    assert Notification.objects.filter(event="documents_requested").count() == 1
    with (
        clock.frozen(clock.bishkek(2026, 8, 31, 9, 0)),
        pytest.raises(RuleViolation, match="document_request_closed"),
    ):
        application_documents_request(application=admitted, text="Too late", actor=director)


def test_pmpk_referral_and_outcome(admitted, director) -> None:
    referral = pmpk_refer(application=admitted, note="Hearing", actor=director)
    pmpk_outcome_record(referral=referral, outcome=PmpkOutcome.STAYS, actor=director)
    referral.refresh_from_db()
    assert referral.outcome == "stays"


def test_special_school_conclusion_alone_ends_nothing(admitted, director, world) -> None:
    # §18: on the conclusion the school only *may propose*; the parent's agreement ends the
    # admission (tests/enrollment/test_after_admission.py).
    from kattoo.enrollment.models import SeatPool, Status

    referral = pmpk_refer(application=admitted, note="ПМПК № 4", actor=director)
    pmpk_outcome_record(referral=referral, outcome=PmpkOutcome.SPECIAL_SCHOOL, actor=director)
    admitted.refresh_from_db()
    assert admitted.status == Status.ADMITTED
    assert SeatPool.objects.get(school=world.school, language="ky").taken == 1
    with pytest.raises(RuleViolation, match="invalid_status_transition"):
        pmpk_outcome_record(referral=referral, outcome=PmpkOutcome.STAYS, actor=director)


def test_a_refusal_needs_a_listed_reason_and_only_before_admission(
    admitted, director, world
) -> None:
    from kattoo.core.errors import FieldError
    from kattoo.enrollment.services import application_refuse

    with pytest.raises(RuleViolation, match="invalid_status_transition"):
        application_refuse(
            application=admitted, reason_code="false_data", reason="x", actor=director
        )
    family = world.family()
    app = application_register(
        campaign=world.campaign,
        user=family.parent,
        child=family.child,
        school=world.school,
        language="ky",
        actor=Actor(user=family.parent),
    )
    with pytest.raises(FieldError):
        application_refuse(application=app, reason_code="dislike", reason="x", actor=director)
    with pytest.raises(FieldError):
        application_refuse(application=app, reason_code="false_data", reason="  ", actor=director)
