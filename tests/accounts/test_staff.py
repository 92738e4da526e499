"""Staff accounts (kattoo.accounts.staff, ADR 0018): who creates whom, the one-time enrolment
link, deactivation and a lost phone. Real database, real TOTP codes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from kattoo.accounts.models import ApiToken, Role, StaffEnrolment, User
from kattoo.accounts.services import token_issue, user_for_token
from kattoo.accounts.staff import (
    staff_create,
    staff_deactivate,
    staff_enrolment_complete,
    staff_enrolment_start,
    staff_second_factor_reset,
)
from kattoo.audit.models import AuditEvent
from kattoo.core import clock
from kattoo.core.errors import FieldError, RuleViolation

from ..factories import DistrictFactory, PersonFactory, SchoolFactory
from .staff_helpers import CLI, PASSWORD, actor, code_for, person, wrong_code


def create(creator: User | None, **kwargs: object) -> tuple[User, str]:
    args: dict[str, object] = {"username": "newperson", "full_name": "Жаңы Адам", **kwargs}
    return staff_create(
        actor_user=creator,
        actor=CLI if creator is None else actor(creator),
        **args,  # type: ignore[arg-type]
    )


def enrol(token: str) -> User:
    started = staff_enrolment_start(token=token, password=PASSWORD, actor=actor(None))
    return staff_enrolment_complete(token=token, code=code_for(started.device), actor=actor(None))


# --- who creates whom ------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.DISTRICT, Role.MINISTRY_ANALYST, Role.MINISTRY_ADMIN])
def test_ministry_admin_creates_officers_analysts_and_admins(role: str) -> None:
    admin = person(Role.MINISTRY_ADMIN)
    district = DistrictFactory()
    scope = {"district": district.soate} if role == Role.DISTRICT else {}
    user, token = create(admin, role=role, **scope)
    assert user.role == role and user.full_name == "Жаңы Адам"
    assert not user.has_usable_password()
    assert user.district == (district if role == Role.DISTRICT else None)
    enrolment = StaffEnrolment.objects.get(user=user)
    assert enrolment.created_by == admin and enrolment.reason == "new" and len(token) > 30
    assert enrolment.digest != token  # only the digest is stored
    assert enrolment.expires_at - enrolment.created_at == dt.timedelta(hours=72)
    actions = set(AuditEvent.objects.filter(actor_id=admin.pk).values_list("action", flat=True))
    assert actions == {"staff.create", "staff.enrolment_issue"}


def test_district_officer_creates_a_director_of_its_own_school() -> None:
    school = SchoolFactory()
    officer = person(Role.DISTRICT, district=school.district)
    user, _token = create(officer, role=Role.SCHOOL, school=school.code)
    assert user.school == school and user.role == Role.SCHOOL and not user.is_staff


def _refused(creator: User | None, code: str, status: int, **kwargs: object) -> RuleViolation:
    users, events = User.objects.count(), AuditEvent.objects.count()
    with pytest.raises(RuleViolation) as caught:
        create(creator, **kwargs)
    assert caught.value.code == code and caught.value.status == status
    assert (User.objects.count(), AuditEvent.objects.count()) == (users, events)
    assert not StaffEnrolment.objects.exists()
    return caught.value


def test_another_districts_school_is_not_found() -> None:
    officer = person(Role.DISTRICT, district=DistrictFactory())
    _refused(officer, "not_found", 404, role=Role.SCHOOL, school=SchoolFactory().code)
    _refused(officer, "not_found", 404, role=Role.SCHOOL, school="NO-SUCH-SCHOOL")


@pytest.mark.parametrize("role", [Role.DISTRICT, Role.MINISTRY_ANALYST, Role.MINISTRY_ADMIN])
def test_district_officer_creates_no_one_but_directors(role: str) -> None:
    district = DistrictFactory()
    officer = person(Role.DISTRICT, district=district)
    scope = {"district": district.soate} if role == Role.DISTRICT else {}
    _refused(officer, "forbidden", 403, role=role, **scope)


@pytest.mark.parametrize("role", [Role.MINISTRY_ANALYST, Role.SCHOOL, Role.OPERATOR])
def test_analysts_directors_and_operators_in_the_browser_create_no_one(role: str) -> None:
    school = SchoolFactory()
    creator = person(role, school=school if role == Role.SCHOOL else None)
    _refused(creator, "forbidden", 403, role=Role.MINISTRY_ANALYST)


def test_an_applicant_creates_no_one() -> None:
    applicant = person(Role.APPLICANT, person=PersonFactory())
    _refused(applicant, "forbidden", 403, role=Role.MINISTRY_ANALYST)


def test_ministry_admin_creates_no_director_and_no_operator() -> None:
    admin = person(Role.MINISTRY_ADMIN)
    _refused(admin, "forbidden", 403, role=Role.SCHOOL, school=SchoolFactory().code)
    _refused(admin, "forbidden", 403, role=Role.OPERATOR)


def test_duplicate_username_is_refused_whatever_the_case() -> None:
    admin = person(Role.MINISTRY_ADMIN)
    person(Role.MINISTRY_ANALYST, username="aibek")
    _refused(admin, "username_taken", 409, role=Role.MINISTRY_ANALYST, username="Aibek")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"role": "applicant"}, "role"),
        ({"role": "king"}, "role"),
        ({"role": Role.MINISTRY_ANALYST, "username": "12345678901234"}, "username"),
        ({"role": Role.MINISTRY_ANALYST, "username": "a b"}, "username"),
        ({"role": Role.MINISTRY_ANALYST, "full_name": "   "}, "full_name"),
        ({"role": Role.DISTRICT}, "district"),
        ({"role": Role.DISTRICT, "district": "999"}, "district"),
        ({"role": Role.MINISTRY_ANALYST, "district": "999"}, "district"),
    ],
)
def test_malformed_input_is_a_field_error_and_changes_nothing(
    kwargs: dict[str, str], field: str
) -> None:
    admin = person(Role.MINISTRY_ADMIN)
    users = User.objects.count()
    with pytest.raises(FieldError) as caught:
        create(admin, **kwargs)
    assert caught.value.field == field and str(caught.value.message)
    assert User.objects.count() == users and not AuditEvent.objects.exists()


def test_the_operator_on_the_server_creates_anyone() -> None:
    user, _token = create(None, role=Role.OPERATOR, username="operator1")
    assert user.role == Role.OPERATOR and user.is_staff
    event = AuditEvent.objects.get(action="staff.create")
    assert event.channel == "cli" and event.actor_id is None


# --- enrolment ---------------------------------------------------------------------------------


def test_enrolment_sets_the_chosen_password_and_confirms_the_device() -> None:
    user, token = create(None, role=Role.MINISTRY_ADMIN)
    started = staff_enrolment_start(token=token, password=PASSWORD, actor=actor(None))
    assert started.otpauth_uri.startswith("otpauth://totp/Kattoo%3Anewperson?secret=")
    assert started.secret in started.otpauth_uri
    user.refresh_from_db()
    assert not user.has_usable_password()  # not before the code proves the phone
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    staff_enrolment_complete(token=token, code=code_for(started.device), actor=actor(None))
    user.refresh_from_db()
    assert check_password(PASSWORD, user.password)
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed and device.name == "kattoo"
    enrolment = StaffEnrolment.objects.get(user=user)
    assert enrolment.used_at is not None and enrolment.password_hash == ""
    assert AuditEvent.objects.filter(action="staff.enrolment_complete", actor_id=user.pk).exists()
    with pytest.raises(RuleViolation) as caught:  # the link works once
        staff_enrolment_start(token=token, password=PASSWORD, actor=actor(None))
    assert caught.value.code == "enrolment_used"


def test_choosing_the_password_again_keeps_the_secret_already_scanned() -> None:
    _user, token = create(None, role=Role.MINISTRY_ADMIN)
    first = staff_enrolment_start(token=token, password=PASSWORD, actor=actor(None))
    again = staff_enrolment_start(token=token, password=PASSWORD + "!", actor=actor(None))
    assert first.secret == again.secret


def test_a_wrong_code_confirms_nothing() -> None:
    user, token = create(None, role=Role.MINISTRY_ADMIN)
    started = staff_enrolment_start(token=token, password=PASSWORD, actor=actor(None))
    with pytest.raises(RuleViolation) as caught:
        staff_enrolment_complete(token=token, code=wrong_code(started.device), actor=actor(None))
    assert caught.value.code == "totp_invalid" and caught.value.status == 422
    user.refresh_from_db()
    assert not user.has_usable_password()
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert StaffEnrolment.objects.get(user=user).used_at is None
    assert AuditEvent.objects.filter(action="staff.enrolment_code_wrong").count() == 1


def test_a_code_before_the_password_is_refused() -> None:
    _user, token = create(None, role=Role.MINISTRY_ADMIN)
    with pytest.raises(RuleViolation) as caught:
        staff_enrolment_complete(token=token, code="123456", actor=actor(None))
    assert caught.value.code == "enrolment_not_started"


def test_a_weak_password_is_refused_with_the_validators_words() -> None:
    user, token = create(None, role=Role.MINISTRY_ADMIN)
    for weak in ("short", "password123456", "123456789012345", "newperson"):
        with pytest.raises(FieldError) as caught:
            staff_enrolment_start(token=token, password=weak, actor=actor(None))
        assert caught.value.field == "password" and caught.value.message
    assert StaffEnrolment.objects.get(user=user).password_hash == ""
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_an_expired_link_is_refused() -> None:
    _user, token = create(None, role=Role.MINISTRY_ADMIN)
    later = clock.now() + dt.timedelta(hours=72, seconds=1)
    with clock.frozen(later), pytest.raises(RuleViolation) as caught:
        staff_enrolment_start(token=token, password=PASSWORD, actor=actor(None))
    assert caught.value.code == "enrolment_expired"


def test_an_unknown_link_is_not_found() -> None:
    with pytest.raises(RuleViolation) as caught:
        staff_enrolment_start(token="not-a-token", password=PASSWORD, actor=actor(None))
    assert caught.value.code == "enrolment_invalid" and caught.value.status == 404


# --- deactivation and a lost phone -----------------------------------------------------------


def _enrolled_officer() -> tuple[User, User]:
    admin = person(Role.MINISTRY_ADMIN)
    user, token = create(admin, role=Role.DISTRICT, district=DistrictFactory().soate)
    enrol(token)
    return admin, user


def test_deactivation_revokes_tokens_and_ends_the_session(client: Client) -> None:
    admin, user = _enrolled_officer()
    raw = token_issue(user=user, actor=CLI)
    client.force_login(user)
    assert "_auth_user_id" in client.session
    staff_deactivate(user=user, actor_user=admin, actor=actor(admin))
    user.refresh_from_db()
    assert not user.is_active and user_for_token(raw) is None
    assert not ApiToken.objects.filter(user=user, revoked_at__isnull=True).exists()
    response = client.get("/staff/district/")
    assert response.status_code == 302 and "/staff/login/" in response["Location"]
    event = AuditEvent.objects.get(action="staff.deactivate")
    assert event.actor_id == admin.pk and event.data["tokens_revoked"] == 1


def test_a_district_officer_deactivates_only_its_own_directors() -> None:
    own, other = SchoolFactory(), SchoolFactory()
    officer = person(Role.DISTRICT, district=own.district)
    mine = person(Role.SCHOOL, school=own)
    theirs = person(Role.SCHOOL, school=other)
    staff_deactivate(user=mine, actor_user=officer, actor=actor(officer))
    with pytest.raises(RuleViolation) as caught:
        staff_deactivate(user=theirs, actor_user=officer, actor=actor(officer))
    assert caught.value.code == "not_found"
    theirs.refresh_from_db()
    assert theirs.is_active


def test_an_analyst_deactivates_no_one_and_no_one_deactivates_themselves() -> None:
    analyst = person(Role.MINISTRY_ANALYST)
    admin = person(Role.MINISTRY_ADMIN)
    with pytest.raises(RuleViolation) as caught:
        staff_deactivate(user=admin, actor_user=analyst, actor=actor(analyst))
    assert caught.value.code == "forbidden"
    with pytest.raises(RuleViolation) as caught:
        staff_deactivate(user=admin, actor_user=admin, actor=actor(admin))
    assert caught.value.code == "forbidden"
    assert not AuditEvent.objects.exists()


def test_reset_removes_the_device_and_tokens_and_issues_a_new_link() -> None:
    admin, user = _enrolled_officer()
    old_device = TOTPDevice.objects.get(user=user)
    raw = token_issue(user=user, actor=CLI)
    old_link = StaffEnrolment.objects.get(user=user)
    _user, token = staff_second_factor_reset(user=user, actor_user=admin, actor=actor(admin))
    user.refresh_from_db()
    assert not TOTPDevice.objects.filter(pk=old_device.pk).exists()
    assert user_for_token(raw) is None and not user.has_usable_password()
    new_link = StaffEnrolment.objects.exclude(pk=old_link.pk).get(user=user)
    assert new_link.reason == "reset" and new_link.created_by == admin
    enrol(token)
    user.refresh_from_db()
    assert check_password(PASSWORD, user.password)
    assert TOTPDevice.objects.get(user=user).pk != old_device.pk
    assert AuditEvent.objects.filter(action="staff.second_factor_reset", actor_id=admin.pk).exists()


def test_a_new_link_replaces_the_unused_one() -> None:
    admin = person(Role.MINISTRY_ADMIN)
    user, first = create(admin, role=Role.MINISTRY_ANALYST)
    _user, second = staff_second_factor_reset(user=user, actor_user=admin, actor=actor(admin))
    with pytest.raises(RuleViolation) as caught:
        staff_enrolment_start(token=first, password=PASSWORD, actor=actor(None))
    assert caught.value.code == "enrolment_used"
    staff_enrolment_start(token=second, password=PASSWORD, actor=actor(None))
