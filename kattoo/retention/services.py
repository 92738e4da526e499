"""§7: personal data is kept for a set period after the campaign it served, then anonymised.

The period is ``settings.KATTOO_RETENTION["DAYS_AFTER_CAMPAIGN"]`` (set by the digital-sphere
authority). A person is anonymised when every campaign that concerns them (as child or
applicant of a registration, a commission decision or a draft) ended longer ago than that, and
the registry has not been asked about them within the period either (a parent who signed in
again for a later campaign is refreshed, so kept).

What stays: the rows and their links, so every aggregate (§9: school, language, sex, birth
year, route, status) and every audit event still counts and verifies — audit rows are never
rewritten; they hold ids, not names. What goes: names, the PIN (replaced by a keyed pseudonym,
so one child stays one row and statistics across years still match), the day and month of
birth, addresses, contacts, passport and birth-certificate data, the applicant's account
(deactivated, tokens and sign-in codes deleted), uploaded guardian acts (files deleted), the
texts of messages, appeals, document requests and ПМПК notes about them.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import F, Q, QuerySet

from kattoo.accounts.models import ApiToken, LoginChallenge, User
from kattoo.appeals.models import Appeal
from kattoo.audit.services import audit_record
from kattoo.campaigns.models import Campaign
from kattoo.catalog.models import MicrodistrictRequest
from kattoo.commission.models import CommissionDecision
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.enrollment.models import (
    Application,
    DocumentRequest,
    Draft,
    IdempotencyRecord,
    PmpkReferral,
)
from kattoo.notifications.models import Notification
from kattoo.people.models import ChildLink, GuardianAct, Person

logger = logging.getLogger("kattoo.retention")

# A pseudonym is never a PIN (PINs are 14 digits starting with 1 or 2) and fits the column.
PSEUDONYM_MARK = "~"


CHALLENGES_KEPT = dt.timedelta(days=1)


def pseudonym(pin: str) -> str:
    """The same PIN gives the same pseudonym (links and yearly statistics still match); without
    the key it cannot be reversed by trying every PIN, as a plain hash could."""
    if not pin or pin.startswith(PSEUDONYM_MARK):
        return pin
    key = ("kattoo-pseudonym:" + settings.FERNET_KEYS[-1]).encode()
    return PSEUDONYM_MARK + hmac.new(key, pin.encode(), hashlib.sha256).hexdigest()[:13]


def campaign_ended_at(campaign: Campaign) -> dt.datetime:
    """The last day a campaign's data is worked with: registration, document requests (§18) and
    medical certificates (§21), whichever is latest."""
    last_day = max(campaign.documents_request_until, campaign.medical_until)
    day_end = clock.bishkek(last_day.year, last_day.month, last_day.day) + dt.timedelta(days=1)
    return max(campaign.registration_ends_at, day_end)


def retention_period() -> dt.timedelta:
    return dt.timedelta(days=settings.KATTOO_RETENTION["DAYS_AFTER_CAMPAIGN"])


def _campaigns_kept(now: dt.datetime) -> list[int]:
    return [
        c.pk
        for c in Campaign.objects.all()
        if c.is_active or campaign_ended_at(c) + retention_period() > now
    ]


def persons_to_anonymise(now: dt.datetime) -> QuerySet[Person]:
    kept = _campaigns_kept(now)
    concerned = Q()
    for model in (Application, CommissionDecision):
        rows = model.objects.filter(campaign_id__in=kept)
        concerned |= Q(pk__in=rows.values("child_id")) | Q(pk__in=rows.values("applicant_id"))
    drafts = Draft.objects.filter(campaign_id__in=kept)
    concerned |= Q(pk__in=drafts.values("child_id")) | Q(pk__in=drafts.values("user__person_id"))
    live = Person.objects.filter(concerned)
    return (
        Person.objects.filter(anonymised_at__isnull=True, fetched_at__lt=now - retention_period())
        .exclude(concerned)
        # A live child's parents and representatives stay: their addresses decide the
        # microdistrict (§10) and their links the right to act (§20).
        .exclude(pin__in=live.exclude(mother_pin="").values("mother_pin"))
        .exclude(pin__in=live.exclude(father_pin="").values("father_pin"))
        .exclude(pk__in=ChildLink.objects.filter(child__in=live).values("applicant_id"))
    )


@dataclass
class PurgeReport:
    persons: int = 0
    users: int = 0
    guardian_act_files: int = 0
    notifications: int = 0
    texts: int = 0
    login_challenges: int = 0
    person_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "persons": self.persons,
            "users": self.users,
            "guardian_act_files": self.guardian_act_files,
            "notifications": self.notifications,
            "texts": self.texts,
            "login_challenges": self.login_challenges,
        }


def _anonymise_person(person: Person, now: dt.datetime) -> None:
    born = person.birth_date
    Person.objects.filter(pk=person.pk).update(
        pin=pseudonym(person.pin),
        mother_pin=pseudonym(person.mother_pin),
        father_pin=pseudonym(person.father_pin),
        surname="",
        name="",
        patronymic="",
        # §9 counts by birth year: the year stays, the day does not.
        birth_date=dt.date(born.year, 1, 1),
        facts_epoch=F("facts_epoch") + 1,  # a draft's stored facts no longer hold (ADR 0029)
        address_text="",
        address_settlement_code="",
        address_street_code="",
        address_house="",
        address_flat="",
        address_registered_on=None,
        birth_certificate_series="",
        birth_certificate_number="",
        birth_certificate_date=None,
        birth_certificate_issuer="",
        phone="",
        email="",
        passport_series="",
        passport_number="",
        passport_expires=None,
        anonymised_at=now,
    )


def _anonymise_users(pins: dict[int, str]) -> list[int]:
    """``pins``: person id → the PIN before anonymisation (an applicant's username)."""
    users = list(User.objects.filter(person_id__in=pins))
    for user in users:
        named_by_pin = user.person_id is not None and user.username == pins[user.person_id]
        User.objects.filter(pk=user.pk).update(
            username=pseudonym(user.username) if named_by_pin else user.username,
            first_name="",
            last_name="",
            email="",
            is_active=False,
            password=make_password(None),  # unusable: no sign-in is possible any more
        )
    user_ids = [u.pk for u in users]
    ApiToken.objects.filter(user_id__in=user_ids).delete()
    LoginChallenge.objects.filter(user_id__in=user_ids).delete()
    IdempotencyRecord.objects.filter(user_id__in=user_ids).delete()
    return user_ids


def _forget_act_files(person_ids: list[int]) -> list[str]:
    """Clears the acts' files and numbers; returns the stored names, deleted after commit (a
    rollback must not leave rows pointing at files already gone)."""
    acts = GuardianAct.objects.filter(
        Q(link__applicant_id__in=person_ids) | Q(link__child_id__in=person_ids)
    )
    names = [name for name in acts.exclude(file="").values_list("file", flat=True) if name]
    acts.update(file="", number="", review_note="", content_hash="")
    return names


def _delete_files(names: list[str]) -> None:
    storage = GuardianAct._meta.get_field("file").storage
    for name in names:
        storage.delete(name)


def _clear_texts(person_ids: list[int], user_ids: list[int]) -> int:
    applications = Application.objects.filter(
        Q(child_id__in=person_ids) | Q(applicant_id__in=person_ids)
    )
    return (
        # The house number stays: it is part of the request's unique key.
        MicrodistrictRequest.objects.filter(child_id__in=person_ids).update(
            address_text="", note=""
        )
        + Appeal.objects.filter(Q(user_id__in=user_ids) | Q(application__in=applications)).update(
            text="", answer=""
        )
        + DocumentRequest.objects.filter(application__in=applications).update(text="")
        + PmpkReferral.objects.filter(application__in=applications).update(note="")
    )


def personal_data_purge(*, actor: Actor, dry_run: bool = False) -> PurgeReport:
    """Anonymise everyone whose retention period has run out, in one transaction with its
    audit record (the purge is itself audited; the audit trail is not touched)."""
    now = clock.now()
    report = PurgeReport()
    with transaction.atomic():
        persons = list(persons_to_anonymise(now).select_for_update())
        report.person_ids = [p.pk for p in persons]
        report.persons = len(persons)
        # A sign-in challenge holds a PIN and a phone (encrypted) for a code that lives minutes;
        # a day on it is only clutter, verified or not.
        old_challenges = LoginChallenge.objects.filter(created_at__lt=now - CHALLENGES_KEPT)
        report.login_challenges = old_challenges.count()
        if dry_run:
            return report
        if report.login_challenges:
            old_challenges.delete()
        if not persons:
            if report.login_challenges:
                audit_record(
                    actor=actor,
                    action="personal_data.purge",
                    object_type="people.person",
                    data={**report.as_dict(), "retention_days": retention_period().days},
                )
            return report
        user_ids = _anonymise_users({p.pk: p.pin for p in persons})
        for person in persons:
            _anonymise_person(person, now)
        report.users = len(user_ids)
        report.notifications = Notification.objects.filter(user_id__in=user_ids).update(
            address="", subject="", body="", secret_body=""
        )
        # Every message's text is kept no longer than the period, whoever it went to (ADR 0022).
        report.notifications += (
            Notification.objects.filter(created_at__lt=now - retention_period())
            .exclude(user_id__in=user_ids)
            .exclude(body="")
            .update(subject="", body="", secret_body="")
        )
        report.texts = _clear_texts(report.person_ids, user_ids)
        files = _forget_act_files(report.person_ids)
        report.guardian_act_files = len(files)
        audit_record(
            actor=actor,
            action="personal_data.purge",
            object_type="people.person",
            data={**report.as_dict(), "retention_days": retention_period().days},
        )
        transaction.on_commit(functools.partial(_delete_files, files))
    logger.info("personal data purge: %s", report.as_dict())
    return report
