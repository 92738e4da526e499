"""Reads for registration: what a child may do now, which schools are open to it, pools."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, QuerySet

from kattoo.accounts.models import Role, User
from kattoo.campaigns.models import Campaign
from kattoo.campaigns.selectors import Stage, campaign_stage
from kattoo.catalog.models import School
from kattoo.catalog.selectors import schools_participating
from kattoo.people.models import ChildLink, GuardianAct, Person

from .eligibility import Facts, Refusal, decide
from .facts import children_facts, route_schools
from .models import ACTIVE_STATUSES, Application, SeatPool, Status


@dataclass(slots=True)
class ChildStanding:
    link: ChildLink
    eligible: bool
    reasons: list[str] = field(default_factory=list)
    active_application: Application | None = None
    cancellations_left: int = 0
    refusals: list[Refusal] = field(default_factory=list)


def children_standings(
    *, campaign: Campaign, links: list[ChildLink], stage: Stage | None = None
) -> list[ChildStanding]:
    """Whether each child may be registered now, and every reason why not (API.md): the
    child's own rules of ``eligibility.decide``. A fixed number of queries whatever the
    number of children."""
    stage = stage or campaign_stage(campaign)
    by_applicant: dict[int, list[ChildLink]] = defaultdict(list)
    for link in links:
        by_applicant[link.applicant_id].append(link)
    facts: dict[tuple[int, int], Facts] = {}
    for applicant_links in by_applicant.values():
        applicant = applicant_links[0].applicant
        loaded = children_facts(
            campaign=campaign, applicant=applicant, children=[li.child for li in applicant_links]
        )
        facts.update({(applicant.pk, child_id): f for child_id, f in loaded.items()})
    active = {
        a.child_id: a
        for a in Application.objects.filter(
            campaign=campaign,
            child_id__in=[link.child_id for link in links],
            status__in=ACTIVE_STATUSES,
        ).select_related("school")
    }
    standings = []
    for link in links:
        child_facts = facts[(link.applicant_id, link.child_id)]
        decision = decide(child_facts, stage)
        standings.append(
            ChildStanding(
                link=link,
                eligible=decision.allowed,
                reasons=decision.codes,
                refusals=list(decision.refusals),
                active_application=active.get(link.child_id),
                cancellations_left=child_facts.cancellations_left,
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
    """§21: the schools whose route rule (``eligibility.decide``) admits the child — in stage 1
    (and before it, for drafts) those whose microdistrict holds a family address, the
    teacher-parent's school (§24) and a co-twin's school (§25); from stage 2 every
    participating school. Registration decides with the same facts and rule."""
    stage = stage or campaign_stage(campaign)
    schools = schools_participating()
    if stage in (Stage.STAGE2, Stage.CLOSED):
        return schools  # §27: the route rule admits every school from stage 2
    base = children_facts(campaign=campaign, applicant=applicant, children=[child])[child.pk]
    routes = route_schools(campaign=campaign, child=child, applicant=applicant)
    ids = {
        school_id
        for school_id in routes.any
        if decide(routes.facts_at(base, school_id), stage).route is not None
    }
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
