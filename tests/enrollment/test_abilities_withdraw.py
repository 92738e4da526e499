"""One abilities object for a parent (issue 14): withdrawing an admitted child sits beside
cancelling and appealing, with the same parent rule (§21) as the withdrawal service."""

from __future__ import annotations

import pytest

from kattoo.enrollment.abilities import abilities_of
from kattoo.enrollment.models import Status
from kattoo.people.models import Relation


def ability(status: str, **overrides: object):
    values: dict[str, object] = {
        "status": status,
        "cancellations": 0,
        "cancel_limit": 3,
        "applicant": True,
        "own": True,
        "relation": Relation.MOTHER,
        "act_accepted": False,
    }
    values.update(overrides)
    return abilities_of(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [s.value for s in Status])
def test_only_an_admission_is_withdrawn_and_only_a_registration_cancelled(status: str) -> None:
    abilities = ability(status)
    assert abilities.withdraw is (status == Status.ADMITTED)
    assert abilities.cancel is (status == Status.REGISTERED)
    assert not (abilities.withdraw and abilities.cancel)
    assert abilities.as_dict() == {
        "cancel": abilities.cancel,
        "appeal": True,
        "withdraw": abilities.withdraw,
    }


def test_withdrawing_uses_no_cancellation() -> None:
    """§20 counts cancellations before admission: none left does not stop a withdrawal."""
    assert ability(Status.ADMITTED, cancellations=3).withdraw


@pytest.mark.parametrize(
    ("own", "relation", "act_accepted", "allowed"),
    [
        (True, "", False, True),  # who registered the child
        (False, Relation.FATHER, False, True),  # the other parent
        (False, Relation.REPRESENTATIVE, False, False),  # §21: the act not yet accepted
        (False, Relation.REPRESENTATIVE, True, True),
        (False, "", False, False),  # a stranger
    ],
)
def test_who_may_withdraw(own: bool, relation: str, act_accepted: bool, allowed: bool) -> None:
    abilities = ability(Status.ADMITTED, own=own, relation=relation, act_accepted=act_accepted)
    assert abilities.withdraw is allowed


def test_staff_never_withdraw() -> None:
    assert not ability(Status.ADMITTED, applicant=False).withdraw
