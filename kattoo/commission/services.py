"""Decisions of the Commission on Children's Affairs (КДД), recorded by the district officer
(§9, §26): a child older than the birth window, a child without identity documents, a late
registration — placed in a school of the district, above the quota when no seat is free."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from kattoo.accounts.models import Role, User
from kattoo.audit.services import audit_record
from kattoo.campaigns.models import Campaign
from kattoo.campaigns.selectors import Stage, campaign_stage
from kattoo.catalog.models import School
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.clock import BISHKEK
from kattoo.core.errors import FieldError, RuleViolation
from kattoo.enrollment.allocation import SeatRequest, seat_take_by_decision
from kattoo.enrollment.models import ACTIVE_STATUSES, Application, Route, SeatPool
from kattoo.enrollment.services import notify_application
from kattoo.people.models import ActKind, ActStatus, ChildLink, GuardianAct, Person, Relation

from .models import CommissionDecision, Ground

# A temporary identifier has a real PIN's shape (14 ASCII digits) but starts with "0": a real
# PIN starts with its sex digit, 1 or 2 (integrations/registry/pin.py), so the two never meet.
TEMPORARY_ID_PREFIX = "0"


# The refusals that say the decision's ground does not fit the child's facts (§9, §26).
GROUND_REFUSALS = frozenset(
    {
        "commission_child_too_young",
        "commission_not_over_age",
        "commission_documents_present",
        "commission_not_late",
    }
)


@dataclass(frozen=True, slots=True)
class UnregisteredChild:
    """§9: a child the registry does not know yet — the birth certificate's data when there is
    a certificate, or only what the commission's decision states about the child."""

    surname: str
    name: str
    birth_date: dt.date
    sex: str  # "F" | "M"
    patronymic: str = ""
    certificate_series: str = ""
    certificate_number: str = ""


def commission_child_check(
    *,
    campaign: Campaign,
    birth_date: dt.date,
    ground: str,
    documents: bool,
    decided_on: dt.date,
    now: dt.datetime,
) -> None:
    """§9, §26: the ground must fit the child's facts. The commission places children older
    than the birth window, children without identity documents and late registrations —
    never a child younger than the window, whatever the ground: such a child enters first
    grade in a later campaign. ``documents``: the registry holds both the child's birth
    certificate and the applicant's passport."""
    if birth_date > campaign.birth_to:
        raise RuleViolation("commission_child_too_young")
    # §9: "older than 8" is this campaign's window: born before its first day.
    if ground == Ground.OVER_AGE and birth_date >= campaign.birth_from:
        raise RuleViolation("commission_not_over_age")
    # §9: without documents proving the identity of the child or of the applicant; a child
    # the registry does not know has none the system can see.
    if ground == Ground.NO_DOCUMENTS and documents:
        raise RuleViolation("commission_documents_present")
    # §26: "late" is after the deadline of the ordinary registration (§27): the campaign's
    # registration has ended, and the decision was taken after it too. Before that the
    # family registers itself (stage 1 or 2), with no decision needed.
    if ground == Ground.LATE:
        # The deadline's day in Bishkek: at 00:00 it is the first day after the deadline;
        # later in the day a decision of that day may be after it.
        deadline_day = campaign.registration_ends_at.astimezone(BISHKEK).date()
        if campaign_stage(campaign, now) != Stage.CLOSED or decided_on < deadline_day:
            raise RuleViolation("commission_not_late")


def _temporary_id() -> str:
    while True:
        candidate = TEMPORARY_ID_PREFIX + f"{secrets.randbelow(10**13):013d}"
        if not Person.objects.filter(pin=candidate).exists():
            return candidate


def _unregistered_person(child: UnregisteredChild, *, now: dt.datetime) -> Person:
    """The child as the commission's decision states them. Not a registry answer: no X-Road
    id, and the temporary identifier in place of the PIN until the registry has the child."""
    return Person.objects.create(
        pin=_temporary_id(),
        surname=child.surname.strip(),
        name=child.name.strip(),
        patronymic=child.patronymic.strip(),
        sex=child.sex,
        birth_date=child.birth_date,
        birth_certificate_series=child.certificate_series.strip().upper(),
        birth_certificate_number=child.certificate_number.strip(),
        fetched_at=now,
        xroad_id="",
    )


def _link_applicant(*, applicant: Person, child: Person, now: dt.datetime) -> ChildLink:
    """The placed child appears in the applicant's account: a parent by the birth act, or the
    legal representative the commission's decision names."""
    if applicant.pin and applicant.pin == child.mother_pin:
        relation = Relation.MOTHER
    elif applicant.pin and applicant.pin == child.father_pin:
        relation = Relation.FATHER
    else:
        relation = Relation.REPRESENTATIVE
    link, _created = ChildLink.objects.get_or_create(
        applicant=applicant,
        child=child,
        defaults={"relation": relation, "verified_at": now, "xroad_id": ""},
    )
    return link


def _representative_act(
    *, link: ChildLink, number: str, decided_on: dt.date, now: dt.datetime
) -> GuardianAct | None:
    """§21: a legal representative acts for a child only with an accepted act of the status.
    For a representative the commission's decision names, that act is the decision itself,
    recorded here as accepted by the district officer who records the decision (§17). Not a
    §21 upload (court or social-development act) required first: §26 places the child "on the
    application of the parent/legal representative by decision of the Commission", so the
    commission has examined who applies, and §9 is for exactly the applicant without
    documents proving the status — demanding another act would refuse the case §9 exists for.
    A parent by the birth act, or a representative whose act is already accepted, needs none."""
    if link.relation != Relation.REPRESENTATIVE:
        return None
    if GuardianAct.objects.filter(link=link, status=ActStatus.ACCEPTED).exists():
        return None
    return GuardianAct.objects.create(
        link=link,
        kind=ActKind.COMMISSION,
        number=number,
        issued_on=decided_on,
        status=ActStatus.ACCEPTED,
        reviewed_at=now,
        uploaded_at=now,
    )


@transaction.atomic
def commission_place(
    *,
    campaign: Campaign,
    officer: User,
    child: Person | None = None,
    unregistered: UnregisteredChild | None = None,
    applicant: Person,
    school: School,
    language: str,
    number: str,
    decided_on: dt.date,
    ground: str,
    documents_checked: bool,
    actor: Actor,
) -> CommissionDecision:
    """§9, §26: the commission places a child in a school of the district — in a free seat if
    there is one, otherwise above the quota by the decision (capacity + 1, nobody displaced).
    The stage and the birth window's lower bound do not apply — the decision is the ground —
    but the ground must fit the child's facts (``commission_child_check``: "late" only after
    the registration has ended). The child is either a registry person (``child``) or, with
    no PIN yet, ``unregistered``. A legal representative the decision names gets it as an
    accepted act (§21, ``_representative_act``)."""
    if (child is None) == (unregistered is None):
        raise ValueError("give exactly one of child and unregistered")
    if officer.role != Role.DISTRICT or school.district_id != officer.district_id:
        raise RuleViolation("not_found")
    # §31: a private or mixed school that does not take part receives nobody through Kattoo.
    if not school.participates:
        raise RuleViolation("school_not_participating")
    # A decision is recorded after the commission took it, never ahead of it: its date is
    # also the date of the representative's act (``_representative_act``) and the "late"
    # ground's comparison with the deadline (§26). Today in Bishkek, as a transfer's decision
    # (``enrollment.after_admission.application_transfer``).
    if decided_on > clock.today():
        raise FieldError("decided_on", "in_future", _("The decision cannot be dated later."))
    stated = child if child is not None else unregistered
    assert stated is not None
    now = clock.now()
    commission_child_check(
        campaign=campaign,
        birth_date=stated.birth_date,
        ground=ground,
        documents=child is not None
        and bool(child.birth_certificate_number)
        and bool(applicant.passport_number),
        decided_on=decided_on,
        now=now,
    )
    pool = SeatPool.objects.filter(campaign=campaign, school=school, language=language).first()
    if pool is None:
        raise RuleViolation("language_not_offered")
    number = number.strip()
    if CommissionDecision.objects.filter(district_id=school.district_id, number=number).exists():
        raise RuleViolation("decision_number_taken")
    if (
        child is not None
        and Application.objects.filter(
            campaign=campaign, child=child, status__in=ACTIVE_STATUSES
        ).exists()
    ):
        raise RuleViolation("already_registered")
    temporary_id = ""
    if unregistered is not None:
        child = _unregistered_person(unregistered, now=now)
        temporary_id = child.pin
    assert child is not None
    request = SeatRequest(
        campaign_id=campaign.pk,
        pool_id=pool.pk,
        school_id=school.pk,
        language=language,
        child_id=child.pk,
        applicant_id=applicant.pk,
        user_id=officer.pk,
        route=Route.COMMISSION,
        above_quota=False,
    )
    granted = seat_take_by_decision(request, actor=actor, now=now)
    application = Application.objects.select_related("school", "child", "user").get(
        pk=granted.application_id
    )
    link = _link_applicant(applicant=applicant, child=child, now=now)
    decision = CommissionDecision.objects.create(
        campaign=campaign,
        district_id=school.district_id,
        number=number,
        decided_on=decided_on,
        ground=ground,
        child=child,
        applicant=applicant,
        school=school,
        language=language,
        application=application,
        documents_checked=documents_checked,
        temporary_id=temporary_id,
        recorded_by=officer,
        recorded_at=now,
    )
    act = _representative_act(link=link, number=number, decided_on=decided_on, now=now)
    audit_record(
        actor=actor,
        action="commission.place",
        obj=decision,
        data={
            "application": str(application.pk),
            "above_quota": application.above_quota,
            "ground": ground,
            "number": number,
            "link": link.pk,
            "act": act.pk if act is not None else None,
            "temporary_id": temporary_id,
        },
    )
    # §9: the family hears of the placement — the applicant's account, or the registry's phone
    # — with every label in the family's language, not the officer's.
    notify_application(application, "commission_placed", number=decision.number)
    return decision


@transaction.atomic
def commission_child_link(
    *, decision: CommissionDecision, officer: User, child: Person, actor: Actor
) -> CommissionDecision:
    """§9: the registry now knows a child the commission placed under a temporary identifier.
    The placement, the decision and the applicant's link move to the registry's person (fetched
    by the caller, outside this transaction); the provisional record is removed. The birth date
    and sex must agree, so a wrong PIN cannot take over someone else's placement."""
    decision = (
        CommissionDecision.objects.select_for_update(of=("self",))
        .select_related("child", "application")
        .get(pk=decision.pk)
    )
    if officer.role != Role.DISTRICT or decision.district_id != officer.district_id:
        raise RuleViolation("not_found")
    if not decision.awaits_link:
        raise RuleViolation("commission_already_linked")
    provisional = decision.child
    if child.birth_date != provisional.birth_date or child.sex != provisional.sex:
        raise RuleViolation("commission_child_mismatch")
    if (
        Application.objects.filter(
            campaign_id=decision.campaign_id, child=child, status__in=ACTIVE_STATUSES
        )
        .exclude(pk=decision.application_id)
        .exists()
    ):
        raise RuleViolation("already_registered")
    now = clock.now()
    # Every row that names the provisional child now names the registry's child.
    Application.objects.filter(child=provisional).update(child=child)
    links = list(ChildLink.objects.filter(child=provisional).select_related("applicant"))
    for link in links:
        linked = _link_applicant(applicant=link.applicant, child=child, now=now)
        # The act the decision recorded (§21) stays with the applicant's link to the child.
        GuardianAct.objects.filter(link=link).update(link=linked)
    ChildLink.objects.filter(child=provisional).delete()
    CommissionDecision.objects.filter(child=provisional).update(child=child)
    CommissionDecision.objects.filter(pk=decision.pk).update(linked_at=now)
    provisional.delete()
    decision.refresh_from_db()
    audit_record(
        actor=actor,
        action="commission.child_link",
        obj=decision,
        data={
            "application": str(decision.application_id),
            "temporary_id": decision.temporary_id,
            "person": child.pk,
        },
    )
    return decision
