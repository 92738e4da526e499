"""Each signal is found on a crafted dataset and not on a normal one (twins and triplets, a
guardian's wards, one act for two guardians of one child); district officers see their own."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.core.files.uploadedfile import SimpleUploadedFile

from kattoo.accounts.models import Role
from kattoo.core import clock
from kattoo.fraud.models import SignalKind
from kattoo.fraud.selectors import signals_visible_to
from kattoo.people.models import ChildLink, GuardianAct, Person

from ..factories import DistrictFactory, UserFactory
from .conftest import Town

D = dt.date


def ministry():
    return UserFactory(role=Role.MINISTRY_ANALYST)


def of_kind(user, town: Town, kind: str):
    return [s for s in signals_visible_to(user, town.campaign) if s.kind == kind]


def test_one_applicant_registering_children_of_many_births(town: Town) -> None:
    applicant = town.adult()
    for born in (D(2019, 1, 10), D(2019, 11, 20), D(2020, 6, 1), D(2020, 12, 1)):
        town.register(applicant=applicant, child=town.child(born=born, mother=town.adult()))
    [signal] = of_kind(ministry(), town, SignalKind.MANY_CHILDREN)
    assert signal.key == str(applicant.pk)
    assert signal.numbers == {"children": 4, "births": 4, "limit": 3}
    assert len(signal.applications) == 4
    assert "4" in signal.why


def test_triplets_a_sibling_and_two_wards_are_normal(town: Town) -> None:
    mother = town.adult()
    own = [town.child(mother=mother, born=D(2019, 3, 1)) for _ in range(3)]
    own.append(town.child(mother=mother, born=D(2020, 12, 30)))
    wards = [town.child(mother=town.adult(), born=D(2019, 5, 5)) for _ in range(2)]
    for child in own:
        town.register(applicant=mother, child=child)
    # Four children at one address, from two births: the address is not crowded either.
    assert of_kind(ministry(), town, SignalKind.MANY_CHILDREN) == []
    for child in wards[:1]:
        town.register(applicant=mother, child=child)
    assert of_kind(ministry(), town, SignalKind.MANY_CHILDREN) == []  # three births


def test_an_address_with_children_of_many_families(town: Town) -> None:
    for _ in range(5):
        town.register(applicant=(m := town.adult()), child=town.child(mother=m, flat="7"))
    [signal] = of_kind(ministry(), town, SignalKind.CROWDED_ADDRESS)
    assert signal.key == f"{town.world.home.code}|1|7"
    assert signal.numbers["children"] == 5 and signal.numbers["families"] == 5
    assert signal.numbers["limit"] == 4 and len(signal.applications) == 5


def test_quadruplets_and_a_sibling_at_one_address_are_normal(town: Town) -> None:
    mother = town.adult()
    for child in [town.child(mother=mother, born=D(2019, 4, 4)) for _ in range(4)]:
        town.register(applicant=mother, child=child)
    town.register(applicant=mother, child=town.child(mother=mother, born=D(2020, 10, 1)))
    assert of_kind(ministry(), town, SignalKind.CROWDED_ADDRESS) == []


def test_an_address_registered_shortly_before_the_campaign(town: Town) -> None:
    moved = town.child(moved=D(2026, 3, 1))  # stage 1 opens 2026-04-01
    app = town.register(applicant=town.adult(), child=moved)
    settled = town.child()
    town.register(applicant=town.adult(), child=settled)
    # A recent move matters for the microdistrict route only.
    town.register(applicant=town.adult(), child=town.child(moved=D(2026, 3, 5)), route="open")
    [signal] = of_kind(ministry(), town, SignalKind.RECENT_ADDRESS)
    assert signal.key == str(moved.pk) and signal.applications == [app]
    assert signal.numbers == {"date": "2026-03-01", "days": 31, "window": 90}


def test_the_applicants_recent_address_counts_too(town: Town) -> None:
    town.register(applicant=town.adult(moved=D(2026, 2, 1)), child=town.child())
    [signal] = of_kind(ministry(), town, SignalKind.RECENT_ADDRESS)
    assert signal.numbers["days"] == 59


def _act(guardian: Person, child: Person, *, number: str = "", content: bytes = b"") -> None:
    link, _ = ChildLink.objects.get_or_create(
        applicant=guardian,
        child=child,
        defaults={"relation": "representative", "verified_at": clock.now()},
    )
    GuardianAct.objects.create(
        link=link,
        kind="court",
        number=number,
        issued_on=D(2025, 5, 5),
        file=SimpleUploadedFile("act.pdf", b"%PDF-1.4 " + content),
        content_hash=hashlib.sha256(content).hexdigest() if content else "",
        uploaded_at=clock.now(),
    )


def test_one_act_number_for_children_of_different_guardians(town: Town) -> None:
    a, b = town.adult(), town.adult()
    ca, cb = town.child(mother=town.adult()), town.child(mother=town.adult())
    _act(a, ca, number="№ 12/25")
    _act(b, cb, number=" № 12/25 ")
    town.register(applicant=a, child=ca, route="open")
    [signal] = of_kind(ministry(), town, SignalKind.REUSED_ACT)
    assert signal.key == "number:court|№ 12/25|2025-05-05"
    assert signal.numbers == {"guardians": 2, "children": 2}
    assert [x.child_id for x in signal.applications] == [ca.pk]


def test_one_file_for_children_of_different_guardians(town: Town) -> None:
    a, b = town.adult(), town.adult()
    _act(a, town.child(), number="1", content=b"same scan")
    _act(b, town.child(), number="2", content=b"same scan")
    [signal] = of_kind(ministry(), town, SignalKind.REUSED_ACT)
    assert signal.key.startswith("file:") and signal.numbers["guardians"] == 2


def test_one_guardians_wards_are_normal(town: Town) -> None:
    guardian = town.adult()
    _act(guardian, town.child(), number="7", content=b"one court decision")
    _act(guardian, town.child(), number="7", content=b"one court decision")
    assert of_kind(ministry(), town, SignalKind.REUSED_ACT) == []


def test_two_guardians_of_one_child_are_normal(town: Town) -> None:
    child, guardian, spouse = town.child(), town.adult(), town.adult()
    _act(guardian, child, number="7", content=b"one court decision")
    _act(spouse, child, number="7", content=b"one court decision")
    assert of_kind(ministry(), town, SignalKind.REUSED_ACT) == []


def test_district_officers_see_the_signals_of_their_schools(town: Town) -> None:
    world = town.world
    applicant = town.adult()
    births = (D(2019, 1, 10), D(2019, 11, 20), D(2020, 6, 1), D(2020, 12, 1))
    for i, born in enumerate(births):
        school = world.school if i < 2 else world.other_school
        town.register(applicant=applicant, child=town.child(born=born), school=school)
    own = UserFactory(role=Role.DISTRICT, district=world.school.district)
    elsewhere = UserFactory(role=Role.DISTRICT, district=DistrictFactory())
    [signal] = of_kind(own, town, SignalKind.MANY_CHILDREN)
    assert signal.numbers["births"] == 4  # the numbers stay national
    assert {a.school_id for a in signal.applications} == {world.school.pk}
    assert of_kind(elsewhere, town, SignalKind.MANY_CHILDREN) == []
    assert len(of_kind(ministry(), town, SignalKind.MANY_CHILDREN)[0].applications) == 4
    director = UserFactory(role=Role.SCHOOL, school=world.school)
    assert signals_visible_to(director, town.campaign) == []


def _teacher(town: Town, pin: str, added: dt.datetime):
    from kattoo.catalog.models import Teacher

    return Teacher.objects.create(
        school=town.world.school, pin=pin, full_name="Асанова Айгүл", added_at=added
    )


def test_a_teacher_added_shortly_before_the_childs_registration(town: Town) -> None:
    # §24: the roster entry was made 10 days before the child's teacher's-priority registration.
    mother = town.adult()
    child = town.child(mother=mother)
    _teacher(town, mother.pin, clock.bishkek(2026, 3, 22, 12, 0))
    with clock.frozen(clock.bishkek(2026, 4, 1, 10, 5)):
        app = town.register(applicant=mother, child=child, route="teacher")
    [signal] = of_kind(ministry(), town, SignalKind.LATE_TEACHER)
    assert signal.key == str(app.pk) and signal.applications == [app]
    assert signal.numbers["days"] == 10 and signal.numbers["window"] == 30
    assert signal.numbers["added"] == "2026-03-22"
    assert "10" in signal.why


def test_the_father_on_the_roster_counts_too(town: Town) -> None:
    father = town.adult()
    child = town.child()
    child.father_pin = father.pin
    child.save(update_fields=["father_pin"])
    _teacher(town, father.pin, clock.bishkek(2026, 3, 30, 9, 0))
    with clock.frozen(clock.bishkek(2026, 4, 1, 10, 5)):
        town.register(applicant=town.adult(), child=child, route="teacher")
    [signal] = of_kind(ministry(), town, SignalKind.LATE_TEACHER)
    assert signal.numbers["days"] == 2


def test_a_teacher_long_on_the_roster_is_normal(town: Town) -> None:
    mother = town.adult()
    _teacher(town, mother.pin, clock.bishkek(2025, 9, 1, 9, 0))
    with clock.frozen(clock.bishkek(2026, 4, 1, 10, 5)):
        town.register(applicant=mother, child=town.child(mother=mother), route="teacher")
        # a recent roster entry matters for the teacher route only
        other = town.adult()
        _teacher(town, other.pin, clock.bishkek(2026, 3, 25, 9, 0))
        town.register(applicant=other, child=town.child(mother=other), route="microdistrict")
    assert of_kind(ministry(), town, SignalKind.LATE_TEACHER) == []


def test_late_teacher_signal_stays_in_the_district(town: Town) -> None:
    mother = town.adult()
    _teacher(town, mother.pin, clock.bishkek(2026, 3, 25, 9, 0))
    with clock.frozen(clock.bishkek(2026, 4, 1, 10, 5)):
        town.register(applicant=mother, child=town.child(mother=mother), route="teacher")
    own = UserFactory(role=Role.DISTRICT, district=town.world.school.district)
    other = UserFactory(role=Role.DISTRICT, district=DistrictFactory())
    assert len(of_kind(own, town, SignalKind.LATE_TEACHER)) == 1
    assert of_kind(other, town, SignalKind.LATE_TEACHER) == []
