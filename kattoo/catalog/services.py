"""Catalog writes other than the import: requests to add a missing microdistrict address, the
teacher roster (§24)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from kattoo.accounts.models import Role, User
from kattoo.audit.services import audit_record
from kattoo.campaigns.models import Campaign
from kattoo.campaigns.selectors import campaign_quota_lock_at
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import FieldError, RuleViolation
from kattoo.integrations.registry.pin import InvalidPin, pin_parse
from kattoo.people.models import Person
from kattoo.people.services import person_refresh

from .models import (
    AdditionStatus,
    MicrodistrictAddress,
    MicrodistrictRequest,
    Parity,
    RequestStatus,
    School,
    SchoolVerification,
    Street,
    Teacher,
    TeacherAddition,
)
from .selectors import child_family_addresses


def school_facts_touch(school_ids: list[int] | None = None) -> None:
    """Mark stale the eligibility facts drafts stored for these schools (``None``: every
    school — a catalog import), inside the transaction that changes the teacher roster or a
    microdistrict (enrollment ADR 0029): the submit then reads the full facts again."""
    schools = (
        School.objects.all() if school_ids is None else School.objects.filter(pk__in=school_ids)
    )
    schools.update(facts_epoch=F("facts_epoch") + 1)


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
    for key in dict.fromkeys(keys):  # one request per distinct address
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


@transaction.atomic
def microdistrict_address_add(
    *,
    school: School,
    street: Street,
    house_from: int | None,
    house_to: int | None,
    parity: str = Parity.ALL,
    note: str,
    actor: Actor,
    request: MicrodistrictRequest | None = None,
) -> MicrodistrictAddress:
    """§19, §21: the school adds a missing address, with the evidence noted; a parent's request
    it answers is marked done."""
    if (house_from is None) != (house_to is None) or (
        house_from is not None and house_to is not None and house_from > house_to
    ):
        raise FieldError(
            "house_to", "invalid_range", _("Give both house numbers, the first not above the last.")
        )
    if not note.strip():
        raise FieldError("note", "required", _("Note the evidence for the address."))
    if request is not None and (
        request.school_id != school.pk or request.status != RequestStatus.PENDING
    ):
        raise RuleViolation("invalid_status_transition")
    school_facts_touch([school.pk])
    line = MicrodistrictAddress.objects.create(
        school=school,
        street=street,
        house_from=house_from,
        house_to=house_to,
        parity=parity,
        note=note.strip()[:300],
    )
    if request is not None:
        MicrodistrictRequest.objects.filter(pk=request.pk).update(
            status=RequestStatus.ADDED, handled_at=clock.now(), note=note.strip()[:300]
        )
    audit_record(
        actor=actor,
        action="microdistrict.add",
        obj=line,
        data={
            "school": school.pk,
            "street": street.code,
            "from": house_from,
            "to": house_to,
            "parity": parity,
            "note": note,
            "request": request.pk if request else None,
        },
    )
    return line


@transaction.atomic
def microdistrict_request_reject(*, request: MicrodistrictRequest, note: str, actor: Actor) -> None:
    if request.status != RequestStatus.PENDING:
        raise RuleViolation("invalid_status_transition")
    MicrodistrictRequest.objects.filter(pk=request.pk).update(
        status=RequestStatus.REJECTED, handled_at=clock.now(), note=note.strip()[:300]
    )
    audit_record(
        actor=actor, action="microdistrict.request_reject", obj=request, data={"note": note}
    )


# The age of majority (Civil Code of the Kyrgyz Republic, art. 56): a pedagogical worker is an
# adult. A law's number, not a campaign's.
ADULT_AGE = 18


def _age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def teacher_roster_frozen(campaign: Campaign | None) -> bool:
    """§24, §17: the roster is frozen from the quota lock on; later additions wait for the
    district's approval."""
    return campaign is not None and clock.now() >= campaign_quota_lock_at(campaign)


def teacher_add(
    *, school: School, pin: str, full_name: str, actor: Actor
) -> Teacher | TeacherAddition:
    """§24: the roster a teacher's child is admitted against, above quota. The PIN must be an
    adult the registry knows; the name is the registry's. Before the quota lock the teacher
    joins the roster at once (a ``Teacher``); from the lock on the roster is frozen and the
    addition waits for the district (a pending ``TeacherAddition``)."""
    try:
        pin_parse(pin)
    except InvalidPin as exc:
        raise FieldError(
            "pin", "invalid_pin", _("A PIN is 14 digits: sex, date of birth DDMMYYYY and a number.")
        ) from exc
    existing = Teacher.objects.filter(school=school, pin=pin).first()
    if existing is not None:
        return existing
    # The registry call first, outside any transaction (people.services.person_refresh).
    person = person_refresh(pin=pin, actor=actor)
    if _age_on(person.birth_date, clock.today()) < ADULT_AGE:
        raise RuleViolation("teacher_not_adult")
    name = person.full_name or full_name.strip()
    campaign = Campaign.objects.filter(is_active=True).first()
    with transaction.atomic():
        if teacher_roster_frozen(campaign):
            assert campaign is not None
            addition = TeacherAddition.objects.filter(
                school=school, pin=pin, status=AdditionStatus.PENDING
            ).first()
            if addition is None:
                addition = TeacherAddition.objects.create(
                    school=school,
                    campaign=campaign,
                    pin=pin,
                    full_name=name[:300],
                    requested_by=actor.user,
                    requested_at=clock.now(),
                )
                audit_record(
                    actor=actor,
                    action="teacher.addition_request",
                    obj=addition,
                    data={"school": school.pk},
                )
            return addition
        teacher, created = Teacher.objects.get_or_create(
            school=school, pin=pin, defaults={"full_name": name[:300], "added_at": clock.now()}
        )
        if created:
            school_facts_touch([school.pk])
            audit_record(actor=actor, action="teacher.add", obj=teacher, data={"school": school.pk})
        return teacher


@transaction.atomic
def teacher_addition_decide(
    *, addition: TeacherAddition, officer: User, approve: bool, note: str, actor: Actor
) -> TeacherAddition:
    """§24, §17: the district approves (the teacher joins the roster now) or rejects a teacher
    the school added after the quota lock. Rejecting needs a reason."""
    addition = (
        TeacherAddition.objects.select_for_update(of=("self",))
        .select_related("school")
        .get(pk=addition.pk)
    )
    if officer.role != Role.DISTRICT or addition.school.district_id != officer.district_id:
        raise RuleViolation("not_found")
    if addition.status != AdditionStatus.PENDING:
        raise RuleViolation("invalid_status_transition")
    note = note.strip()[:300]
    if not approve and not note:
        raise FieldError("note", "required", _("State why the addition is rejected."))
    now = clock.now()
    if approve:
        teacher, _created = Teacher.objects.get_or_create(
            school=addition.school,
            pin=addition.pin,
            defaults={"full_name": addition.full_name, "added_at": now},
        )
        addition.teacher = teacher
        school_facts_touch([addition.school_id])
    addition.status = AdditionStatus.APPROVED if approve else AdditionStatus.REJECTED
    addition.decided_by, addition.decided_at, addition.note = officer, now, note
    addition.save(update_fields=["status", "decided_by", "decided_at", "note", "teacher"])
    audit_record(
        actor=actor,
        action="teacher.addition_approve" if approve else "teacher.addition_reject",
        obj=addition,
        data={"school": addition.school_id, "note": note},
    )
    return addition


@transaction.atomic
def teacher_remove(*, teacher: Teacher, actor: Actor) -> None:
    school_facts_touch([teacher.school_id])
    audit_record(
        actor=actor, action="teacher.remove", obj=teacher, data={"school": teacher.school_id}
    )
    teacher.delete()


@transaction.atomic
def school_verify(
    *, school: School, campaign: Campaign, note: str, actor: Actor
) -> SchoolVerification:
    """§17: the district officer confirms the school's name, address and microdistrict."""
    user = actor.user
    if user is None or user.role != "district" or user.district_id != school.district_id:
        raise RuleViolation("not_found")
    verification, _created = SchoolVerification.objects.update_or_create(
        school=school,
        campaign=campaign,
        defaults={"verified_by": user, "verified_at": clock.now(), "note": note.strip()[:300]},
    )
    audit_record(
        actor=actor,
        action="school.verify",
        obj=school,
        data={"campaign": campaign.pk, "note": note},
    )
    return verification
