"""What staff of schools, district offices and the ministry do at a computer: sign in with a
password and the 6-digit code of their authenticator app (django-otp TOTP), read the flash."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from kattoo.accounts.models import User

from ..web.staff.conftest import PASSWORD, staff_user, totp_device
from .conftest import Screen
from .parent import t

__all__ = ["PASSWORD", "code_now", "flash", "label_in", "staff_account", "staff_sign_in"]


def staff_account(role: str, **scope: Any) -> User:
    """A staff user with a password and a confirmed TOTP device (as the operator enrols one)."""
    user = staff_user(role, **scope)
    totp_device(user)
    return user


def code_now(user: User) -> str:
    """The code the user's authenticator app shows now (RFC 6238, the device's key and step).

    A code is accepted once (django-otp remembers the last time step used), so a user signs in
    once per test."""
    device = TOTPDevice.objects.get(user=user)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def staff_sign_in(screen: Screen, user: User, language: str, *, home: str) -> None:
    """The staff sign-in page → username, password, code typed in → the role's start page."""
    page = screen.goto("/staff/login/")
    screen.check("staff-login")
    assert page.locator("html").get_attribute("lang") == language
    page.get_by_label(t(language, "Username")).fill(user.get_username())
    page.get_by_label(t(language, "Password"), exact=True).fill(PASSWORD)
    page.get_by_label(t(language, "Code from the authenticator app")).fill(code_now(user))
    page.locator("main").get_by_role("button", name=t(language, "Sign in")).click()
    assert screen.path == home, (screen.path, flash(screen))
    screen.check("signed-in")


def flash(screen: Screen) -> str:
    """The messages at the top of the page (what the last action did or why it did not)."""
    return " ".join(screen.page.locator("main .alert").all_inner_texts())


def label_in(lang: str, label: Any) -> str:
    """A model's choice label (a lazy translation) as a page in ``lang`` shows it."""
    with translation.override(lang):
        return str(label)
