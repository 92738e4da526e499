"""Catalog writes other than the import: requests to add a missing microdistrict address, the
teacher roster (§24)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from kattoo.audit.services import audit_record
from kattoo.campaigns.models import Campaign
from kattoo.campaigns.selectors import campaign_quota_lock_at
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import FieldError, RuleViolation
from kattoo.core.roles import Role
from kattoo.integrations.registry.pin import InvalidPin, pin_parse
from kattoo.people.models import Person
from kattoo.people.services import registry_people

from .models import (
    AdditionStatus,
    MicrodistrictAddress,
    MicrodistrictRequest,
    Parity,
    RequestStatus,
    RosterChangeKind,
    School,
    SchoolVerification,
    Street,
    Teacher,
    TeacherAddition,
)
from .selectors import child_family_addresses

if TYPE_CHECKING:
    from kattoo.accounts.models import User


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


def teacher_roster_campaign() -> Campaign | None:
    """The campaign whose quota lock freezes the roster: the active one (the roster serves the
    campaign under way, whatever campaign a catalog file is sent to)."""
    return Campaign.objects.filter(is_active=True).first()


def teacher_roster_frozen(campaign: Campaign | None) -> bool:
    """§24, §17: the roster is frozen from the quota lock on; later additions and removals
    wait for the district's approval."""
    return campaign is not None and clock.now() >= campaign_quota_lock_at(campaign)


@dataclass(frozen=True, slots=True)
class TeacherCheck:
    """The registry's verdict on a teacher's PIN (§24): the registry's name of a living adult,
    or the refusal code ("person_not_found", "teacher_not_adult")."""

    pin: str
    full_name: str = ""
    refusal: str = ""


def teachers_check(*, pins: Iterable[str], actor: Actor) -> dict[str, TeacherCheck]:
    """§24: every PIN put on a roster — one by one or from a catalog file — is checked with
    the registry: a person it knows, alive, and an adult. One registry call per distinct PIN,
    outside any transaction; an outage raises ``registry_unavailable`` and nothing is added
    unchecked."""
    today = clock.today()
    checks: dict[str, TeacherCheck] = {}
    for pin, record in registry_people(pins=pins, actor=actor).items():
        if record is None or record.death_date is not None:
            checks[pin] = TeacherCheck(pin, refusal="person_not_found")
        elif _age_on(record.date_of_birth, today) < ADULT_AGE:
            checks[pin] = TeacherCheck(pin, refusal="teacher_not_adult")
        else:
            name = " ".join(p for p in (record.surname, record.name, record.patronymic) if p)
            checks[pin] = TeacherCheck(pin, full_name=name)
    return checks


def _roster_lock(school_id: int) -> None:
    """One roster change of a school at a time (two clicks, a file and a click): the school's
    row, FOR NO KEY UPDATE, so registrations referring to the school are not held up."""
    list(School.objects.select_for_update(no_key=True).filter(pk=school_id).values_list("pk"))


def _pending_change(school_id: int, pin: str) -> TeacherAddition | None:
    return TeacherAddition.objects.filter(
        school_id=school_id, pin=pin, status=AdditionStatus.PENDING
    ).first()


def teacher_roster_add(
    *,
    school_id: int,
    check: TeacherCheck,
    campaign: Campaign | None,
    actor: Actor,
    source: str = "",
    touch: bool = True,
) -> Teacher | TeacherAddition:
    """§24: put a checked teacher on the roster, inside the caller's transaction with its audit
    record. Before the quota lock the teacher joins at once (a ``Teacher``); from the lock on
    the roster is frozen and the addition waits for the district (a pending
    ``TeacherAddition``; asked again, the same one). ``source`` is "import" for a catalog
    file's row. A teacher who joins makes the school's stored draft facts stale
    (``school_facts_touch``); a caller adding many rows passes ``touch=False`` and touches
    each school once itself (the catalog import)."""
    if check.refusal:
        raise RuleViolation(check.refusal)
    _roster_lock(school_id)
    pin, name = check.pin, check.full_name[:300]
    data: dict[str, Any] = {"school": school_id}
    if source:
        data["source"] = source
    if teacher_roster_frozen(campaign):
        assert campaign is not None
        existing = Teacher.objects.filter(school_id=school_id, pin=pin).first()
        if existing is not None:
            return existing
        pending = _pending_change(school_id, pin)
        if pending is not None:
            return pending
        addition = TeacherAddition.objects.create(
            school_id=school_id,
            campaign=campaign,
            kind=RosterChangeKind.ADD,
            pin=pin,
            full_name=name,
            requested_by=actor.user,
            requested_at=clock.now(),
        )
        audit_record(actor=actor, action="teacher.addition_request", obj=addition, data=data)
        return addition
    teacher, created = Teacher.objects.get_or_create(
        school_id=school_id, pin=pin, defaults={"full_name": name, "added_at": clock.now()}
    )
    if created:
        if touch:
            school_facts_touch([school_id])
        audit_record(actor=actor, action="teacher.add", obj=teacher, data=data)
    return teacher


def teacher_add(
    *, school: School, pin: str, full_name: str, actor: Actor
) -> Teacher | TeacherAddition:
    """§24: the roster a teacher's child is admitted against, above quota. The PIN must be an
    adult the registry knows; the name is the registry's (``full_name`` typed by the school
    is not trusted). See ``teacher_roster_add`` for the quota lock."""
    try:
        pin_parse(pin)
    except InvalidPin as exc:
        raise FieldError(
            "pin", "invalid_pin", _("A PIN is 14 digits: sex, date of birth DDMMYYYY and a number.")
        ) from exc
    existing = Teacher.objects.filter(school=school, pin=pin).first()
    if existing is not None:
        return existing
    # The registry call first, outside any transaction.
    check = teachers_check(pins=[pin], actor=actor)[pin]
    campaign = teacher_roster_campaign()
    with transaction.atomic():
        return teacher_roster_add(school_id=school.pk, check=check, campaign=campaign, actor=actor)


@transaction.atomic
def teacher_remove(*, teacher: Teacher, actor: Actor, ground: str = "") -> TeacherAddition | None:
    """§24: before the quota lock the school removes a teacher at once (None). From the lock
    on a removal changes priorities and, with a re-addition, would get round the freeze: it
    waits for the district (a pending ``TeacherAddition`` of kind "remove", with the school's
    ground, which is then required); the teacher stays on the roster until it is approved."""
    campaign = teacher_roster_campaign()
    ground = ground.strip()[:300]
    _roster_lock(teacher.school_id)
    if not Teacher.objects.filter(pk=teacher.pk).exists():
        raise RuleViolation("not_found")  # removed meanwhile
    if not teacher_roster_frozen(campaign):
        audit_record(
            actor=actor,
            action="teacher.remove",
            obj=teacher,
            data={"school": teacher.school_id, "ground": ground},
        )
        school_facts_touch([teacher.school_id])
        teacher.delete()
        return None
    assert campaign is not None
    pending = _pending_change(teacher.school_id, teacher.pin)
    if pending is not None:
        if pending.kind == RosterChangeKind.REMOVE:
            return pending
        raise RuleViolation("invalid_status_transition")
    if not ground:
        raise FieldError(
            "ground",
            "required",
            _("The roster is frozen since the quota lock: state the ground for the removal."),
        )
    removal = TeacherAddition.objects.create(
        school_id=teacher.school_id,
        campaign=campaign,
        kind=RosterChangeKind.REMOVE,
        pin=teacher.pin,
        full_name=teacher.full_name,
        ground=ground,
        teacher=teacher,
        requested_by=actor.user,
        requested_at=clock.now(),
    )
    audit_record(
        actor=actor,
        action="teacher.removal_request",
        obj=removal,
        data={"school": teacher.school_id, "ground": ground},
    )
    return removal


_DECISION_ACTIONS = {
    (RosterChangeKind.ADD, True): "teacher.addition_approve",
    (RosterChangeKind.ADD, False): "teacher.addition_reject",
    (RosterChangeKind.REMOVE, True): "teacher.removal_approve",
    (RosterChangeKind.REMOVE, False): "teacher.removal_reject",
}


@transaction.atomic
def teacher_addition_decide(
    *, addition: TeacherAddition, officer: User, approve: bool, note: str, actor: Actor
) -> TeacherAddition:
    """§24, §17: the district approves or rejects a change a school made to its frozen roster:
    an approved addition joins the roster now, an approved removal leaves it now. Rejecting
    needs a reason."""
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
        raise FieldError("note", "required", _("State why the change is rejected."))
    now = clock.now()
    _roster_lock(addition.school_id)
    if approve and addition.kind == RosterChangeKind.ADD:
        teacher, _created = Teacher.objects.get_or_create(
            school=addition.school,
            pin=addition.pin,
            defaults={"full_name": addition.full_name, "added_at": now},
        )
        addition.teacher = teacher
    elif approve:
        Teacher.objects.filter(school=addition.school, pin=addition.pin).delete()
        addition.teacher = None
    if approve:
        school_facts_touch([addition.school_id])
    addition.status = AdditionStatus.APPROVED if approve else AdditionStatus.REJECTED
    addition.decided_by, addition.decided_at, addition.note = officer, now, note
    addition.save(update_fields=["status", "decided_by", "decided_at", "note", "teacher"])
    audit_record(
        actor=actor,
        action=_DECISION_ACTIONS[RosterChangeKind(addition.kind), approve],
        obj=addition,
        data={"school": addition.school_id, "note": note},
    )
    return addition


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
