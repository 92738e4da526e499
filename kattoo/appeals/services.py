from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from kattoo.accounts.models import Role, User
from kattoo.audit.services import audit_record
from kattoo.campaigns.models import Campaign
from kattoo.campaigns.selectors import campaign_calendar
from kattoo.catalog.models import District, School, Settlement
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.clock import BISHKEK
from kattoo.core.errors import FieldError, RuleViolation
from kattoo.enrollment.models import Application
from kattoo.notifications.services import notification_queue

from .models import Appeal, AppealStatus


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
