"""Registration and cancellation (§10, §20, §24, §25, §27).

``application_register`` checks every rule with ordinary reads, then hands the seat to
``allocation.seat_take`` — one SQL statement that takes the seat and writes the application,
its history row and its audit row, or does nothing. The checks give clear refusals; the
statement and the database constraints are what make overbooking and double registration
impossible under any race.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import translation
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext as _

from kattoo.accounts.models import Role, User
from kattoo.audit.services import audit_record
from kattoo.campaigns.models import Campaign
from kattoo.campaigns.selectors import Stage, campaign_stage
from kattoo.catalog.models import Language, School
from kattoo.catalog.selectors import localized_name
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.clock import bishkek_text
from kattoo.core.errors import FieldError, RuleViolation, refusal_message
from kattoo.core.metrics import registration_counted
from kattoo.notifications.services import notification_queue
from kattoo.people.models import ChildLink, Person, Relation

from . import states
from .abilities import abilities_of, application_abilities
from .allocation import SeatRequest, seat_release, seat_take
from .eligibility import Facts, Refusal, decide
from .facts import eligibility_facts, facts_stamp, stored_columns, writers_vouch
from .models import Application, Draft, RefusalReason, Route, SeatPool, Status
from .pools import seat_freed_announce


@dataclass(frozen=True, slots=True)
class RouteDecision:
    route: Route
    above_quota: bool


def _child_link(user: User, child: Person) -> ChildLink:
    link = ChildLink.objects.filter(applicant_id=user.person_id, child=child).first()
    if link is None:
        raise RuleViolation("not_your_child")
    return link


def refusal_violation(refusal: Refusal, *, campaign: Campaign, stage: Stage) -> RuleViolation:
    """The refusal ``decide`` reported first, as the error every channel shows: the code's
    message, and where the time or the variant matters, the sentence that says what next."""
    code = refusal.code
    if code == "registration_closed" and stage == Stage.BEFORE:
        return RuleViolation(
            code,
            detail=_("Registration opens on %(date)s (Asia/Bishkek).")
            % {"date": bishkek_text(campaign.stage1_starts_at)},
        )
    if code == "registration_closed":
        return RuleViolation(
            code,
            detail=_(
                "Registration closed on %(date)s (Asia/Bishkek). A late registration is decided "
                "by the Commission on Children's Affairs of the district education office."
            )
            % {"date": bishkek_text(campaign.registration_ends_at)},
        )
    if code == "not_in_microdistrict":
        return RuleViolation(
            code,
            detail=_(
                "No registered address of the child or of a parent lies in this school's "
                "microdistrict. Stage 2, when any school with free seats may be chosen, opens "
                "on %(date)s (Asia/Bishkek). If your address belongs to this microdistrict but "
                "is missing, the school can add it."
            )
            % {"date": bishkek_text(campaign.stage2_starts_at)},
        )
    if refusal.variant:
        return RuleViolation(
            code, detail=refusal_message(code, refusal.variant), variant=refusal.variant
        )
    return RuleViolation(code)


@dataclass(frozen=True, slots=True)
class RegistrationPlan:
    """What a registration would be, once every rule but the open stage and the free seat
    has been checked (drafts are checked this way before the opening)."""

    applicant: Person
    link: ChildLink
    pool: SeatPool
    decision: RouteDecision
    facts: Facts


def registration_plan(
    *,
    campaign: Campaign,
    user: User,
    child: Person,
    school: School,
    language: str,
    stage: Stage,
    require_open: bool = True,
) -> RegistrationPlan:
    """Load the facts and ``decide``; raise the first refusal. With ``require_open=False``
    (a draft before the opening) the stage to come is assumed."""
    if user.person_id is None:
        raise RuleViolation("forbidden")
    applicant = user.person
    assert applicant is not None
    link = _child_link(user, child)
    if not require_open and stage == Stage.BEFORE:
        stage = Stage.STAGE1  # a draft is checked against the stage that opens next
    if link.relation == Relation.REPRESENTATIVE:
        # §21: serialise this representative's registrations so two parallel requests cannot
        # both pass the limit of wards; ordinary parents never take this lock.
        Person.objects.select_for_update(no_key=True, of=("self",)).filter(pk=applicant.pk).first()
    pool = SeatPool.objects.filter(campaign=campaign, school=school, language=language).first()
    facts = eligibility_facts(
        campaign=campaign,
        applicant=applicant,
        child=child,
        school=school,
        pool=pool,
    )
    decision = decide(facts, stage)
    if decision.refusals:
        raise refusal_violation(decision.refusals[0], campaign=campaign, stage=stage)
    assert pool is not None and decision.route is not None
    return RegistrationPlan(
        applicant=applicant,
        link=link,
        pool=pool,
        decision=RouteDecision(decision.route, above_quota=decision.above_quota),
        facts=facts,
    )


@registration_counted
@transaction.atomic
def application_register(
    *, campaign: Campaign, user: User, child: Person, school: School, language: str, actor: Actor
) -> Application:
    now = clock.now()
    plan = registration_plan(
        campaign=campaign,
        user=user,
        child=child,
        school=school,
        language=language,
        stage=campaign_stage(campaign, now),
    )
    applicant, pool, decision = plan.applicant, plan.pool, plan.decision
    granted = seat_take(
        SeatRequest(
            campaign_id=campaign.pk,
            pool_id=pool.pk,
            school_id=school.pk,
            language=language,
            child_id=child.pk,
            applicant_id=applicant.pk,
            user_id=user.pk,
            route=decision.route,
            above_quota=decision.above_quota,
        ),
        actor=actor,
        now=now,
    )
    # The statement wrote exactly these values: build the row instead of reading it back.
    application = Application(
        id=granted.application_id,
        campaign=campaign,
        child=child,
        applicant=applicant,
        user=user,
        school=school,
        language=language,
        pool=pool,
        status=Status.REGISTERED,
        route=decision.route,
        above_quota=decision.above_quota,
        position=granted.position,
        channel=actor.channel,
        created_at=now,
        status_changed_at=now,
    )
    application._state.adding = False
    application._state.db = "default"
    notify_application(application, "application_registered")
    return application


# The language of a message to a family that has no account yet (the site's default).
FAMILY_DEFAULT_LANGUAGE = "ky"


def application_recipient(application: Application) -> User | None:
    """Who hears about a registration: the family's account that made it, or — when the
    district made it (a commission's placement, a transfer by decision) — the applicant's own
    account; None when the applicant has no account yet (the SMS then goes to the phone the
    registry holds)."""
    if application.user.role == Role.APPLICANT:
        return application.user
    return User.objects.filter(person_id=application.applicant_id, role=Role.APPLICANT).first()


def notify_application(
    application: Application,
    event: str,
    *,
    user: User | None = None,
    dedupe_key: str = "",
    **extra: object,
) -> None:
    """SMS the family about its registration (``user``, else ``application_recipient``), after
    commit, in the RECIPIENT's language — never the acting officer's: every label (school,
    class language, and any lazy text in ``extra``) is rendered inside that language."""
    user = user or application_recipient(application)
    language = user.language if user is not None else FAMILY_DEFAULT_LANGUAGE
    with translation.override(language):
        context = {
            "child": f"{application.child.name} {application.child.surname}",
            "school": localized_name(application.school),
            "language": str(Language(application.language).label),
            "position": application.position,
            **{
                key: str(value) if isinstance(value, Promise) else value
                for key, value in extra.items()
            },
        }
    notification_queue(
        user=user,
        event=event,
        context=context,
        dedupe_key=dedupe_key or f"{event}:{application.pk}",
        address=None if user is not None else application.applicant.phone,
        language=language,
    )


def application_cancellations(*, campaign: Campaign, child: Person) -> int:
    return Application.objects.filter(
        campaign=campaign, child=child, status=Status.CANCELLED
    ).count()


def _locked(application: Application) -> Application:
    return (
        Application.objects.select_for_update(no_key=True, of=("self",))
        .select_related("campaign", "school", "child", "user")
        .get(pk=application.pk)
    )


@transaction.atomic
def application_cancel(*, application: Application, actor: Actor) -> Application:
    """§20: cancel and free the seat at once; at most ``cancel_limit`` times per child."""
    application = _locked(application)
    done = application_cancellations(campaign=application.campaign, child=application.child)
    if actor.user is not None and actor.user.role == Role.APPLICANT:
        refusal = application_abilities(actor.user, application).cancel_refusal
    else:  # the system acting for the family (commands, tests)
        refusal = abilities_of(
            status=application.status,
            cancellations=done,
            cancel_limit=application.campaign.cancel_limit,
            applicant=True,
            own=True,
            relation="",
            act_accepted=False,
        ).cancel_refusal
    if refusal:
        raise RuleViolation(refusal)
    states.transition(application, Status.CANCELLED, actor=actor)
    seat_release(application)
    seat_freed_announce(application.pool_id, actor=actor)
    notify_application(
        application,
        "application_cancelled",
        left=application.campaign.cancel_limit - done - 1,
    )
    audit_record(
        actor=actor,
        action="application.cancel",
        obj=application,
        data={"cancellations": done + 1, "pool": application.pool_id},
    )
    return application


@transaction.atomic
def application_admit(*, application: Application, actor: Actor) -> Application:
    application = _locked(application)
    states.transition(application, Status.ADMITTED, actor=actor)
    notify_application(
        application,
        "application_admitted",
        medical_from=application.campaign.medical_from.isoformat(),
        medical_until=application.campaign.medical_until.isoformat(),
    )
    audit_record(actor=actor, action="application.admit", obj=application)
    return application


@transaction.atomic
def application_refuse(
    *, application: Application, reason_code: str, reason: str, actor: Actor
) -> Application:
    """§22: a refusal of a registration states a legal reason (a RefusalReason and the
    school's words); the seat goes back to the pool and the district sees it."""
    if reason_code not in RefusalReason.values:
        raise FieldError("reason", "invalid_choice", _("Choose the legal reason."))
    if not reason.strip():
        raise FieldError("text", "required", _("Explain the refusal."))
    application = _locked(application)
    if application.status != Status.REGISTERED:
        raise RuleViolation("invalid_status_transition")
    _refuse(application, reason_code=reason_code, reason=reason.strip(), actor=actor)
    return application


def _refuse(application: Application, *, reason_code: str, reason: str, actor: Actor) -> None:
    states.transition(
        application, Status.REFUSED, actor=actor, reason=reason, reason_code=reason_code
    )
    seat_release(application)
    seat_freed_announce(application.pool_id, actor=actor)
    # The reason's label in the recipient's language (notify_application renders it).
    label = format_lazy("{}: {}", RefusalReason(reason_code).label, reason)
    notify_application(application, "application_refused", reason=label)
    audit_record(
        actor=actor,
        action="application.refuse",
        obj=application,
        data={"reason_code": reason_code, "reason": reason},
    )


@transaction.atomic
def draft_save(
    *, campaign: Campaign, user: User, child: Person, school: School, language: str, actor: Actor
) -> Draft:
    """Check the choice now against every rule (for the stage that opens next) and keep it,
    with the facts the opening minute cannot change (ADR 0029)."""
    stamp = None
    if user.person_id is not None:
        # The epochs first, then every fact read after them (the child and the applicant
        # are read again with their epochs).
        stamp = facts_stamp(school_id=school.pk, child_id=child.pk, applicant_id=user.person_id)
        child, user.person = stamp.child, stamp.applicant
    plan = registration_plan(
        campaign=campaign,
        user=user,
        child=child,
        school=school,
        language=language,
        stage=campaign_stage(campaign),
        require_open=False,
    )
    draft, _created = Draft.objects.update_or_create(
        user=user,
        campaign=campaign,
        child=child,
        defaults={
            "school": school,
            "language": language,
            "route": plan.decision.route,
            "checked_at": clock.now(),
            **(
                stored_columns(plan.facts, stamp=stamp)
                if stamp is not None
                else {"facts": None, "phone": None}
            ),
        },
    )
    audit_record(
        actor=actor,
        action="draft.save",
        obj=draft,
        data={"school": school.pk, "language": language, "route": plan.decision.route},
    )
    return draft


def drafts_facts_store(*, campaign: Campaign, actor: Actor, chunk: int = 500) -> int:
    """ADR 0029: decide again the stored facts of the campaign's drafts whose stamp no longer
    holds, or (ADR 0046, PostgreSQL) that their writers no longer vouch for — after a catalog
    import or registry changes, before the opening — so that their submit reads no full
    facts. The facts only: ``decide`` runs at submit as always. Each
    draft's stamp is read before its facts; a draft its parent changed meanwhile is left as
    saved. One transaction and one audit record per chunk of drafts (a parent saving a draft
    waits for one chunk at most). Returns how many were stored."""
    done = 0
    ids = list(Draft.objects.filter(campaign=campaign).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), chunk):
        with transaction.atomic():
            stored = _drafts_facts_store(campaign, ids[start : start + chunk])
            if stored:
                audit_record(
                    actor=actor,
                    action="draft.facts_store",
                    object_type="campaign",
                    object_id=str(campaign.pk),
                    data={"drafts": stored},
                )
        done += len(stored)
    return done


def _drafts_facts_store(campaign: Campaign, ids: list[int]) -> list[int]:
    stored = []
    drafts = list(Draft.objects.filter(pk__in=ids).select_related("user", "school"))
    # The chunk's people locked at once, in the order of their ids (``facts_stamp`` then finds
    # them locked): the order a family's refresh locks them in, so the two never deadlock.
    people = ({d.child_id for d in drafts} | {d.user.person_id for d in drafts}) - {None}
    list(
        Person.objects.select_for_update(no_key=True)
        .filter(pk__in=people)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for draft in drafts:
        if draft.user.person_id is None:
            continue
        stamp = facts_stamp(
            school_id=draft.school_id, child_id=draft.child_id, applicant_id=draft.user.person_id
        )
        if (
            draft.facts is not None
            and draft.facts.get("stamp") == stamp.values
            # ADR 0046: where writers vouch, a draft they no longer vouch for is stored again
            and ("vouched" in draft.facts or not writers_vouch())
        ):
            continue
        facts = eligibility_facts(
            campaign=campaign,
            applicant=stamp.applicant,
            child=stamp.child,
            school=draft.school,
            pool=SeatPool.objects.filter(
                campaign=campaign, school=draft.school, language=draft.language
            ).first(),
        )
        if Draft.objects.filter(
            pk=draft.pk, school_id=draft.school_id, language=draft.language
        ).update(**stored_columns(facts, stamp=stamp)):
            stored.append(draft.pk)
    return stored


@transaction.atomic
def draft_submit(*, draft: Draft, actor: Actor) -> Application:
    """The one request at the opening: register exactly what the draft holds."""
    # The draft's row first, then the pool's (inside ``application_register``): the order the
    # opening minute's statement locks them in (ADR 0032), so the same draft submitted at the
    # same instant through the web form and the API waits instead of deadlocking. A refusal
    # rolls the deletion back with the rest.
    Draft.objects.filter(pk=draft.pk).delete()
    return application_register(
        campaign=draft.campaign,
        user=draft.user,
        child=draft.child,
        school=draft.school,
        language=draft.language,
        actor=actor,
    )


@transaction.atomic
def draft_delete(*, draft: Draft, actor: Actor) -> None:
    audit_record(actor=actor, action="draft.delete", obj=draft)
    draft.delete()
