"""``eligibility.decide``, rule by rule with its clause: a pure function, no database."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.utils import translation

from kattoo.campaigns.selectors import Stage
from kattoo.core.errors import ERRORS, refusal_message
from kattoo.enrollment.eligibility import (
    BirthWindow,
    Decision,
    Facts,
    Refusal,
    decide,
    waitlist_needed,
)
from kattoo.enrollment.models import Route

# A mother registering her child, born in the window, to a microdistrict school with a Kyrgyz
# pool: everything allowed. Each test changes one fact.
ALLOWED = Facts(
    birth_from=dt.date(2019, 1, 1),
    birth_to=dt.date(2020, 12, 31),
    cancel_limit=3,
    ward_limit=2,
    birth_date=dt.date(2019, 9, 1),
    child_certificate=True,
    applicant_passport=True,
    relation="mother",
    act_on_file=False,
    act_accepted=False,
    wards_registered=0,
    registered=False,
    cancellations=0,
    school_id=7,
    participates=True,
    language_offered=True,
    free_seats=5,
    in_microdistrict=True,
)


def with_(**changes: object) -> Facts:
    return dataclasses.replace(ALLOWED, **changes)  # type: ignore[arg-type]


def codes(facts: Facts, stage: Stage = Stage.STAGE1) -> list[str]:
    return decide(facts, stage).codes


def test_everything_in_order_is_allowed_on_the_microdistrict_route() -> None:
    decision = decide(ALLOWED, Stage.STAGE1)
    assert decision == Decision(route=Route.MICRODISTRICT, above_quota=False, refusals=())
    assert decision.allowed


def test_not_the_applicants_child() -> None:
    assert codes(with_(relation="")) == ["not_your_child"]


@pytest.mark.parametrize(
    ("born", "window"),
    [
        (dt.date(2021, 1, 1), BirthWindow.TOO_YOUNG),
        (dt.date(2018, 12, 31), BirthWindow.OVER_AGE),
        (dt.date(2019, 1, 1), BirthWindow.INSIDE),
        (dt.date(2020, 12, 31), BirthWindow.INSIDE),
    ],
)
def test_birth_window_and_its_direction(born: dt.date, window: BirthWindow) -> None:
    """§8: the campaign's window, both ends inclusive; §9: the direction decides the message."""
    facts = with_(birth_date=born)
    assert facts.birth_window == window
    refusals = decide(facts, Stage.STAGE1).refusals
    if window == BirthWindow.INSIDE:
        assert refusals == ()
    else:
        assert refusals == (Refusal("outside_birth_window", str(window)),)


def test_a_too_young_child_is_not_sent_to_the_commission() -> None:
    """§9 places over-age children only: the younger one hears about a later campaign."""
    with translation.override("en"):
        young = refusal_message("outside_birth_window", "too_young")
        old = refusal_message("outside_birth_window", "over_age")
    assert "Commission" not in young and "later campaign" in young
    assert "Commission" in old
    assert "outside_birth_window" in ERRORS  # the API.md code stays


@pytest.mark.parametrize("missing", ["child_certificate", "applicant_passport"])
def test_identity_documents(missing: str) -> None:
    """§9: without the child's or the applicant's documents only the Commission places."""
    assert codes(with_(**{missing: False})) == ["documents_missing"]


@pytest.mark.parametrize("stage", [Stage.BEFORE, Stage.CLOSED])
def test_registration_only_in_an_open_stage(stage: Stage) -> None:
    """§26, §27."""
    assert codes(ALLOWED, stage) == ["registration_closed"]


def test_a_school_that_does_not_take_part() -> None:
    """§31: a private school that has not opted in is not offered."""
    assert codes(with_(participates=False)) == ["not_found"]


def test_the_language_must_be_offered() -> None:
    assert codes(with_(language_offered=False)) == ["language_not_offered"]


def test_one_active_registration_per_child() -> None:
    assert codes(with_(registered=True)) == ["already_registered"]


def test_a_representative_needs_an_act_on_file() -> None:
    """§20: an act pending the school's check or accepted; a parent needs none."""
    rep = with_(relation="representative")
    assert codes(rep) == ["guardian_document_required"]
    assert codes(dataclasses.replace(rep, act_on_file=True)) == []
    assert codes(with_(relation="father")) == []


def test_a_representative_registers_at_most_the_limit_of_wards() -> None:
    """§21: "no more than two children" counts the wards registered as representative."""
    rep = with_(relation="representative", act_on_file=True)
    assert codes(dataclasses.replace(rep, wards_registered=1)) == []
    assert codes(dataclasses.replace(rep, wards_registered=2)) == ["guardian_limit_reached"]
    # The count of wards is no parent's business: a mother is never limited.
    assert codes(with_(wards_registered=5)) == []


def test_teacher_child_above_quota_outside_the_microdistrict() -> None:
    """§24 comes first: a teacher's child is above quota even inside the microdistrict."""
    decision = decide(with_(teacher_parent=True, in_microdistrict=False), Stage.STAGE1)
    assert (decision.route, decision.above_quota, decision.refusals) == (Route.TEACHER, True, ())
    assert decide(with_(teacher_parent=True), Stage.STAGE1).route == Route.TEACHER


def test_co_twin_above_quota() -> None:
    """§25: a co-twin registered here inside the quota brings the child above quota."""
    decision = decide(with_(twin_in_quota=True, in_microdistrict=False), Stage.STAGE1)
    assert (decision.route, decision.above_quota) == (Route.TWIN, True)


def test_stage1_is_for_the_microdistrict_and_stage2_for_any_school() -> None:
    """§10, §27; a draft before the opening is decided for stage 1."""
    away = with_(in_microdistrict=False)
    assert codes(away, Stage.STAGE1) == ["not_in_microdistrict"]
    assert decide(away, Stage.STAGE1).route is None
    assert decide(away, Stage.BEFORE).route is None
    stage2 = decide(away, Stage.STAGE2)
    assert (stage2.route, stage2.above_quota, stage2.refusals) == (Route.OPEN, False, ())


def test_refusals_come_all_and_in_the_regulations_order() -> None:
    facts = with_(
        birth_date=dt.date(2016, 1, 1),
        child_certificate=False,
        participates=False,
        registered=True,
        relation="representative",
        wards_registered=2,
        in_microdistrict=False,
    )
    assert codes(facts, Stage.CLOSED) == [
        "outside_birth_window",
        "documents_missing",
        "registration_closed",
        "not_found",
        "already_registered",
        "guardian_document_required",
        "guardian_limit_reached",
    ]
    assert codes(facts, Stage.STAGE1)[-1] == "not_in_microdistrict"


def test_without_a_school_only_the_childs_own_rules_apply() -> None:
    """A child's standing: no school, no route, no school refusal."""
    child_only = with_(school_id=None, participates=False, language_offered=False)
    decision = decide(child_only, Stage.STAGE1)
    assert decision == Decision(route=None, above_quota=False, refusals=())
    assert codes(dataclasses.replace(child_only, registered=True)) == ["already_registered"]


def test_cancellations_left_never_below_zero() -> None:
    """§20."""
    assert with_(cancellations=1).cancellations_left == 2
    assert with_(cancellations=4).cancellations_left == 0


def test_waitlist_only_for_a_full_pool_and_an_in_quota_route() -> None:
    """§24, §25: an above-quota route never waits; a free seat is simply taken."""
    in_quota = decide(ALLOWED, Stage.STAGE2)
    above = decide(with_(teacher_parent=True), Stage.STAGE2)
    assert waitlist_needed(in_quota, free_seats=0)
    assert not waitlist_needed(in_quota, free_seats=1)
    assert not waitlist_needed(above, free_seats=0)
