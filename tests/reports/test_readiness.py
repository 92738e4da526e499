"""Readiness of a campaign (issue 11): counts on a small scene, each blocker appears and
disappears when fixed, scope, and a query count that does not grow with the schools."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_otp.plugins.otp_totp.models import TOTPDevice

from kattoo.accounts.models import Role, User
from kattoo.campaigns.models import CalendarDay, Campaign
from kattoo.catalog.models import Ownership
from kattoo.catalog.services import school_verify
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation
from kattoo.quotas.selectors import quota_of
from kattoo.quotas.services import quota_approve, quota_compute, quota_confirm
from kattoo.reports.readiness import Readiness, campaign_readiness

from ..conftest import BEFORE, SYSTEM, World, build_school
from ..factories import ExistingClassSetFactory, SchoolFactory, UserFactory
from ..web.staff.conftest import PASSWORD

LOCK_NEAR = clock.bishkek(2026, 3, 20, 9, 0)  # the 2026 lock is the end of Friday 03-27
AFTER_LOCK = clock.bishkek(2026, 3, 30, 9, 0)


def director(school, *, usable: bool = True, totp: bool | None = True) -> User:
    user = UserFactory(role=Role.SCHOOL, school=school)
    if usable:
        user.set_password(PASSWORD)
    else:
        user.set_unusable_password()
    user.save()
    if totp is not None:
        TOTPDevice.objects.create(user=user, name="phone", confirmed=totp)
    return user


def ministry() -> User:
    return UserFactory(role=Role.MINISTRY_ANALYST)


def codes(result: Readiness) -> dict[str, int]:
    return {b.code: b.count for b in result.blockers}


def read(world: World, user: User | None = None, **kw) -> Readiness:
    return campaign_readiness(campaign=world.campaign, user=user or ministry(), **kw)


def test_counts_for_the_country_and_per_district(world: World) -> None:
    with clock.frozen(BEFORE):
        result = read(world)
    totals = result.totals
    assert (totals.schools, totals.quotas_computed, totals.quotas_confirmed) == (2, 2, 0)
    assert (totals.quotas_locked_automatically, totals.quotas_approved) == (0, 0)
    assert (totals.schools_verified, totals.directors_working) == (0, 0)
    # school: a Kyrgyz class of 25 and a Russian one of 26; other_school: a Kyrgyz one of 30
    assert totals.seats == {"ky": 55, "ru": 26}
    assert result.published and not result.locked and result.stage == "before"
    rows = {d.id: d.counts for d in result.districts}
    assert rows[world.school.district_id].seats == {"ky": 25, "ru": 26}
    assert rows[world.other_school.district_id].schools == 1
    assert result.schools == []  # the country view has no school rows
    assert codes(result) == {"no_director": 2, "school_not_verified": 2}
    assert not result.ready


def test_district_view_lists_schools(world: World) -> None:
    officer = UserFactory(role=Role.DISTRICT, district=world.school.district)
    director(world.school)
    school_verify(school=world.school, campaign=world.campaign, note="", actor=Actor(user=officer))
    with clock.frozen(BEFORE):
        result = read(world, officer)
    assert result.district == world.school.district
    [row] = result.schools
    assert (row.school.code, row.quota_state, row.verified, row.director) == (
        world.school.code,
        "draft",
        True,
        True,
    )
    assert row.seats == {"ky": 25, "ru": 26} and row.quota_seats == 51
    assert result.districts == [] and codes(result) == {}
    assert result.ready


def test_working_director_needs_active_password_and_confirmed_totp(world: World) -> None:
    director(world.other_school, totp=None)
    director(world.other_school, totp=False)
    director(world.other_school, usable=False)
    inactive = director(world.other_school)
    inactive.is_active = False
    inactive.save()
    with clock.frozen(BEFORE):
        assert codes(read(world))["no_director"] == 2
        director(world.school)
        result = read(world, district=world.school.district)
    assert "no_director" not in codes(result)
    assert result.totals.directors_working == 1


def test_school_without_quota_then_computed(world: World) -> None:
    school = SchoolFactory(district=world.school.district)
    ExistingClassSetFactory(school=school, campaign=world.campaign, size=27)
    with clock.frozen(BEFORE):
        result = read(world, district=school.district)
        blocker = next(b for b in result.blockers if b.code == "no_quota")
        assert blocker.count == 1 and [s.code for s in blocker.schools] == [school.code]
        assert blocker.severity == "blocker" and blocker.message
        quota_compute(school=school, campaign=world.campaign, actor=SYSTEM)
        assert "no_quota" not in codes(read(world))


def test_private_school_not_opted_in_is_not_counted(world: World) -> None:
    SchoolFactory(district=world.school.district, ownership=Ownership.PRIVATE)
    with clock.frozen(BEFORE):
        assert read(world).totals.schools == 2


def test_quota_with_no_seats_then_recomputed(world: World) -> None:
    school = build_school(world.campaign, sizes=[])
    with clock.frozen(BEFORE):
        assert codes(read(world))["quota_no_seats"] == 1
        ExistingClassSetFactory(school=school, campaign=world.campaign, size=27)
        quota_compute(school=school, campaign=world.campaign, actor=SYSTEM)
        assert "quota_no_seats" not in codes(read(world))


def test_unconfirmed_quotas_listed_as_the_lock_approaches(world: World) -> None:
    with clock.frozen(BEFORE):
        assert "quota_not_confirmed" not in codes(read(world))  # the lock is weeks away
    director_user = director(world.school)
    with clock.frozen(LOCK_NEAR):
        result = read(world)
        assert codes(result)["quota_not_confirmed"] == 2
        assert next(b for b in result.blockers if b.code == "quota_not_confirmed").severity == (
            "warning"
        )
        quota = quota_of(world.school.pk, world.campaign)
        assert quota is not None
        quota_confirm(quota=quota, actor=Actor(user=director_user))
        result = read(world)
    assert codes(result)["quota_not_confirmed"] == 1
    assert result.totals.quotas_confirmed == 1


def test_after_the_lock_quotas_wait_for_the_district(world: World) -> None:
    director_user = director(world.school)
    with clock.frozen(BEFORE):
        quota = quota_of(world.school.pk, world.campaign)
        assert quota is not None
        quota_confirm(quota=quota, actor=Actor(user=director_user))
    officer = UserFactory(role=Role.DISTRICT, district=world.school.district)
    with clock.frozen(AFTER_LOCK):
        result = read(world)
        assert result.locked
        assert (result.totals.quotas_confirmed, result.totals.quotas_locked_automatically) == (
            1,
            1,
        )
        assert codes(result)["quota_not_approved"] == 2
        assert "quota_not_confirmed" not in codes(result)
        quota_approve(quota=quota, actor=Actor(user=officer))
        result = read(world)
        assert codes(result)["quota_not_approved"] == 1
        assert result.totals.quotas_approved == 1
        district = read(world, officer)
    assert "quota_not_approved" not in codes(district)
    [row] = district.schools
    assert row.approved and row.quota_state == "confirmed"


def next_year(world: World, **changes) -> Campaign:
    fields = {
        f.name: getattr(world.campaign, f.name)
        for f in Campaign._meta.get_fields()
        if f.concrete and not f.primary_key
    }
    year = dt.timedelta(days=365)
    fields.update(
        code="2027-2028",
        academic_year="2027-2028",
        title_en="2027–2028",
        is_active=False,
        published_at=None,
        stage1_starts_at=world.campaign.stage1_starts_at + year,
        stage2_starts_at=world.campaign.stage2_starts_at + year,
        registration_ends_at=world.campaign.registration_ends_at + year,
        **changes,
    )
    return Campaign.objects.create(**fields)


def test_unpublished_campaign_and_missing_calendar(world: World) -> None:
    campaign = next_year(world)
    user = ministry()
    with clock.frozen(BEFORE):
        result = campaign_readiness(campaign=campaign, user=user)
        assert codes(result) == {
            "campaign_not_published": 1,
            "no_quota": 2,
            "no_director": 2,
            "school_not_verified": 2,
            "no_calendar": 1,
        }
        assert next(b for b in result.blockers if b.code == "no_calendar").severity == "warning"
        CalendarDay.objects.create(date=dt.date(2027, 1, 1), name_en="New Year")
        Campaign.objects.filter(pk=world.campaign.pk).update(is_active=False)
        Campaign.objects.filter(pk=campaign.pk).update(is_active=True)
        campaign.refresh_from_db()
        result = campaign_readiness(campaign=campaign, user=user)
    assert "no_calendar" not in codes(result)
    assert "campaign_not_published" not in codes(result)


def test_scope(world: World) -> None:
    officer = UserFactory(role=Role.DISTRICT, district=world.school.district)
    with clock.frozen(BEFORE):
        with pytest.raises(RuleViolation) as exc:
            read(world, officer, district=world.other_school.district)
        assert exc.value.code == "not_found"
        for role, scope in (
            (Role.SCHOOL, {"school": world.school}),
            (Role.OPERATOR, {}),
        ):
            with pytest.raises(RuleViolation) as exc:
                read(world, UserFactory(role=role, **scope))
            assert exc.value.code == "forbidden"
        own = read(world, officer)
    assert [s.school.code for s in own.schools] == [world.school.code]
    assert own.totals.schools == 1


def _queries(world: World, **kw) -> int:
    user = kw.pop("user", None) or ministry()
    with CaptureQueriesContext(connection) as ctx:
        read(world, user, **kw)
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_schools(world: World) -> None:
    officer = UserFactory(role=Role.DISTRICT, district=world.school.district)
    with clock.frozen(BEFORE):
        country, district = _queries(world), _queries(world, user=officer)
        for i in range(6):
            school = build_school(world.campaign, sizes=[("ky", 25 + i)])
            director(school)
            officer_school = SchoolFactory(district=world.school.district)
            director(officer_school)
            school_verify(
                school=officer_school, campaign=world.campaign, note="", actor=Actor(user=officer)
            )
        assert _queries(world) == country
        assert _queries(world, user=officer) == district
    assert country <= 5 and district <= 5, (country, district)


def test_result_is_plain_data(world: World) -> None:
    with clock.frozen(BEFORE):
        result = read(world, district=world.school.district)
    assert dataclasses.asdict(result.totals)["seats"] == {"ky": 25, "ru": 26}
