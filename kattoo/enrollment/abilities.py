"""What a parent may do with a registration now: ONE answer for the web page, the API list,
the API detail, the cancel service itself and the after-admission withdrawal (STYLE.md:
``get_abilities``).

The rule is pure (``abilities_of``); ``applications_abilities`` reads the few facts for any
number of registrations in a fixed number of queries.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count

from kattoo.accounts.models import Role, User
from kattoo.people.models import ActStatus, ChildLink, GuardianAct, Relation

from .eligibility import cancellations_left
from .models import Application, Status


@dataclass(frozen=True, slots=True)
class Abilities:
    cancel: bool
    appeal: bool
    cancellations_left: int
    # Why cancelling is refused (an ERRORS code), or "" when it is allowed.
    cancel_refusal: str = ""
    # The family withdraws an admitted child (after_admission.application_withdraw): not a
    # cancellation, so it uses none of the §20 cancellations.
    withdraw: bool = False

    def as_dict(self) -> dict[str, bool]:
        # The API's ``abilities`` object: fields are only ever added (API.md compatibility).
        return {"cancel": self.cancel, "appeal": self.appeal, "withdraw": self.withdraw}


def abilities_of(
    *,
    status: str,
    cancellations: int,
    cancel_limit: int,
    applicant: bool,
    own: bool,
    relation: str,
    act_accepted: bool,
) -> Abilities:
    """``own``: the user made this registration. ``relation``: the user's link to the child
    ("" when none)."""
    left = cancellations_left(cancel_limit=cancel_limit, done=cancellations)
    refusal = ""
    if not applicant:
        refusal = "forbidden"
    elif status != Status.REGISTERED:
        refusal = "invalid_status_transition"
    elif left <= 0:
        refusal = "cancel_limit_reached"  # §20: at most N cancellations per child
    elif not own and relation == Relation.REPRESENTATIVE and not act_accepted:
        # §21: a representative whose act the school has not accepted cannot cancel or change
        # the registration a parent made.
        refusal = "guardian_document_required"
    elif not own and not relation:
        refusal = "forbidden"
    # §21: the same parent rule as cancelling (after_admission._parent_of), for an admission.
    may_act = applicant and (own or bool(relation))
    if not own and relation == Relation.REPRESENTATIVE and not act_accepted:
        may_act = False
    return Abilities(
        cancel=not refusal,
        appeal=applicant,  # any applicant may appeal to the district about a registration
        cancellations_left=left,
        cancel_refusal=refusal,
        withdraw=may_act and status == Status.ADMITTED,
    )


def applications_abilities(
    user: User | None, applications: Sequence[Application]
) -> dict[uuid.UUID, Abilities]:
    """The abilities of ``user`` for each registration, by id: three queries whatever the
    number."""
    if not applications:
        return {}
    child_ids = {a.child_id for a in applications}
    campaign_ids = {a.campaign_id for a in applications}
    cancelled: Counter[tuple[int, int]] = Counter(
        {
            (campaign_id, child_id): n
            for campaign_id, child_id, n in Application.objects.filter(
                campaign_id__in=campaign_ids, child_id__in=child_ids, status=Status.CANCELLED
            )
            .values_list("campaign_id", "child_id")
            .annotate(n=Count("id"))
            .values_list("campaign_id", "child_id", "n")
        }
    )
    person_id = user.person_id if user is not None else None
    relations: dict[int, str] = {}
    accepted: set[int] = set()
    if person_id is not None:
        relations = dict(
            ChildLink.objects.filter(applicant_id=person_id, child_id__in=child_ids).values_list(
                "child_id", "relation"
            )
        )
        accepted = set(
            GuardianAct.objects.filter(
                link__applicant_id=person_id,
                link__child_id__in=child_ids,
                status=ActStatus.ACCEPTED,
            ).values_list("link__child_id", flat=True)
        )
    applicant = user is not None and user.role == Role.APPLICANT
    return {
        a.pk: abilities_of(
            status=a.status,
            cancellations=cancelled[(a.campaign_id, a.child_id)],
            cancel_limit=a.campaign.cancel_limit,
            applicant=applicant,
            own=user is not None and a.user_id == user.pk,
            relation=relations.get(a.child_id, ""),
            act_accepted=a.child_id in accepted,
        )
        for a in applications
    }


def application_abilities(user: User | None, application: Application) -> Abilities:
    return applications_abilities(user, [application])[application.pk]
