"""Helpers shared by the staff-account tests: people with a role and a scope, and the codes
an authenticator app would show."""

from __future__ import annotations

from typing import Any

from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from kattoo.accounts.models import Role, User
from kattoo.core.actors import Actor

from ..factories import UserFactory

PASSWORD = "a long and unusual passphrase 42"
CLI = Actor(user=None, channel="cli")


def person(role: str, **scope: Any) -> User:
    return UserFactory(role=role, **scope)


def actor(user: User | None) -> Actor:
    return Actor(user=user, channel="api")


def code_for(device: TOTPDevice) -> str:
    """The code the phone shows now."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def wrong_code(device: TOTPDevice) -> str:
    return f"{(int(code_for(device)) + 500_000) % 1_000_000:06d}"


def ministry_admin() -> User:
    return person(Role.MINISTRY_ADMIN)
