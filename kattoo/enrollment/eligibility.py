"""Whether a child may be registered to a school, and on which ground: ONE pure decision.

Every rule of registration lives in ``decide``: the ordinary registration, drafts, the
waitlist, the opening-minute fast path, a child's standing and the list of schools open to a
child all load a ``Facts`` record and call it, so they cannot disagree. Two loaders fill
``Facts``: ``eligibility_facts`` (ORM, every database) in ``facts.py`` and the single SQL read of
``fastpath.py`` (PostgreSQL); ``tests/enrollment/test_facts_loaders.py`` proves they return equal
facts for generated scenes. ``decide`` does no I/O, like ``quotas.compute``.

Adding a rule means: one fact, one line here (in the regulation's order), one message in
``core/errors.py``.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Protocol

from kattoo.campaigns.selectors import Stage
from kattoo.people.models import Relation

from .models import Route


class BirthWindow(enum.StrEnum):
    INSIDE = "inside"
    TOO_YOUNG = "too_young"  # born after the window: a later campaign, not the Commission
    OVER_AGE = "over_age"  # born before it: only the Commission places the child (§9)


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything the rules read about one (applicant, child, school, language, campaign).

    School facts are ``None``/``False`` when no school is chosen (a child's standing): then
    only the child's own rules are decided."""

    # The campaign (§8, §20, §21).
    birth_from: dt.date
    birth_to: dt.date
    cancel_limit: int
    ward_limit: int
    # The child and the applicant.
    birth_date: dt.date
    child_certificate: bool  # §9: the birth certificate is in the registry
    applicant_passport: bool  # §9: the applicant's passport is in the registry
    relation: str  # mother / father / representative; "" = not the applicant's child
    # Read for a representative only (False / 0 for a parent):
    act_on_file: bool  # §20: a representative's act pending the school's check or accepted
    act_accepted: bool  # §18: the school accepted it
    wards_registered: int  # §21: other children this person registered as representative
    registered: bool  # one active registration per child
    cancellations: int  # §20: cancellations of this child in this campaign
    # The school and the language chosen.
    school_id: int | None = None
    participates: bool = False  # §31
    language_offered: bool = False  # a pool with quota seats in that language
    # Free seats as read: never decided on here — the seat is taken (or not) by the one
    # statement of ADR 0002, and the waitlist counts them again under the pool's lock.
    free_seats: int = 0
    teacher_parent: bool = False  # §24: a parent (or the applicant) teaches at this school
    twin_in_quota: bool = False  # §25: a co-twin registered here inside the quota
    in_microdistrict: bool = False  # §10: a family address lies in the microdistrict

    @property
    def birth_window(self) -> BirthWindow:
        if self.birth_date > self.birth_to:
            return BirthWindow.TOO_YOUNG
        if self.birth_date < self.birth_from:
            return BirthWindow.OVER_AGE
        return BirthWindow.INSIDE

    @property
    def cancellations_left(self) -> int:
        return cancellations_left(cancel_limit=self.cancel_limit, done=self.cancellations)


def cancellations_left(*, cancel_limit: int, done: int) -> int:
    """§20: a child's registrations may be cancelled at most ``cancel_limit`` times."""
    return max(cancel_limit - done, 0)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A stable API code (API.md) and, where the regulation sends children different ways
    under one code, the variant that picks the message."""

    code: str
    variant: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    route: Route | None  # the ground the school would admit on; None: the route rule refuses
    above_quota: bool
    refusals: tuple[Refusal, ...]

    @property
    def allowed(self) -> bool:
        return not self.refusals

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.refusals]


def _route(facts: Facts, stage: Stage) -> tuple[Route | None, bool]:
    if facts.teacher_parent:
        return Route.TEACHER, True  # §24: a teacher's own child, above quota
    if facts.twin_in_quota:
        return Route.TWIN, True  # §25: a co-twin of a child inside the quota, above quota
    if facts.in_microdistrict:
        return Route.MICRODISTRICT, False  # §10
    if stage in (Stage.BEFORE, Stage.STAGE1):
        return None, False  # §27: stage 1 is for microdistrict schools only
    return Route.OPEN, False  # §27 stage 2: any participating school


def decide(facts: Facts, stage: Stage) -> Decision:
    """Every refusal that applies, in the order the regulation (and the API) reports them,
    and the route. ``stage`` is the stage the registration would happen in: a draft saved
    before the opening passes ``Stage.STAGE1``."""
    refusals: list[Refusal] = []
    if not facts.relation:
        refusals.append(Refusal("not_your_child"))
    window = facts.birth_window
    if window != BirthWindow.INSIDE:
        refusals.append(Refusal("outside_birth_window", window))  # §8, §9
    if not (facts.child_certificate and facts.applicant_passport):
        refusals.append(Refusal("documents_missing"))  # §9: the Commission decides
    if stage not in (Stage.STAGE1, Stage.STAGE2):
        refusals.append(Refusal("registration_closed"))  # §26, §27
    chosen = facts.school_id is not None
    if chosen and not facts.participates:
        refusals.append(Refusal("not_found"))  # §31: a school that does not take part
    elif chosen and not facts.language_offered:
        refusals.append(Refusal("language_not_offered"))
    if facts.registered:
        refusals.append(Refusal("already_registered"))  # one active registration per child
    if facts.relation == Relation.REPRESENTATIVE:
        if not facts.act_on_file:
            refusals.append(Refusal("guardian_document_required"))  # §20
        if facts.wards_registered >= facts.ward_limit:
            refusals.append(Refusal("guardian_limit_reached"))  # §21: wards, not own children
    if not chosen:
        return Decision(route=None, above_quota=False, refusals=tuple(refusals))
    route, above_quota = _route(facts, stage)
    if route is None:
        refusals.append(Refusal("not_in_microdistrict"))
    return Decision(route=route, above_quota=above_quota, refusals=tuple(refusals))


class _Routed(Protocol):
    @property
    def above_quota(self) -> bool: ...


def waitlist_needed(decision: _Routed, *, free_seats: int) -> bool:
    """§24, §25: an above-quota route always gets its seat, and a free seat is simply taken;
    only a child the pool would take but for a seat joins its waitlist."""
    return not decision.above_quota and free_seats <= 0
