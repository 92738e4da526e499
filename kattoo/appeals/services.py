from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from kattoo.accounts.models import Role, User
from kattoo.audit.services import audit_record
from kattoo.campaigns.models import Campaign
from kattoo.campaigns.selectors import campaign_calendar
from kattoo.catalog.models import District, Language, School, Settlement
from kattoo.catalog.selectors import localized_name
from kattoo.commission.models import CommissionDecision
from kattoo.commission.services import commission_place
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.clock import BISHKEK
from kattoo.core.errors import FieldError, RuleViolation
from kattoo.enrollment import states
from kattoo.enrollment.allocation import ONE_ACTIVE_CONSTRAINT, seat_retake
from kattoo.enrollment.models import ACTIVE_STATUSES, Application, ApplicationTransition, Status
from kattoo.notifications.services import notification_queue

from .models import Appeal, AppealDecision, AppealStatus

# ApplicationTransition.reason_code of a refusal the district reinstates on appeal.
REINSTATED_ON_APPEAL = "appeal_reinstated"


def appeal_due_at(campaign: Campaign, filed_at: dt.datetime) -> dt.datetime:
    """§17: answered within N working days — by the end of the N-th working day after filing."""
    calendar = campaign_calendar(campaign)
    last_day = calendar.add_working_days(
        filed_at.astimezone(BISHKEK).date(), campaign.appeal_due_working_days
    )
    next_day = last_day + dt.timedelta(days=1)
    return dt.datetime(next_day.year, next_day.month, next_day.day, tzinfo=BISHKEK)


def _district_for(user: User, school: School | None, application: Application | None) -> District:
    if application is not None:
        return application.school.district
    if school is not None:
        return school.district
    person = user.person
    settlement = (
        Settlement.objects.select_related("district")
        .filter(soate=person.address_settlement_code)
        .first()
        if person is not None and person.address_settlement_code
        else None
    )
    if settlement is None:
        raise FieldError("school", "required", _("Choose the school the appeal is about."))
    return settlement.district


@transaction.atomic
def appeal_file(
    *,
    campaign: Campaign,
    user: User,
    subject: str,
    text: str,
    actor: Actor,
    school: School | None = None,
    application: Application | None = None,
) -> Appeal:
    if user.role != Role.APPLICANT:
        raise RuleViolation("forbidden")
    now = clock.now()
    appeal = Appeal.objects.create(
        campaign=campaign,
        user=user,
        district=_district_for(user, school, application),
        school=school or (application.school if application else None),
        application=application,
        subject=subject,
        text=text.strip(),
        created_at=now,
        due_at=appeal_due_at(campaign, now),
    )
    audit_record(
        actor=actor,
        action="appeal.file",
        obj=appeal,
        data={
            "subject": subject,
            "district": appeal.district_id,
            "due_at": appeal.due_at.isoformat(),
        },
    )
    return appeal


@transaction.atomic
def appeal_answer(*, appeal: Appeal, text: str, actor: Actor) -> Appeal:
    """The district office answers (§17); the applicant gets an SMS."""
    if len(text.strip()) < 2:
        raise FieldError("text", "required", _("Write the answer."))
    appeal = (
        Appeal.objects.select_for_update(no_key=True, of=("self",))
        .select_related("user")
        .get(pk=appeal.pk)
    )
    if appeal.status == AppealStatus.ANSWERED:
        raise RuleViolation("invalid_status_transition")
    appeal.status, appeal.answer = AppealStatus.ANSWERED, text.strip()
    appeal.answered_at, appeal.answered_by = clock.now(), actor.user
    appeal.save(update_fields=["status", "answer", "answered_at", "answered_by"])
    notification_queue(
        user=appeal.user,
        event="appeal_answered",
        context={"number": appeal.pk},
        dedupe_key=f"appeal_answered:{appeal.pk}",
    )
    audit_record(
        actor=actor,
        action="appeal.answer",
        obj=appeal,
        data={"late": appeal.answered_at > appeal.due_at},
    )
    return appeal


@transaction.atomic
def appeal_forward(*, appeal: Appeal, school: School, note: str, actor: Actor) -> Appeal:
    """§17: the district office may pass an appeal to the school that must act on it; the
    answer is still due by the same date."""
    if school.district_id != appeal.district_id:
        raise RuleViolation("not_found")
    appeal = Appeal.objects.select_for_update(no_key=True, of=("self",)).get(pk=appeal.pk)
    if appeal.status == AppealStatus.ANSWERED:
        raise RuleViolation("invalid_status_transition")
    appeal.status, appeal.school = AppealStatus.FORWARDED, school
    appeal.save(update_fields=["status", "school"])
    audit_record(
        actor=actor, action="appeal.forward", obj=appeal, data={"school": school.pk, "note": note}
    )
    return appeal


# ---- decisions on an appeal (§17, §22) -------------------------------------------------------


def _open_for_decision(appeal: Appeal, actor: Actor) -> Appeal:
    """The appeal's row lock; only the district officer of the appeal's district decides, and
    only once."""
    user = actor.user
    if user is None or user.role != Role.DISTRICT or user.district_id != appeal.district_id:
        raise RuleViolation("not_found")
    appeal = (
        Appeal.objects.select_for_update(no_key=True, of=("self",))
        .select_related("user", "application")
        .get(pk=appeal.pk)
    )
    if appeal.status == AppealStatus.ANSWERED:
        raise RuleViolation("invalid_status_transition")
    return appeal


def _close(appeal: Appeal, *, decision: str, text: str, actor: Actor) -> None:
    appeal.status, appeal.decision, appeal.answer = AppealStatus.ANSWERED, decision, text
    appeal.answered_at, appeal.answered_by = clock.now(), actor.user
    appeal.save(
        update_fields=[
            "status",
            "decision",
            "answer",
            "answered_at",
            "answered_by",
            "commission_decision",
        ]
    )


def _notify_decision(
    appeal: Appeal, event: str, application: Application | None, **extra: str
) -> None:
    """SMS the applicant who filed the appeal, in the account's language."""
    user = appeal.user
    with translation.override(user.language):
        context: dict[str, object] = {"number": appeal.pk, **extra}
        if application is not None:
            context["child"] = f"{application.child.name} {application.child.surname}"
            context["school"] = localized_name(application.school)
            context["language"] = str(Language(application.language).label)
    notification_queue(user=user, event=event, context=context, dedupe_key=f"{event}:{appeal.pk}")


def refusal_of(application: Application) -> ApplicationTransition | None:
    """The transition that refused the application last: its reason and the status it ended."""
    return (
        ApplicationTransition.objects.filter(application=application, to_status=Status.REFUSED)
        .select_related("actor")
        .order_by("-at", "-id")
        .first()
    )


@transaction.atomic
def appeal_reinstate(*, appeal: Appeal, text: str = "", actor: Actor) -> Application:
    """§17, §22: the district finds the school's refusal unlawful and reinstates the
    registration in the status the refusal ended (registered, or admitted). The seat is taken
    back in the same pool, keeping the place in the queue: an ordinary seat only while one is
    free — nobody who took it since is displaced; when none is free the child can be placed by
    a commission decision (above the quota, §9, §26). An above-quota registration (§24, §25)
    raises the capacity again, as it did the first time."""
    appeal = _open_for_decision(appeal, actor)
    if appeal.application_id is None:
        raise RuleViolation("appeal_no_registration")
    application = (
        Application.objects.select_for_update(no_key=True, of=("self",))
        .select_related("school", "child", "user", "campaign")
        .get(pk=appeal.application_id)
    )
    refusal = refusal_of(application) if application.status == Status.REFUSED else None
    if refusal is None:
        raise RuleViolation("appeal_no_registration")
    target = Status(refusal.from_status or Status.REGISTERED)
    if Application.objects.filter(
        campaign_id=application.campaign_id,
        child_id=application.child_id,
        status__in=ACTIVE_STATUSES,
    ).exists():
        raise RuleViolation("already_registered")
    if not states.can_transition(application.status, target, on_appeal=True):
        raise RuleViolation("invalid_status_transition")
    if not seat_retake(application):
        raise RuleViolation(
            "no_free_seats",
            detail=_(
                "No seat is free in this school for this language now: nobody who took a seat "
                "since the refusal is displaced. Place the child by a decision of the Commission "
                "on Children's Affairs instead (above the quota if needed)."
            ),
        )
    text = text.strip() or _("The refusal is cancelled; the registration is reinstated.")
    try:
        # The partial unique index guards "one active registration per child" (§20) here too:
        # a child registered elsewhere since the refusal cannot be reinstated.
        with transaction.atomic():
            states.transition(
                application,
                target,
                actor=actor,
                reason=text,
                reason_code=REINSTATED_ON_APPEAL,
                on_appeal=True,
            )
    except IntegrityError as exc:
        if ONE_ACTIVE_CONSTRAINT in str(exc):
            raise RuleViolation("already_registered") from exc
        raise
    _close(appeal, decision=AppealDecision.REINSTATED, text=text, actor=actor)
    _notify_decision(appeal, "appeal_reinstated", application)
    audit_record(
        actor=actor,
        action="appeal.reinstate",
        obj=appeal,
        data={
            "application": str(application.pk),
            "status": target,
            "pool": application.pool_id,
            "position": application.position,
            "late": appeal.answered_at is not None and appeal.answered_at > appeal.due_at,
        },
    )
    return application


@transaction.atomic
def appeal_reject(*, appeal: Appeal, text: str, actor: Actor) -> Appeal:
    """§17: the district rejects the appeal; the answer states why and goes to the applicant."""
    if len(text.strip()) < 5:
        raise FieldError("text", "required", _("Write the reason of the rejection."))
    appeal = _open_for_decision(appeal, actor)
    _close(appeal, decision=AppealDecision.REJECTED, text=text.strip(), actor=actor)
    _notify_decision(appeal, "appeal_rejected", None, reason=text.strip()[:300])
    audit_record(
        actor=actor,
        action="appeal.reject",
        obj=appeal,
        data={"late": appeal.answered_at is not None and appeal.answered_at > appeal.due_at},
    )
    return appeal


@transaction.atomic
def appeal_commission_place(
    *, appeal: Appeal, actor: Actor, **placement: Any
) -> CommissionDecision:
    """§17, §9, §26: the district answers the appeal with a placement by a decision of the
    Commission on Children's Affairs (``commission_place``'s arguments), in one transaction:
    the placement and the appeal's answer happen together or not at all."""
    appeal = _open_for_decision(appeal, actor)
    decision = commission_place(actor=actor, **placement)
    appeal.commission_decision = decision
    application = decision.application
    with translation.override(appeal.user.language):
        text = _(
            "By decision No. %(number)s of the Commission on Children's Affairs the child is "
            "placed in the school: %(school)s."
        ) % {"number": decision.number, "school": localized_name(decision.school)}
    _close(appeal, decision=AppealDecision.COMMISSION, text=text, actor=actor)
    _notify_decision(appeal, "appeal_placed", application, decision=decision.number)
    audit_record(
        actor=actor,
        action="appeal.commission",
        obj=appeal,
        data={
            "decision": decision.pk,
            "application": str(application.pk),
            "late": appeal.answered_at is not None and appeal.answered_at > appeal.due_at,
        },
    )
    return decision
