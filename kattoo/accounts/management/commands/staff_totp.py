"""``manage.py staff_totp --username NAME [--reset]``: the staff member's TOTP device.

Prints the ``otpauth://`` URI (to show as a QR code or paste into an authenticator app) and
the base32 secret (to type by hand). Needs shell access to the server, like ``issue_token``:
it is how the technical operator enrols a phone for a school director, a district officer or
a ministry employee. ``--reset`` replaces the secret, e.g. after a phone is lost."""

from __future__ import annotations

from base64 import b32encode
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from kattoo.accounts.models import STAFF_ROLES, User
from kattoo.audit.services import audit_record
from kattoo.core.actors import Actor

DEVICE_NAME = "kattoo"


class Command(BaseCommand):
    help = "Create (or show, or reset) a staff user's TOTP device and print its otpauth URI."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument(
            "--reset", action="store_true", help="replace the secret (the old codes stop working)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError("no active user with this username")
        if user.role not in STAFF_ROLES:
            raise CommandError("only staff sign in with a TOTP code; applicants use SMS codes")
        with transaction.atomic():
            device = TOTPDevice.objects.filter(user=user, name=DEVICE_NAME).first()
            created = device is None or options["reset"]
            if created:
                TOTPDevice.objects.filter(user=user, name=DEVICE_NAME).delete()
                device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)
                audit_record(
                    actor=Actor(user=None, channel="cli"),
                    action="staff.totp_enrol",
                    obj=user,
                    data={"reset": bool(options["reset"])},
                )
        assert device is not None
        self.stdout.write(f"otpauth: {device.config_url}")
        self.stdout.write(f"secret:  {b32encode(device.bin_key).decode()}")
        if not created:
            self.stdout.write("(existing device; use --reset to issue a new secret)")
