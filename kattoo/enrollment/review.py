"""The "check your answers" step before a registration (or a prepared draft): what the registration
would be, read with the very rule that registers (``services.registration_plan`` →
``eligibility.decide``), and which registered address (прописка) made the school open to the
child (§10). Nothing is written: the parent confirms on the next request, and the seat is
taken (or not) then, by the one statement of ADR 0002.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from kattoo.accounts.models import User
from kattoo.campaigns.models import Campaign
from kattoo.campaigns.selectors import Stage, campaign_stage
from kattoo.catalog.models import School
from kattoo.catalog.selectors import microdistrict_school_ids, person_address_key
from kattoo.people.models import Person

from .models import Route
from .services import RegistrationPlan, registration_plan


@dataclass(frozen=True, slots=True)
class AddressUsed:
    """The registered address that lies in the school's microdistrict, and whose it is:
    ``child``, ``mother``, ``father`` or ``applicant`` (the person registering)."""

    whose: str
    text: str


@dataclass(frozen=True, slots=True)
class RegistrationReview:
    plan: RegistrationPlan
    stage: Stage
    address: AddressUsed | None
    cancellations_left: int
    cancel_limit: int

    @property
    def route(self) -> Route:
        return self.plan.decision.route

    @property
    def above_quota(self) -> bool:
        return self.plan.decision.above_quota

    @property
    def draft(self) -> bool:
        """Before the opening the choice is prepared (a draft), not registered."""
        return self.stage == Stage.BEFORE


def _family(child: Person, applicant: Person) -> list[tuple[str, Person]]:
    """The people whose registered address counts for the child (§10), in the order of
    ``catalog.selectors.child_family_addresses``: the child, the parents on the birth act, the
    applicant; the applicant is called so whichever of them they are."""
    parents = {
        p.pin: p
        for p in Person.objects.filter(
            pin__in=[p for p in (child.mother_pin, child.father_pin) if p]
        )
    }
    people = [
        ("child", child),
        ("mother", parents.get(child.mother_pin)),
        ("father", parents.get(child.father_pin)),
        ("applicant", applicant),
    ]
    seen: set[int] = set()
    family = []
    for whose, person in people:
        if person is None or person.pk in seen:
            continue
        seen.add(person.pk)
        family.append(("applicant" if person.pk == applicant.pk else whose, person))
    return family


def family_addresses(*, child: Person, applicant: Person) -> list[AddressUsed]:
    """The family's registered addresses as the registry holds them (one per distinct street
    and house): what a request to add an address to a microdistrict sends (§19, §21)."""
    result: dict[object, AddressUsed] = {}
    for whose, person in _family(child, applicant):
        key = person_address_key(person)
        if key is not None and key not in result:
            result[key] = AddressUsed(whose=whose, text=person.address_text)
    return list(result.values())


def eligibility_address(*, child: Person, applicant: Person, school: School) -> AddressUsed | None:
    """§10: the first of the family's registered addresses that the school's microdistrict
    holds, and whose it is. At most five small queries."""
    for whose, person in _family(child, applicant):
        key = person_address_key(person)
        if key is not None and school.pk in microdistrict_school_ids([key]):
            return AddressUsed(whose=whose, text=person.address_text)
    return None


def registration_review(
    *, campaign: Campaign, user: User, child: Person, school: School, language: str
) -> RegistrationReview:
    """What registering ``child`` to (``school``, ``language``) would be now — or, before the
    opening, what the prepared draft would be at the opening. Raises the refusal the
    registration itself would raise."""
    stage = campaign_stage(campaign)
    # A representative's plan takes a row lock (§21), which needs a transaction; it ends here.
    with transaction.atomic():
        plan = registration_plan(
            campaign=campaign,
            user=user,
            child=child,
            school=school,
            language=language,
            stage=stage,
            require_open=False,
        )
    address = (
        eligibility_address(child=child, applicant=plan.applicant, school=school)
        if plan.decision.route == Route.MICRODISTRICT
        else None
    )
    return RegistrationReview(
        plan=plan,
        stage=stage,
        address=address,
        cancellations_left=plan.facts.cancellations_left,
        cancel_limit=campaign.cancel_limit,
    )
