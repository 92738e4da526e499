from __future__ import annotations

import datetime as dt
from dataclasses import replace

from django.db import transaction

from kattoo.accounts.models import Role, User
from kattoo.audit.services import audit_record
from kattoo.campaigns.models import Campaign
from kattoo.catalog.models import School
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation
from kattoo.enrollment.allocation import SeatRequest, seat_take
from kattoo.enrollment.models import ACTIVE_STATUSES, Application, Route, SeatPool
from kattoo.enrollment.services import notify_application
from kattoo.people.models import Person

from .models import CommissionDecision


@transaction.atomic
def commission_place(
    *,
    campaign: Campaign,
    officer: User,
    child: Person,
    applicant: Person,
    school: School,
    language: str,
    number: str,
    decided_on: dt.date,
    ground: str,
    documents_checked: bool,
    actor: Actor,
) -> CommissionDecision:
    """§9, §26: the commission places a child in a school of the district — in a free seat if
    there is one, otherwise above the quota by the decision (capacity + 1, nobody displaced).
    Birth window, documents and stage do not apply: the decision is the ground."""
    if officer.role != Role.DISTRICT or school.district_id != officer.district_id:
        raise RuleViolation("not_found")
    pool = SeatPool.objects.filter(campaign=campaign, school=school, language=language).first()
    if pool is None:
        raise RuleViolation("language_not_offered")
    number = number.strip()
    if CommissionDecision.objects.filter(district_id=school.district_id, number=number).exists():
        raise RuleViolation("decision_number_taken")
    if Application.objects.filter(
        campaign=campaign, child=child, status__in=ACTIVE_STATUSES
    ).exists():
        raise RuleViolation("already_registered")
    now = clock.now()
    request = SeatRequest(
        campaign_id=campaign.pk,
        pool_id=pool.pk,
        school_id=school.pk,
        language=language,
        child_id=child.pk,
        applicant_id=applicant.pk,
        user_id=officer.pk,
        route=Route.COMMISSION,
        above_quota=False,
    )
    try:
        with transaction.atomic():
            granted = seat_take(request, actor=actor, now=now)
    except RuleViolation as exc:
        if exc.code != "no_free_seats":
            raise
        granted = seat_take(replace(request, above_quota=True), actor=actor, now=now)
    application = Application.objects.select_related("school", "child", "user").get(
        pk=granted.application_id
    )
    decision = CommissionDecision.objects.create(
        campaign=campaign,
        district_id=school.district_id,
        number=number.strip(),
        decided_on=decided_on,
        ground=ground,
        child=child,
        applicant=applicant,
        school=school,
        language=language,
        application=application,
        documents_checked=documents_checked,
        recorded_by=officer,
        recorded_at=now,
    )
    audit_record(
        actor=actor,
        action="commission.place",
        obj=decision,
        data={
            "application": str(application.pk),
            "above_quota": application.above_quota,
            "ground": ground,
            "number": number,
        },
    )
    parent_user = User.objects.filter(person=applicant).first()
    if parent_user is not None:
        notify_application(application, "application_registered", user=parent_user)
    return decision
