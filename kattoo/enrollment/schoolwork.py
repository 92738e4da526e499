"""The school's duties after registration (§18, §19, §21, §23): documents and ПМПК."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from kattoo.accounts.models import User
from kattoo.audit.services import audit_record
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import FieldError, RuleViolation

from .models import (
    Application,
    ApplicationDocument,
    DocumentRequest,
    PmpkOutcome,
    PmpkReferral,
    Status,
)
from .services import notify_application


def _staff(actor: Actor) -> User:
    """These are acts of a person at the school: the record names who did it."""
    if actor.user is None:
        raise RuleViolation("forbidden")
    return actor.user


@transaction.atomic
def application_document_record(
    *, application: Application, kind: str, received_on: dt.date, actor: Actor
) -> ApplicationDocument:
    """§21: receipt of a medical certificate, between the campaign's dates (08-04 … 09-05).

    The receipt is recorded while the window is open, on a day inside it and never a day still
    to come: a certificate cannot be back-dated into the window once the window has closed,
    nor recorded ahead of its receipt."""
    if application.status != Status.ADMITTED:
        raise RuleViolation("invalid_status_transition")
    campaign = application.campaign
    today = clock.today()
    # §21: the originals are brought between the campaign's dates, so both the day of receipt
    # and the day it is recorded lie inside that window.
    if not campaign.medical_from <= received_on <= campaign.medical_until:
        raise RuleViolation("document_window_closed")
    if today > campaign.medical_until:
        raise RuleViolation("document_window_closed")
    if received_on > today:
        raise RuleViolation("document_date_in_future")
    document, _created = ApplicationDocument.objects.update_or_create(
        application=application,
        kind=kind,
        defaults={
            "received_on": received_on,
            "recorded_by": _staff(actor),
            "recorded_at": clock.now(),
        },
    )
    audit_record(
        actor=actor,
        action="document.record",
        obj=document,
        data={
            "application": str(application.pk),
            "kind": kind,
            "received_on": received_on.isoformat(),
        },
    )
    return document


@transaction.atomic
def application_documents_request(
    *, application: Application, text: str, actor: Actor
) -> DocumentRequest:
    """§18: supporting documents requested from the applicant, until the campaign's date."""
    if clock.today() > application.campaign.documents_request_until:
        raise RuleViolation("document_request_closed")
    if application.status not in (Status.REGISTERED, Status.ADMITTED):
        raise RuleViolation("invalid_status_transition")
    request = DocumentRequest.objects.create(
        application=application,
        text=text.strip(),
        requested_by=_staff(actor),
        requested_at=clock.now(),
    )
    # The school's name in the family's language (not always Kyrgyz, not the director's).
    notify_application(
        application,
        "documents_requested",
        dedupe_key=f"documents_requested:{request.pk}",
        text=text.strip()[:200],
    )
    audit_record(
        actor=actor,
        action="document.request",
        obj=request,
        data={"application": str(application.pk)},
    )
    return request


@transaction.atomic
def pmpk_refer(*, application: Application, note: str, actor: Actor) -> PmpkReferral:
    if application.status != Status.ADMITTED:
        raise RuleViolation("invalid_status_transition")
    referral, _created = PmpkReferral.objects.get_or_create(
        application=application,
        defaults={
            "referred_at": clock.now(),
            "referred_by": _staff(actor),
            "note": note.strip(),
        },
    )
    audit_record(
        actor=actor, action="pmpk.refer", obj=referral, data={"application": str(application.pk)}
    )
    return referral


@transaction.atomic
def pmpk_outcome_record(*, referral: PmpkReferral, outcome: str, actor: Actor) -> PmpkReferral:
    """§18, §23: the ПМПК's conclusion, recorded as it is. It ends nothing by itself: on it the
    school *may propose* a special school or continued study here
    (``after_admission.pmpk_propose``), and only a special school the parent agrees to ends the
    admission."""
    if outcome not in (PmpkOutcome.STAYS, PmpkOutcome.SPECIAL_SCHOOL):
        raise FieldError("outcome", "invalid_choice", _("Choose the outcome of the commission."))
    referral = PmpkReferral.objects.select_for_update(no_key=True, of=("self",)).get(pk=referral.pk)
    if referral.outcome:
        raise RuleViolation("invalid_status_transition")
    PmpkReferral.objects.filter(pk=referral.pk).update(outcome=outcome, outcome_at=clock.now())
    referral.outcome = outcome
    audit_record(actor=actor, action="pmpk.outcome", obj=referral, data={"outcome": outcome})
    return referral
