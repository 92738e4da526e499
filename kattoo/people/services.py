"""Writes of registry data: people and the applicant's links to children (§7, §20).

Every answer is cached with its fetch time and X-Road id; every write is audited.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable, Mapping

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from kattoo.audit.services import audit_record
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import FieldError, RuleViolation
from kattoo.integrations.registry.client import registry
from kattoo.integrations.registry.errors import (
    RegistryNotFound,
    RegistryRejected,
    RegistryUnavailable,
)
from kattoo.integrations.registry.types import BirthActRecord, PersonRecord, RequestContext

from .models import UPLOADED_ACT_KINDS, ActStatus, ChildLink, GuardianAct, Person, Relation


def _context(actor: Actor, issue: str = "") -> RequestContext:
    person = getattr(actor.user, "person", None) if actor.user is not None else None
    return RequestContext(user_pin=f"KG{person.pin}" if person else "", issue=issue)


def _fetch_person_fields(
    pin: str, ctx: RequestContext, *, with_passport: bool, meta: dict[str, str] | None = None
) -> dict[str, object]:
    """The person as the registry answers now; ``meta`` receives the X-Road ids of the answer
    (X-Road-Id, X-Road-Request-Id, X-Road-Request-Hash) for the audit trail."""
    client = registry()
    person = client.person(pin, ctx)
    address = client.address(pin, ctx).value
    p = person.value
    if meta is not None:
        meta.update(
            xroad_id=person.xroad_id,
            xroad_request_id=getattr(person, "request_id", ""),
            xroad_request_hash=person.request_hash,
        )
    fields: dict[str, object] = {
        "surname": p.surname,
        "name": p.name,
        "patronymic": p.patronymic,
        "sex": "F" if p.gender.upper().startswith("F") else "M",
        "birth_date": p.date_of_birth,
        "address_text": address.text if address else "",
        "address_settlement_code": address.village_id if address else "",
        "address_street_code": address.street_id if address else "",
        "address_house": address.house if address else "",
        "address_flat": address.flat if address else "",
        "address_registered_on": address.date_created if address else None,
        "fetched_at": person.fetched_at or clock.now(),
        "xroad_id": person.xroad_id,
    }
    if with_passport:
        passport = client.passport(pin, ctx).value
        contacts = client.contacts(pin, ctx).value
        fields.update(
            passport_series=passport.series if passport else "",
            passport_number=passport.number if passport else "",
            passport_expires=passport.expired_date if passport else None,
            phone=contacts.phone,
            email=contacts.email,
        )
    return fields


def _birth_act_fields(act: BirthActRecord) -> dict[str, object]:
    return {
        "birth_certificate_series": act.certificate_series,
        "birth_certificate_number": act.certificate_number,
        "birth_certificate_date": act.act_date,
        "birth_certificate_issuer": act.issuer,
        "mother_pin": act.mother_pin,
        "father_pin": act.father_pin,
    }


# The registry fields a child's eligibility facts read (§9 documents, §10 addresses, §25 co-twins
# by parent and birth date; enrollment.facts), and the applicant's phone, whose presence a
# draft's stored facts keep for the registration's SMS.
FACT_FIELDS = (
    "birth_date",
    "address_street_code",
    "address_house",
    "mother_pin",
    "father_pin",
    "birth_certificate_number",
    "passport_number",
    "phone",
)


def family_facts_touch(written: Mapping[str, Mapping[str, object]]) -> None:
    """Mark stale the eligibility facts that drafts stored for the families of the people about
    to be written (``written``: PIN -> the fields written; enrollment ADR 0029) — when the
    write changes a fact: a new person, or a new value of ``FACT_FIELDS`` (a sign-in's refresh
    of unchanged data marks nothing). A child's stored facts read their own registry data, the
    applicant's, both parents' addresses and their co-twins (people born to the same parent),
    so the epoch is bumped on the people written, their children, and everyone sharing a
    parent with them — by the parents before and after the write. Call it inside the writing
    transaction, before the write: the rows are locked in one order (two refreshes of a family
    never deadlock), and a draft prepared meanwhile either sees the new data or an epoch that
    no longer matches."""
    before = {
        p.pin: p for p in Person.objects.filter(pin__in=list(written)).only("pin", *FACT_FIELDS)
    }

    def text(value: object) -> str:
        return "" if value is None else str(value)

    changed = {
        pin: fields
        for pin, fields in written.items()
        if pin not in before
        or any(
            text(fields[name]) != text(getattr(before[pin], name))
            for name in FACT_FIELDS
            if name in fields
        )
    }
    if not changed:
        return
    pins = sorted(changed)
    parents = {
        text(source.get(name) if isinstance(source, Mapping) else getattr(source, name))
        for source in [*changed.values(), *(before[p] for p in pins if p in before)]
        for name in ("mother_pin", "father_pin")
    }
    pins_and_parents = sorted((parents - {""}) | set(pins))
    family = (
        Q(pin__in=pins) | Q(mother_pin__in=pins_and_parents) | Q(father_pin__in=pins_and_parents)
    )
    ids = list(
        Person.objects.select_for_update(no_key=True)
        .filter(family)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    Person.objects.filter(pk__in=ids).update(facts_epoch=F("facts_epoch") + 1)


def person_refresh(*, pin: str, actor: Actor, applicant: bool = False) -> Person:
    """Fetch a person from the registry and store it. Registry calls happen before the
    transaction, so a registry failure writes nothing (``registry_unavailable``, or
    ``registry_rejected`` when the registry refuses the request itself)."""
    ctx = _context(actor)
    try:
        meta: dict[str, str] = {}
        fields = _fetch_person_fields(pin, ctx, with_passport=applicant, meta=meta)
        if not applicant:
            with contextlib.suppress(RegistryNotFound):  # an adult has no birth act here
                fields.update(_birth_act_fields(registry().birth_act(pin, ctx).value))
    except RegistryNotFound as exc:
        raise RuleViolation("person_not_found") from exc
    except RegistryUnavailable as exc:
        raise RuleViolation("registry_unavailable") from exc
    except RegistryRejected as exc:  # the registry refused the request itself: not a 500
        raise RuleViolation("registry_rejected") from exc
    with transaction.atomic():
        family_facts_touch({pin: fields})
        person, created = Person.objects.update_or_create(pin=pin, defaults=fields)
        audit_record(
            actor=actor,
            action="person.refresh",
            obj=person,
            data={"created": created, **meta},
        )
    return person


def registry_people(*, pins: Iterable[str], actor: Actor) -> dict[str, PersonRecord | None]:
    """The registry's person record of each PIN (None: the registry has no such person), one
    call of its person service per distinct PIN and nothing stored: a check, not a refresh.
    Call it outside any transaction. The first failure stops the lot: ``registry_unavailable``
    (or ``registry_rejected``) is raised and no answer is trusted half-way."""
    ctx = _context(actor)
    client = registry()
    found: dict[str, PersonRecord | None] = {}
    for pin in dict.fromkeys(pins):
        try:
            found[pin] = client.person(pin, ctx).value
        except RegistryNotFound:
            found[pin] = None
        except RegistryUnavailable as exc:
            raise RuleViolation("registry_unavailable") from exc
        except RegistryRejected as exc:
            raise RuleViolation("registry_rejected") from exc
    return found


def applicant_children_sync(*, applicant: Person, actor: Actor) -> list[ChildLink]:
    """Link the children the registry lists for the applicant: children by the birth act
    (the applicant is the mother or father there) and wards of a legal representative (§20)."""
    ctx = _context(actor)
    client = registry()
    try:
        family = client.family_members(applicant.pin, ctx)
        found: list[tuple[str, Relation, dict[str, object], dict[str, object]]] = []
        other_parents: dict[str, dict[str, object]] = {}
        for member in family.value:
            act = client.birth_act(member.pin, ctx).value
            if member.relation == "child":
                if act.mother_pin == applicant.pin:
                    relation = Relation.MOTHER
                elif act.father_pin == applicant.pin:
                    relation = Relation.FATHER
                else:
                    continue  # the birth act is the proof of parenthood (§20)
            else:
                relation = Relation.REPRESENTATIVE
            found.append(
                (
                    member.pin,
                    relation,
                    _fetch_person_fields(member.pin, ctx, with_passport=False),
                    _birth_act_fields(act),
                )
            )
            # The other parent's registered address also opens stage 1 schools (§10).
            for parent_pin in (act.mother_pin, act.father_pin):
                if parent_pin and parent_pin != applicant.pin and parent_pin not in other_parents:
                    try:
                        other_parents[parent_pin] = _fetch_person_fields(
                            parent_pin, ctx, with_passport=False
                        )
                    except RegistryNotFound:
                        continue
    except RegistryNotFound:
        found, other_parents = [], {}
    except RegistryUnavailable as exc:
        raise RuleViolation("registry_unavailable") from exc
    except RegistryRejected as exc:  # the registry refused the request itself: not a 500
        raise RuleViolation("registry_rejected") from exc

    links: list[ChildLink] = []
    with transaction.atomic():
        family_facts_touch(
            {
                **other_parents,
                **{pin: {**fields, **act_fields} for pin, _r, fields, act_fields in found},
            }
        )
        for pin, fields in other_parents.items():
            Person.objects.update_or_create(pin=pin, defaults=fields)
        for pin, relation, fields, act_fields in found:
            child, _ = Person.objects.update_or_create(pin=pin, defaults={**fields, **act_fields})
            link, created = ChildLink.objects.update_or_create(
                applicant=applicant,
                child=child,
                defaults={
                    "relation": relation,
                    "verified_at": clock.now(),
                    "xroad_id": family.xroad_id,
                },
            )
            if created:
                audit_record(
                    actor=actor,
                    action="child.link",
                    obj=link,
                    data={"relation": relation, "source": "family-members"},
                )
            links.append(link)
    return links


def child_link_by_certificate(
    *, applicant: Person, pin: str, certificate_series: str, certificate_number: str, actor: Actor
) -> ChildLink:
    """§20: a child missing from the account is linked by the birth certificate, after the
    registry confirms the certificate and that the applicant is a parent on the birth act."""
    ctx = _context(actor)
    try:
        act = registry().birth_act(pin, ctx)
        fields = _fetch_person_fields(pin, ctx, with_passport=False)
    except RegistryNotFound as exc:
        raise RuleViolation("child_not_found") from exc
    except RegistryUnavailable as exc:
        raise RuleViolation("registry_unavailable") from exc
    except RegistryRejected as exc:  # the registry refused the request itself: not a 500
        raise RuleViolation("registry_rejected") from exc
    record = act.value
    if (
        record.certificate_series.strip().upper() != certificate_series.strip().upper()
        or record.certificate_number.strip() != certificate_number.strip()
    ):
        raise RuleViolation("child_not_found")
    if applicant.pin == record.mother_pin:
        relation = Relation.MOTHER
    elif applicant.pin == record.father_pin:
        relation = Relation.FATHER
    else:
        raise RuleViolation("not_your_child")
    with transaction.atomic():
        family_facts_touch({pin: {**fields, **_birth_act_fields(record)}})
        child, _ = Person.objects.update_or_create(
            pin=pin, defaults={**fields, **_birth_act_fields(record)}
        )
        link, _ = ChildLink.objects.update_or_create(
            applicant=applicant,
            child=child,
            defaults={"relation": relation, "verified_at": clock.now(), "xroad_id": act.xroad_id},
        )
        audit_record(
            actor=actor,
            action="child.link",
            obj=link,
            data={"relation": relation, "source": "birth_certificate", "xroad_id": act.xroad_id},
        )
    return link


# §20: only PDF or an image of the act; the type is read from the bytes, never trusted
# from the file name or the client's Content-Type.
_SIGNATURES = {b"%PDF-": "pdf", b"\xff\xd8\xff": "jpeg", b"\x89PNG\r\n\x1a\n": "png"}


def document_kind_sniff(head: bytes) -> str | None:
    return next((kind for magic, kind in _SIGNATURES.items() if head.startswith(magic)), None)


def _file_sha256(file: UploadedFile) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def guardian_act_upload(
    *,
    link: ChildLink,
    kind: str,
    number: str,
    issued_on: dt.date | None,
    file: UploadedFile,
    actor: Actor,
) -> GuardianAct:
    """A legal representative files the act proving the status (§20). It waits for the
    school's check (§18); an earlier act that is not accepted is superseded."""
    if link.relation != Relation.REPRESENTATIVE:
        raise RuleViolation("forbidden")
    if kind not in UPLOADED_ACT_KINDS:
        raise FieldError(
            "kind",
            "invalid_choice",
            _("Only a court act or an act of the social development authority is accepted."),
        )
    # The act exists before it is filed: a later date is a typing error that would reach the
    # school's check (§18) and the fraud signals as the act's date. Today in Bishkek, as a
    # commission's decision (``commission.services.commission_place``).
    if issued_on is not None and issued_on > clock.today():
        raise FieldError("issued_on", "in_future", _("The date cannot be later than today."))
    limit = settings.KATTOO_UPLOAD_MAX_BYTES
    if file.size is None or file.size > limit:
        raise FieldError(
            "file",
            "file_too_large",
            _("The file is larger than %(mb)d MB.") % {"mb": limit // 1_000_000},
        )
    file.seek(0)
    file_type = document_kind_sniff(file.read(16))
    file.seek(0)
    if file_type is None:
        raise FieldError("file", "file_type", _("Upload the act as a PDF, JPEG or PNG file."))
    with transaction.atomic():
        GuardianAct.objects.filter(link=link, status=ActStatus.PENDING).update(
            status=ActStatus.REJECTED, review_note="superseded", reviewed_at=clock.now()
        )
        act = GuardianAct(
            link=link, kind=kind, number=number[:64], issued_on=issued_on, uploaded_at=clock.now()
        )
        act.content_hash = _file_sha256(file)
        act.file.save(f"{uuid.uuid4()}.{file_type}", file, save=False)
        act.save()
        audit_record(
            actor=actor,
            action="guardian_act.upload",
            obj=act,
            data={"link": link.pk, "kind": kind, "type": file_type, "bytes": file.size},
        )
    return act


@transaction.atomic
def guardian_act_review(*, act: GuardianAct, accept: bool, note: str, actor: Actor) -> GuardianAct:
    """§18: the school checks the representative's act."""
    act = GuardianAct.objects.select_for_update(no_key=True, of=("self",)).get(pk=act.pk)
    if act.status != ActStatus.PENDING:
        raise RuleViolation("invalid_status_transition")
    act.status = ActStatus.ACCEPTED if accept else ActStatus.REJECTED
    act.review_note, act.reviewed_at = note, clock.now()
    act.save(update_fields=["status", "review_note", "reviewed_at"])
    audit_record(
        actor=actor,
        action="guardian_act.review",
        obj=act,
        data={"status": act.status, "note": note},
    )
    return act
