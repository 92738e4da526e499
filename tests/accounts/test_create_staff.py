"""``manage.py create_staff``: the operator's bootstrap of the first ministry administrator."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from kattoo.accounts.models import Role, StaffEnrolment, User
from kattoo.accounts.staff import staff_enrolment_complete, staff_enrolment_start
from kattoo.audit.models import AuditEvent

from ..factories import DistrictFactory, SchoolFactory
from .staff_helpers import PASSWORD, actor, code_for


def run(*args: str) -> str:
    out = io.StringIO()
    with translation.override("en"):  # the messages below; Kyrgyz is the default elsewhere
        call_command("create_staff", *args, stdout=out)
    return out.getvalue()


def test_bootstrap_on_an_empty_database_prints_a_working_link() -> None:
    assert not User.objects.exists()
    out = run("--username", "minadmin", "--role", "ministry_admin", "--full-name", "Бир Адам")
    user = User.objects.get(username="minadmin")
    assert user.role == Role.MINISTRY_ADMIN and user.is_staff and user.full_name == "Бир Адам"
    assert not user.has_usable_password()
    [token] = re.findall(r"http://127\.0\.0\.1:8000/staff/enrol/([\w-]+)/", out)
    assert "Valid until" in out and ("█" in out or "▀" in out)  # the link as a terminal QR code
    event = AuditEvent.objects.get(action="staff.create")
    assert event.channel == "cli" and event.data["role"] == "ministry_admin"
    started = staff_enrolment_start(token=token, password=PASSWORD, actor=actor(None))
    staff_enrolment_complete(token=token, code=code_for(started.device), actor=actor(None))
    assert StaffEnrolment.objects.get(user=user).used_at is not None


def test_a_director_and_an_officer_with_their_scope() -> None:
    school, district = SchoolFactory(), DistrictFactory()
    run("--username", "director1", "--role", "school", "--school", school.code, "--no-qr")
    run("--username", "officer1", "--role", "district", "--district", district.soate, "--no-qr")
    assert User.objects.get(username="director1").school == school
    assert User.objects.get(username="officer1").district == district


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--username", "taken", "--role", "ministry_analyst"), "already taken"),
        (("--username", "1234", "--role", "ministry_analyst"), "--username"),
        (("--username", "officer2", "--role", "district"), "--district"),
        (("--username", "officer2", "--role", "district", "--district", "0"), "--district"),
        (("--username", "director2", "--role", "school", "--school", "NOPE"), "--school"),
    ],
)
def test_refusals_are_clear_and_change_nothing(args: tuple[str, ...], message: str) -> None:
    User.objects.create(username="taken", role=Role.MINISTRY_ANALYST)
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert User.objects.count() == 1 and not StaffEnrolment.objects.exists()


def test_an_unknown_role_is_refused_by_the_parser() -> None:
    with pytest.raises(CommandError):
        run("--username", "someone", "--role", "applicant")
