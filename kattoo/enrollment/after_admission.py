"""After admission: a family withdraws a child, the district transfers a child by a commission
decision, and the school's ПМПК proposal the parent agrees to or declines (§17, §18, §23).

Each ends an admission only through the state machine (``states.transition``); the seat it
frees goes back to the pool and, through ``pools.seat_freed_announce`` (the waitlist listens),
to the first child in line exactly as a cancellation's does. Lock order is the one
cancellations and refusals take: the application's row, then its pool (a transfer: then both
pools, in id order), so these never deadlock with registrations, offers, cancellations or each
other.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext as _

from kattoo.accounts.models import Role, User
from kattoo.audit.services import audit_record
from kattoo.catalog.models import School
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import FieldError, RuleViolation
from kattoo.people.models import ActStatus, ChildLink, GuardianAct, Relation

from . import states
from .abilities import application_abilities
from .allocation import SeatRequest, seat_release, seat_take_by_decision
from .models import (
    AdmissionTransfer,
    Application,
    PmpkAnswer,
    PmpkOutcome,
    PmpkProposal,
    PmpkProposalKind,
    PmpkReferral,
    RefusalReason,
    Route,
    SeatPool,
    Status,
)
from .pools import seat_freed_announce
from .selectors import applications_visible_to
from .services import notify_application

# ApplicationTransition.reason_code of the ends of an admission this module makes.
WITHDRAWAL = "family_withdrawal"
TRANSFER = "commission_transfer"


def _lock_pools(*pool_ids: int) -> None:
    """Pools' row locks in id order (the lock a registration's UPDATE takes)."""
    list(
        SeatPool.objects.select_for_update(no_key=True, of=("self",))
        .filter(pk__in=sorted(set(pool_ids)))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _locked_admitted(application: Application) -> Application:
    """The application's row lock, refused unless it is an admission now. The application is
    locked before its pool, as a cancellation or a refusal does (services.py)."""
    locked = (
        Application.objects.select_for_update(no_key=True, of=("self",))
        .select_related("campaign", "school", "child", "user", "applicant")
        .get(pk=application.pk)
    )
    if locked.status != Status.ADMITTED:
        raise RuleViolation("invalid_status_transition")
    return locked


def _end_admission(
    application: Application, target: Status, *, actor: Actor, reason: str, reason_code: str
) -> None:
    """Leave ``admitted`` for ``target`` and give the seat back; the first child in line is
    offered it (ADR 0013)."""
    states.transition(application, target, actor=actor, reason=reason, reason_code=reason_code)
    seat_release(application)
    seat_freed_announce(application.pool_id, actor=actor)


def _parent_of(user: User, application: Application) -> None:
    """Only a parent or representative linked to the child (or who registered it) acts; §21: a
    representative whose act the school has not accepted does not change what a parent made."""
    if user.role != Role.APPLICANT or user.person_id is None:
        raise RuleViolation("forbidden")
    link = ChildLink.objects.filter(
        applicant_id=user.person_id, child_id=application.child_id
    ).first()
    own = application.user_id == user.pk
    if link is None and not own:
        raise RuleViolation("not_found")
    if (
        not own
        and link is not None
        and link.relation == Relation.REPRESENTATIVE
        and not GuardianAct.objects.filter(link=link, status=ActStatus.ACCEPTED).exists()
    ):
        raise RuleViolation("guardian_document_required")


# ---- the family withdraws the child ----------------------------------------------------------


@transaction.atomic
def application_withdraw(
    *, application: Application, user: User, reason: str = "", actor: Actor
) -> Application:
    """A family that moves (or chooses otherwise) withdraws an admitted child: the admission
    ends and the seat is freed to the waitlist at once. Not a cancellation (§20 counts those
    before admission): it uses none of the child's cancellations."""
    _parent_of(user, application)
    application = _locked_admitted(application)
    reason = reason.strip()[:500]
    _end_admission(
        application, Status.WITHDRAWN, actor=actor, reason=reason, reason_code=WITHDRAWAL
    )
    notify_application(application, "application_withdrawn", user=user)
    audit_record(
        actor=actor,
        action="application.withdraw",
        obj=application,
        data={"pool": application.pool_id, "reason": reason},
    )
    return application


# ---- the district transfers the child by a commission decision --------------------------------


@transaction.atomic
def application_transfer(
    *,
    application: Application,
    officer: User,
    school: School,
    language: str,
    number: str,
    decided_on: dt.date,
    actor: Actor,
) -> AdmissionTransfer:
    """§17, §26: the district moves an admitted child of its district to another school of its
    district by a decision of the Commission on Children's Affairs: a free seat there, or one
    above the quota by the decision (capacity + 1, nobody displaced). The old admission ends
    and its seat goes to the waitlist; the new one is an admission at once (the decision is the
    ground) and appears in the parent's account."""
    district_id = officer.district_id
    if officer.role != Role.DISTRICT or district_id is None:
        raise RuleViolation("forbidden")
    if application.school.district_id != district_id or school.district_id != district_id:
        raise RuleViolation("not_found")
    # §31: a school that does not take part (a private one) receives nobody through Kattoo.
    if not school.participates:
        raise RuleViolation("not_found")
    number = number.strip()
    if not number:
        raise FieldError("number", "required", _("Enter the number of the decision."))
    if decided_on > clock.today():
        raise FieldError("decided_on", "in_future", _("The decision cannot be dated later."))
    pool = SeatPool.objects.filter(
        campaign_id=application.campaign_id, school=school, language=language
    ).first()
    if pool is None:
        raise RuleViolation("language_not_offered")
    if pool.pk == application.pool_id:
        raise RuleViolation("transfer_same_school")
    old = _locked_admitted(application)
    _lock_pools(old.pool_id, pool.pk)
    if _decision_number_taken(district_id, number):
        raise RuleViolation("decision_number_taken")
    reason = _("Decision No. %(number)s of %(date)s of the Commission on Children's Affairs") % {
        "number": number,
        "date": decided_on.isoformat(),
    }
    now = clock.now()
    states.transition(old, Status.TRANSFERRED, actor=actor, reason=reason, reason_code=TRANSFER)
    seat_release(old)
    request = SeatRequest(
        campaign_id=old.campaign_id,
        pool_id=pool.pk,
        school_id=school.pk,
        language=language,
        child_id=old.child_id,
        applicant_id=old.applicant_id,
        user_id=old.user_id,
        route=Route.COMMISSION,
        above_quota=False,
    )
    granted = seat_take_by_decision(request, actor=actor, now=now)
    new = (
        Application.objects.select_for_update(no_key=True, of=("self",))
        .select_related("campaign", "school", "child", "user")
        .get(pk=granted.application_id)
    )
    states.transition(new, Status.ADMITTED, actor=actor, reason=reason, reason_code=TRANSFER)
    transfer = AdmissionTransfer.objects.create(
        campaign_id=old.campaign_id,
        district_id=district_id,
        number=number,
        decided_on=decided_on,
        from_application=old,
        to_application=new,
        recorded_by=officer,
        recorded_at=now,
    )
    seat_freed_announce(old.pool_id, actor=actor)
    notify_application(
        new, "application_transferred", number=number, decided_on=decided_on.isoformat()
    )
    audit_record(
        actor=actor,
        action="application.transfer",
        obj=transfer,
        data={
            "from": str(old.pk),
            "to": str(new.pk),
            "school": school.pk,
            "language": language,
            "above_quota": new.above_quota,
            "number": number,
            "decided_on": decided_on.isoformat(),
        },
    )
    return transfer


def _decision_number_taken(district_id: int, number: str) -> bool:
    """A transfer decision's number names one transfer of the district (as a placement's
    number names one placement, commission/models.py)."""
    return AdmissionTransfer.objects.filter(district_id=district_id, number=number).exists()


# ---- §18: the school's ПМПК proposal and the parent's answer ----------------------------------


@transaction.atomic
def pmpk_propose(*, application: Application, kind: str, note: str, actor: Actor) -> PmpkProposal:
    """§18: on the ПМПК's conclusion the school *may propose* a special school, or that the
    child continues at this school. A proposal only asks: the parent answers it, and nothing
    changes for the child until the parent agrees."""
    if kind not in PmpkProposalKind.values:
        raise FieldError("kind", "invalid_choice", _("Choose what the school proposes."))
    staff = actor.user
    if staff is None or staff.role != Role.SCHOOL or staff.school_id != application.school_id:
        raise RuleViolation("forbidden")
    application = _locked_admitted(application)
    referral = PmpkReferral.objects.filter(application=application).first()
    # §18: the proposal rests on the commission's conclusion; a special school only on its
    # direction to one.
    if referral is None or referral.outcome == PmpkOutcome.PENDING:
        raise RuleViolation("pmpk_conclusion_required")
    if kind == PmpkProposalKind.SPECIAL_SCHOOL and referral.outcome != PmpkOutcome.SPECIAL_SCHOOL:
        raise RuleViolation("pmpk_conclusion_required")
    if PmpkProposal.objects.filter(application=application, answer=PmpkAnswer.PENDING).exists():
        raise RuleViolation("pmpk_proposal_pending")
    proposal = PmpkProposal.objects.create(
        application=application,
        kind=kind,
        note=note.strip()[:2000],
        proposed_by=staff,
        proposed_at=clock.now(),
    )
    # One SMS per proposal (a second proposal after an answer is news again), to the family
    # (not the officer who placed a commission's child), the proposal's name in its language.
    notify_application(
        application,
        "pmpk_proposed",
        dedupe_key=f"pmpk:{proposal.pk}",
        proposal=PmpkProposalKind(kind).label,
    )
    audit_record(
        actor=actor,
        action="pmpk.propose",
        obj=proposal,
        data={"application": str(application.pk), "kind": kind},
    )
    return proposal


@transaction.atomic
def pmpk_proposal_answer(
    *, proposal: PmpkProposal, agree: bool, user: User, actor: Actor
) -> PmpkProposal:
    """The parent's answer. Agreeing to a special school ends the admission here (the child is
    admitted there outside Kattoo, §23) and frees the seat to the waitlist; declining, or
    agreeing that the child continues here, leaves the admission as it is."""
    _parent_of(user, proposal.application)
    # A proposal is about an admission: once it has ended otherwise, there is nothing to answer.
    application = locked = _locked_admitted(proposal.application)
    proposal = PmpkProposal.objects.select_for_update(no_key=True, of=("self",)).get(pk=proposal.pk)
    if not proposal.is_pending:
        raise RuleViolation("invalid_status_transition")
    answer = PmpkAnswer.AGREED if agree else PmpkAnswer.DECLINED
    ends = agree and proposal.kind == PmpkProposalKind.SPECIAL_SCHOOL
    PmpkProposal.objects.filter(pk=proposal.pk).update(
        answer=answer, answered_by=user, answered_at=clock.now()
    )
    proposal.refresh_from_db()
    if ends:
        with translation.override(locked.user.language):
            reason = str(RefusalReason.SPECIAL_SCHOOL.label)
        _end_admission(
            locked,
            Status.WITHDRAWN,
            actor=actor,
            reason=reason,
            reason_code=RefusalReason.SPECIAL_SCHOOL,
        )
    audit_record(
        actor=actor,
        action="pmpk.answer",
        obj=proposal,
        data={
            "application": str(application.pk),
            "kind": proposal.kind,
            "answer": answer,
            "admission_ended": ends,
        },
    )
    return proposal


# ---- reads -----------------------------------------------------------------------------------


def pmpk_proposals_visible_to(user: User) -> QuerySet[PmpkProposal]:
    """Parents see the proposals about their children; the school its own, the district its
    district's, the ministry all; nobody else any."""
    base = PmpkProposal.objects.select_related(
        "application", "application__school", "application__child", "proposed_by", "answered_by"
    )
    if user.role not in (
        Role.APPLICANT,
        Role.SCHOOL,
        Role.DISTRICT,
        Role.MINISTRY_ADMIN,
        Role.MINISTRY_ANALYST,
    ):
        return base.none()
    return base.filter(application__in=applications_visible_to(user).values("pk"))


def transfers_visible_to(user: User) -> QuerySet[AdmissionTransfer]:
    base = AdmissionTransfer.objects.select_related(
        "from_application__school",
        "from_application__child",
        "to_application__school",
        "recorded_by",
    )
    if user.role == Role.DISTRICT and user.district_id is not None:
        return base.filter(district_id=user.district_id)
    if user.role in (Role.MINISTRY_ADMIN, Role.MINISTRY_ANALYST):
        return base
    return base.none()


def withdrawals_visible_to(user: User) -> QuerySet[Application]:
    """Admissions the families ended (moves, agreed special schools), for the district."""
    if user.role not in (Role.DISTRICT, Role.MINISTRY_ADMIN, Role.MINISTRY_ANALYST):
        return Application.objects.none()
    return applications_visible_to(user).filter(status=Status.WITHDRAWN)


def application_after_admission_abilities(user: User, application: Application) -> dict[str, bool]:
    """What the parent and staff may do with an admission now (web and API show the same).
    The parent's ``withdraw`` is the one of ``abilities.application_abilities``."""
    admitted = application.status == Status.ADMITTED
    return {
        "withdraw": application_abilities(user, application).withdraw,
        "transfer": admitted
        and user.role == Role.DISTRICT
        and user.district_id == application.school.district_id,
        "pmpk_propose": admitted
        and user.role == Role.SCHOOL
        and user.school_id == application.school_id,
    }
