"""Staff sign-in: password and a TOTP code, a lockout after repeated failures, enrolment."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from kattoo.accounts.models import Role
from kattoo.audit.models import AuditEvent

from .conftest import PASSWORD, staff_user, totp_device


def code_of(device: TOTPDevice, shift: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, drift=shift):06d}"


def test_sign_in_with_password_and_code(client: Client, world) -> None:
    user = staff_user(Role.SCHOOL, school=world.school)
    device = totp_device(user)
    first = client.get("/staff/school/quota/")
    assert first["Location"] == "/staff/login/?next=%2Fstaff%2Fschool%2Fquota%2F"
    response = client.post(
        "/staff/login/",
        {
            "username": user.username,
            "password": PASSWORD,
            "code": code_of(device),
            "next": "/staff/school/quota/",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/staff/school/quota/"
    assert client.get("/staff/school/quota/").status_code == 200
    assert AuditEvent.objects.filter(action="staff.login", object_id=str(user.pk)).exists()
    client.post("/staff/logout/")
    assert client.get("/staff/school/").status_code == 302


def test_home_sends_each_role_to_its_pages(client: Client, world) -> None:
    user = staff_user(Role.DISTRICT, district=world.school.district)
    device = totp_device(user)
    response = client.post(
        "/staff/login/",
        {"username": user.username, "password": PASSWORD, "code": code_of(device)},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/staff/district/"


@pytest.mark.parametrize("wrong", ["password", "code", "no_device", "applicant", "foreign_next"])
def test_sign_in_refused(client: Client, world, wrong: str) -> None:
    user = staff_user(Role.MINISTRY_ANALYST)
    device = totp_device(user)
    form = {"username": user.username, "password": PASSWORD, "code": code_of(device)}
    if wrong == "password":
        form["password"] = "guess"
    elif wrong == "code":
        form["code"] = f"{(int(code_of(device)) + 1) % 10**6:06d}"
    elif wrong == "no_device":
        device.delete()
    elif wrong == "applicant":
        parent = world.family().parent
        parent.set_password(PASSWORD)
        parent.save()
        form["username"], form["code"] = parent.username, code_of(totp_device(parent))
    else:
        form["next"] = "https://evil.example/"
        response = client.post("/staff/login/", form)
        assert response["Location"] == "/staff/"
        return
    response = client.post("/staff/login/", form)
    assert response.status_code == 200
    assert "/staff/" not in response.get("Location", "")
    assert client.get("/staff/ministry/").status_code == 302


def test_repeated_failures_lock_the_username(client: Client, world) -> None:
    user = staff_user(Role.MINISTRY_ANALYST)
    device = totp_device(user)
    for _ in range(5):
        client.post(
            "/staff/login/", {"username": user.username, "password": "guess", "code": "000000"}
        )
    locked = client.post(
        "/staff/login/",
        {"username": user.username, "password": PASSWORD, "code": code_of(device)},
    )
    assert locked.status_code == 200 and 'role="alert"' in locked.content.decode()
    assert client.get("/staff/ministry/").status_code == 302
    assert AuditEvent.objects.filter(action="staff.login_failed").count() == 5


def test_the_same_code_is_not_accepted_twice(world) -> None:
    user = staff_user(Role.OPERATOR)
    device = totp_device(user)
    form = {"username": user.username, "password": PASSWORD, "code": code_of(device)}
    assert Client().post("/staff/login/", form).status_code == 302
    assert Client().post("/staff/login/", form).status_code == 200


def test_operator_home_links_to_admin(world) -> None:
    user = staff_user(Role.OPERATOR)
    device = totp_device(user)
    client = Client()
    client.post(
        "/staff/login/", {"username": user.username, "password": PASSWORD, "code": code_of(device)}
    )
    page = client.get("/staff/")
    assert page.status_code == 200 and 'href="/admin/"' in page.content.decode()


def test_staff_totp_command_enrols_a_phone(world) -> None:
    user = staff_user(Role.SCHOOL, school=world.school)
    out = io.StringIO()
    call_command("staff_totp", "--username", user.username, stdout=out)
    lines = dict(line.split(":", 1) for line in out.getvalue().splitlines() if ":" in line)
    uri = lines["otpauth"].strip()
    secret = lines["secret"].strip()
    assert uri.startswith(f"otpauth://totp/{user.username}?")
    assert parse_qs(urlparse(uri).query)["secret"] == [secret]
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed
    same = io.StringIO()
    call_command("staff_totp", "--username", user.username, stdout=same)
    assert secret in same.getvalue() and TOTPDevice.objects.filter(user=user).count() == 1
    fresh = io.StringIO()
    call_command("staff_totp", "--username", user.username, "--reset", stdout=fresh)
    assert secret not in fresh.getvalue() and TOTPDevice.objects.filter(user=user).count() == 1
    with pytest.raises(CommandError):
        call_command("staff_totp", "--username", "nobody")
    parent = world.family().parent
    with pytest.raises(CommandError):
        call_command("staff_totp", "--username", parent.username)
