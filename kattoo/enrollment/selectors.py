"""Reads for registration: what a child may do now, which schools are open to it, pools."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from kattoo.accounts.models import Role, User
from kattoo.campaigns.models import Campaign
from kattoo.campaigns.selectors import Stage, campaign_birth_date_eligible, campaign_stage
from kattoo.catalog.models import School, Teacher
from kattoo.catalog.selectors import microdistrict_school_ids, schools_participating
from kattoo.people.models import ActStatus, ChildLink, GuardianAct, Person, Relation
from kattoo.people.selectors import (
    child_family_addresses,
    identity_documents_present,
)

from .models import ACTIVE_STATUSES, Application, SeatPool, Status


@dataclass(slots=True)
class ChildStanding:
    link: ChildLink
    eligible: bool
    reasons: list[str] = field(default_factory=list)
    active_application: Application | None = None
    cancellations_left: int = 0


def children_standings(
    *, campaign: Campaign, links: list[ChildLink], stage: Stage | None = None
) -> list[ChildStanding]:
    """Whether each child may be registered now, and every reason why not (API.md).
    A fixed number of queries whatever the number of children."""
    stage = stage or campaign_stage(campaign)
    child_ids = [link.child_id for link in links]
    applications = Application.objects.filter(campaign=campaign, child_id__in=child_ids)
    active = {
        a.child_id: a
        for a in applications.filter(status__in=ACTIVE_STATUSES).select_related("school")
    }
    cancelled = dict(
        applications.filter(status=Status.CANCELLED)
        .values_list("child_id")
        .annotate(n=Count("id"))
        .values_list("child_id", "n")
    )
    acts_ok = set(
        GuardianAct.objects.filter(
            link__in=[link for link in links if link.relation == Relation.REPRESENTATIVE],
            status__in=[ActStatus.PENDING, ActStatus.ACCEPTED],
        ).values_list("link_id", flat=True)
    )
    standings = []
    for link in links:
        child = link.child
        reasons: list[str] = []
        if not campaign_birth_date_eligible(campaign, child.birth_date):
            reasons.append("outside_birth_window")
        if not identity_documents_present(child=child, applicant=link.applicant):
            reasons.append("documents_missing")
        if child.pk in active:
            reasons.append("already_registered")
        if stage not in (Stage.STAGE1, Stage.STAGE2):
            reasons.append("registration_closed")
        if link.relation == Relation.REPRESENTATIVE and link.pk not in acts_ok:
            reasons.append("guardian_document_required")
        standings.append(
            ChildStanding(
                link=link,
                eligible=not reasons,
                reasons=reasons,
                active_application=active.get(child.pk),
                cancellations_left=max(campaign.cancel_limit - cancelled.get(child.pk, 0), 0),
            )
        )
    return standings


def child_standing(
    *, campaign: Campaign, link: ChildLink, stage: Stage | None = None
) -> ChildStanding:
    return children_standings(campaign=campaign, links=[link], stage=stage)[0]


def schools_open_to_child(
    *, campaign: Campaign, child: Person, applicant: Person, stage: Stage | None = None
) -> QuerySet[School]:
    """§21: in stage 1 (and before it, for drafts) an applicant sees only the schools whose
    microdistrict holds a family address, the teacher-parent's school (§24) and a co-twin's
    school (§25); from stage 2 every participating school."""
    stage = stage or campaign_stage(campaign)
    schools = schools_participating()
    if stage in (Stage.STAGE2, Stage.CLOSED):
        return schools
    ids = microdistrict_school_ids(child_family_addresses(child, applicant))
    parent_pins = {p for p in (child.mother_pin, child.father_pin, applicant.pin) if p}
    ids |= set(Teacher.objects.filter(pin__in=parent_pins).values_list("school_id", flat=True))
    twin_filter = Q(child__birth_date=child.birth_date) & ~Q(child=child)
    if child.mother_pin:
        twin_filter &= Q(child__mother_pin=child.mother_pin)
        ids |= set(
            Application.objects.filter(
                twin_filter, campaign=campaign, status__in=ACTIVE_STATUSES
            ).values_list("school_id", flat=True)
        )
    return schools.filter(pk__in=ids)


def pools_of(*, campaign: Campaign, school_ids: list[int]) -> dict[int, list[SeatPool]]:
    result: dict[int, list[SeatPool]] = defaultdict(list)
    pools = SeatPool.objects.filter(campaign=campaign, school_id__in=school_ids, quota_seats__gt=0)
    for pool in pools.order_by("school_id", "language"):
        result[pool.school_id].append(pool)
    return result


def applications_visible_to(user: User) -> QuerySet[Application]:
    """Applicants see the applications they made or made for their linked children."""
    base = Application.objects.select_related("school", "child")
    if user.role == Role.APPLICANT and user.person_id is not None:
        child_ids = ChildLink.objects.filter(applicant_id=user.person_id).values("child_id")
        return base.filter(Q(user=user) | Q(child_id__in=child_ids))
    if user.role == Role.SCHOOL and user.school_id is not None:
        return base.filter(school_id=user.school_id)
    if user.role == Role.DISTRICT and user.district_id is not None:
        return base.filter(school__district_id=user.district_id)
    if user.role in (Role.MINISTRY_ADMIN, Role.MINISTRY_ANALYST):
        return base
    return base.none()


def application_staff_abilities(user: User, application: Application) -> dict[str, bool]:
    """What school staff may do with a registration now (§18, §21, §22)."""
    own = user.role == Role.SCHOOL and user.school_id == application.school_id
    registered = application.status == Status.REGISTERED
    return {
        "admit": own and registered,
        "refuse": own and registered,
        "record_document": own and application.status == Status.ADMITTED,
    }


def guardian_acts_visible_to(user: User) -> QuerySet[GuardianAct]:
    """§20 acts are personal documents: the representative who filed one sees it, and staff see
    it when the registration it supports is in their scope (§18: the school checks it)."""
    if user.role == Role.APPLICANT:
        return GuardianAct.objects.filter(link__applicant_id=user.person_id)
    supported = applications_visible_to(user).filter(
        child_id=OuterRef("link__child_id"), applicant_id=OuterRef("link__applicant_id")
    )
    return GuardianAct.objects.filter(Exists(supported))
