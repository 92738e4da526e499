"""Catalog writes other than the import: requests to add a missing microdistrict address."""

from __future__ import annotations

from django.db import transaction

from kattoo.accounts.models import User
from kattoo.audit.services import audit_record
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation
from kattoo.people.models import Person
from kattoo.people.selectors import child_family_addresses

from .models import MicrodistrictRequest, School


@transaction.atomic
def microdistrict_request_file(
    *, user: User, child: Person, school: School, actor: Actor
) -> list[MicrodistrictRequest]:
    """One step for the parent: the family's registered addresses (from the registry, never
    typed) go to the school's work list, one request per address."""
    people = [child]
    if user.person is not None:
        people.append(user.person)
    keys = child_family_addresses(child, user.person)
    if not keys:
        raise RuleViolation("not_found")
    texts = {
        p.address_street_code: p.address_text
        for p in Person.objects.filter(
            pin__in=[p for p in (child.mother_pin, child.father_pin) if p]
        )
    } | {p.address_street_code: p.address_text for p in people}
    requests = []
    for key in keys:
        request, created = MicrodistrictRequest.objects.get_or_create(
            school=school,
            child=child,
            street_code=key.street_code,
            house=key.house,
            defaults={
                "user": user,
                "address_text": texts.get(key.street_code, "")[:300],
                "created_at": clock.now(),
            },
        )
        if created:
            audit_record(
                actor=actor,
                action="microdistrict.request",
                obj=request,
                data={"school": school.pk, "street": key.street_code, "house": key.house},
            )
        requests.append(request)
    return requests
