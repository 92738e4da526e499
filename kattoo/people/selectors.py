from __future__ import annotations

from django.db.models import QuerySet

from kattoo.catalog.selectors import AddressKey

from .models import ActStatus, ChildLink, GuardianAct, Person


def person_address_key(person: Person) -> AddressKey | None:
    if not person.address_street_code:
        return None
    return AddressKey(street_code=person.address_street_code, house=person.address_house)


def child_links_of(applicant: Person) -> QuerySet[ChildLink]:
    return (
        ChildLink.objects.filter(applicant=applicant)
        .select_related("child", "applicant")
        .order_by("child__birth_date", "child__pin")
    )


def child_family_addresses(child: Person, applicant: Person | None = None) -> list[AddressKey]:
    """§10 stage 1: the registered addresses of the child, of either parent on the birth act,
    and of the applicant when a legal representative acts (RULES.md §5: either reading)."""
    pins = {p for p in (child.mother_pin, child.father_pin) if p}
    people = [child, *Person.objects.filter(pin__in=pins)]
    if applicant is not None and applicant.pk not in {p.pk for p in people}:
        people.append(applicant)
    keys = [person_address_key(p) for p in people]
    return [k for k in keys if k is not None]


def co_twins(child: Person) -> QuerySet[Person]:
    """§25: children of the same mother (or father) born the same day."""
    parent_filter = (
        {"mother_pin": child.mother_pin} if child.mother_pin else {"father_pin": child.father_pin}
    )
    if not (child.mother_pin or child.father_pin):
        return Person.objects.none()
    return Person.objects.filter(birth_date=child.birth_date, **parent_filter).exclude(pk=child.pk)


def identity_documents_present(*, child: Person, applicant: Person) -> bool:
    """§9: without documents proving the identity of the child or of the applicant, only the
    Commission on Children's Affairs places the child."""
    return bool(child.birth_certificate_number) and bool(applicant.passport_number)


def guardian_act_valid(link: ChildLink) -> bool:
    """§20: the representative's act is on file and the school has not rejected it (§18)."""
    return GuardianAct.objects.filter(
        link=link, status__in=[ActStatus.PENDING, ActStatus.ACCEPTED]
    ).exists()
