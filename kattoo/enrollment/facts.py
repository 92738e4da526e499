"""The ORM loader of eligibility facts (every database, every path but the opening minute).

``fastpath.draft_facts`` is the other loader: one SQL read on PostgreSQL. Both must return equal
``Facts`` (``tests/enrollment/test_facts_loaders.py``). The queries per call are fixed: the
facts of many children (a parent's list) or of many schools (the school list) never cost a
query per row.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q

from kattoo.campaigns.models import Campaign
from kattoo.catalog.models import School, Teacher
from kattoo.catalog.selectors import child_family_addresses, microdistrict_school_ids
from kattoo.people.models import ActStatus, ChildLink, GuardianAct, Person, Relation

from .eligibility import Facts
from .models import ACTIVE_STATUSES, Application, Route, SeatPool, Status


def co_twin_filter(child: Person) -> Q | None:
    """§25: the co-twins of a child — born the same day to the same mother, or to the same
    father when the birth act names no mother. The SQL loader writes the same rule."""
    if child.mother_pin:
        parent = Q(mother_pin=child.mother_pin)
    elif child.father_pin:
        parent = Q(father_pin=child.father_pin)
    else:
        return None
    return parent & Q(birth_date=child.birth_date) & ~Q(pk=child.pk)


def parent_pins(child: Person, applicant: Person) -> set[str]:
    """§24: the people whose teaching post brings the child above quota."""
    return {p for p in (child.mother_pin, child.father_pin, applicant.pin) if p}


def children_facts(
    *, campaign: Campaign, applicant: Person, children: list[Person]
) -> dict[int, Facts]:
    """The child-level facts (no school chosen) of an applicant's children, by child id."""
    child_ids = [c.pk for c in children]
    relations = dict(
        ChildLink.objects.filter(applicant=applicant, child_id__in=child_ids).values_list(
            "child_id", "relation"
        )
    )
    representative = Relation.REPRESENTATIVE in relations.values()
    acts: dict[int, set[str]] = defaultdict(set)
    if representative:
        for child_id, status in GuardianAct.objects.filter(
            link__applicant=applicant, link__child_id__in=child_ids
        ).values_list("link__child_id", "status"):
            acts[child_id].add(status)
    active: set[int] = set()
    cancelled: Counter[int] = Counter()
    for child_id, status in Application.objects.filter(
        campaign=campaign, child_id__in=child_ids
    ).values_list("child_id", "status"):
        if status in ACTIVE_STATUSES:
            active.add(child_id)
        elif status == Status.CANCELLED:
            cancelled[child_id] += 1
    wards = _wards_registered(campaign=campaign, applicant=applicant) if representative else set()
    result = {}
    for child in children:
        statuses = acts[child.pk]
        result[child.pk] = Facts(
            birth_from=campaign.birth_from,
            birth_to=campaign.birth_to,
            cancel_limit=campaign.cancel_limit,
            ward_limit=campaign.guardian_child_limit,
            birth_date=child.birth_date,
            child_certificate=bool(child.birth_certificate_number),
            applicant_passport=bool(applicant.passport_number),
            relation=relations.get(child.pk, ""),
            act_on_file=bool(statuses & {ActStatus.PENDING, ActStatus.ACCEPTED}),
            act_accepted=ActStatus.ACCEPTED in statuses,
            wards_registered=(
                len(wards - {child.pk}) if relations.get(child.pk) == Relation.REPRESENTATIVE else 0
            ),
            registered=child.pk in active,
            cancellations=cancelled[child.pk],
        )
    return result


def _wards_registered(*, campaign: Campaign, applicant: Person) -> set[int]:
    """§21: the children this person registered in the campaign as their legal
    representative — not the person's own children, and not a ward the district commission
    placed (§9, §26: the commission's decision, not a registration the representative made;
    a ward who also has a registration the representative made counts by it). A registration
    counts in any status, cancelled or refused too, as before: §21 limits the children a
    representative registers, and a cancelled registration was made. ``fastpath._FACTS``
    counts alike."""
    wards = ChildLink.objects.filter(applicant=applicant, relation=Relation.REPRESENTATIVE)
    return set(
        Application.objects.filter(
            campaign=campaign, applicant=applicant, child_id__in=wards.values("child_id")
        )
        .exclude(route=Route.COMMISSION)
        .values_list("child_id", flat=True)
    )


@dataclass(frozen=True, slots=True)
class RouteSchools:
    """The schools where each route fact holds for a child (§10, §24, §25)."""

    microdistrict: set[int]
    teacher: set[int]
    twin_in_quota: set[int]

    @property
    def any(self) -> set[int]:
        return self.microdistrict | self.teacher | self.twin_in_quota

    def facts_at(self, facts: Facts, school_id: int) -> Facts:
        return dataclasses.replace(
            facts,
            school_id=school_id,
            teacher_parent=school_id in self.teacher,
            twin_in_quota=school_id in self.twin_in_quota,
            in_microdistrict=school_id in self.microdistrict,
        )


def route_schools(*, campaign: Campaign, child: Person, applicant: Person) -> RouteSchools:
    teacher = set(
        Teacher.objects.filter(pin__in=parent_pins(child, applicant)).values_list(
            "school_id", flat=True
        )
    )
    twins = co_twin_filter(child)
    twin_in_quota = (
        set(
            Application.objects.filter(
                campaign=campaign,
                child__in=Person.objects.filter(twins),
                status__in=ACTIVE_STATUSES,
                above_quota=False,
            ).values_list("school_id", flat=True)
        )
        if twins is not None
        else set()
    )
    return RouteSchools(
        microdistrict=microdistrict_school_ids(child_family_addresses(child, applicant)),
        teacher=teacher,
        twin_in_quota=twin_in_quota,
    )


def school_facts(facts: Facts, *, school: School, pool: SeatPool | None) -> Facts:
    return dataclasses.replace(
        facts,
        school_id=school.pk,
        participates=school.participates,
        language_offered=pool is not None and pool.quota_seats > 0,
        free_seats=pool.capacity - pool.taken - pool.held if pool is not None else 0,
    )


def eligibility_facts(
    *,
    campaign: Campaign,
    applicant: Person,
    child: Person,
    school: School,
    pool: SeatPool | None,
) -> Facts:
    """Every fact of one registration: the child's, the school's, the route's. ``pool`` is
    the (school, language) pool the caller read (``None``: the school has none)."""
    facts = children_facts(campaign=campaign, applicant=applicant, children=[child])[child.pk]
    facts = school_facts(facts, school=school, pool=pool)
    routes = route_schools(campaign=campaign, child=child, applicant=applicant)
    return routes.facts_at(facts, school.pk)


# The facts a draft stores (ADR 0029): those no write of the opening minute can change. The
# rest — the campaign's dates and window, participation, the pool, registrations,
# cancellations, a representative's act and wards, whether a co-twin holds a quota seat — is
# read live at submit, from rows the submit reads anyway.
STORED = ("certificate", "passport", "teacher", "microdistrict")


@dataclass(frozen=True, slots=True)
class FactsStamp:
    """The epochs the stored facts are decided at, and the child and applicant as read with
    them (``Draft.facts["stamp"]``)."""

    values: list[int]
    child: Person
    applicant: Person


def facts_stamp(*, school_id: int, child_id: int, applicant_id: int) -> FactsStamp:
    """Read BEFORE the facts the stamp vouches for: a write that changes them bumps an epoch
    in its own transaction (``people.services.family_facts_touch``,
    ``catalog.services.school_facts_touch``), so a write committed after this read makes the
    stamp stale and one committed before it is seen by the facts read after it.

    ADR 0046: on PostgreSQL the child's and the applicant's rows and the link between them are
    locked (``FOR NO KEY UPDATE``, in the order of their ids, as ``family_facts_touch`` locks a
    family) until the draft's save commits. A write of their facts, names, phone or link waits
    for that commit, and the database's triggers then mark the saved draft no longer vouched
    for (``enrollment`` migration 0014); a write that came first is seen by the reads after
    these locks. Call it inside the saving transaction."""
    school_epoch = School.objects.values_list("facts_epoch", flat=True).get(pk=school_id)
    people = {
        person.pk: person
        for person in Person.objects.select_for_update(no_key=True)
        .filter(pk__in=[child_id, applicant_id])
        .order_by("pk")
    }
    list(
        ChildLink.objects.select_for_update(no_key=True)
        .filter(applicant_id=applicant_id, child_id=child_id)
        .values_list("pk", flat=True)
    )
    child, applicant = people[child_id], people[applicant_id]
    return FactsStamp(
        values=[school_id, school_epoch, child.facts_epoch, applicant_id, applicant.facts_epoch],
        child=child,
        applicant=applicant,
    )


def stored_facts(facts: Facts, *, stamp: FactsStamp) -> dict[str, Any]:
    """What ``Draft.facts`` keeps of a draft's facts (decided by the ORM loader) and the
    candidate co-twins, whose quota seat at the school is checked at submit (§25)."""
    twins = co_twin_filter(stamp.child)
    twin_ids = (
        sorted(Person.objects.filter(twins).values_list("pk", flat=True))
        if twins is not None
        else []
    )
    return {
        "stamp": stamp.values,
        "certificate": facts.child_certificate,
        "passport": facts.applicant_passport,
        "teacher": facts.teacher_parent,
        "microdistrict": facts.in_microdistrict,
        "twins": twin_ids,
        # Not a rule: whether the registration's SMS has a number to go to. The submit then
        # needs no decryption of the phone (issue 15); a refresh that changes the phone bumps
        # the family's epochs like any fact (``people.services.FACT_FIELDS``).
        "phone": bool(stamp.applicant.phone),
        **({"vouched": _vouched(facts, stamp=stamp)} if writers_vouch() else {}),
    }


def writers_vouch() -> bool:
    """ADR 0046: drafts are vouched for by their writers where the database's triggers are
    (PostgreSQL, ``enrollment`` migration 0014); so is the short read that relies on them."""
    return connection.vendor == "postgresql"


def _vouched(facts: Facts, *, stamp: FactsStamp) -> dict[str, Any]:
    """What the opening minute's short read takes from the draft instead of the child's link
    and the two person rows: the relation, the child's names and birth date (the applicant's
    phone is the draft's own column, ``stored_columns``). The triggers remove it from every
    draft whose person rows or link a later write changes, so while it is there it holds."""
    child = stamp.child
    return {
        "relation": facts.relation,
        "surname": child.surname,
        "name": child.name,
        "birth_date": child.birth_date.isoformat(),
    }


def stored_columns(facts: Facts, *, stamp: FactsStamp) -> dict[str, Any]:
    """A draft's columns of what it keeps, written together: ``facts`` (``stored_facts``) and
    ``phone``, the applicant's phone, the registration SMS's address, kept with the vouched
    facts (ADR 0046; encrypted at rest and re-encrypted by a key rotation like the person's,
    ADR 0022). A real change of the number is a change of a fact (it bumps the family's
    epochs, ``people.services.FACT_FIELDS``), and the triggers then clear it."""
    return {
        "facts": stored_facts(facts, stamp=stamp),
        "phone": stamp.applicant.phone if writers_vouch() else None,
    }
