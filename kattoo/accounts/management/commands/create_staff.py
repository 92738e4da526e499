"""``manage.py create_staff --username NAME --role ROLE [--full-name …] [--school CODE]
[--district SOATE]``: the operator creates a staff account on the server.

This is how a deployment gets its first ministry administrator (ADR 0018); after that, people
are created in the browser or through the API. No password is chosen here: the command prints
a one-time enrolment link (and its QR code) with which the person chooses a password and
enrols an authenticator app. Hand it over in person or by an official channel."""

from __future__ import annotations

import io
from typing import Any

import segno
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kattoo.accounts.models import StaffEnrolment
from kattoo.accounts.staff import STAFF_ROLES, enrolment_url, staff_create
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import FieldError, RuleViolation


class Command(BaseCommand):
    help = "Create a staff account and print its one-time enrolment link."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--role", required=True, choices=[str(r) for r in STAFF_ROLES])
        parser.add_argument("--full-name", default="", help="defaults to the username")
        parser.add_argument("--school", help="the school's catalog code (role school)")
        parser.add_argument("--district", help="the district's SOATE code (role district)")
        parser.add_argument("--no-qr", action="store_true", help="do not print the QR code")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user, token = staff_create(
                username=options["username"],
                role=options["role"],
                full_name=options["full_name"] or options["username"],
                school=options["school"],
                district=options["district"],
                actor_user=None,
                actor=Actor(user=None, channel="cli"),
            )
        except FieldError as exc:
            raise CommandError(f"--{exc.field.replace('_', '-')}: {exc.message}") from exc
        except RuleViolation as exc:
            raise CommandError(f"{exc.title} {exc.detail or ''}".strip()) from exc
        enrolment = StaffEnrolment.objects.filter(user=user).latest("created_at")
        url = enrolment_url(token)
        expires = enrolment.expires_at.astimezone(clock.BISHKEK)
        self.stdout.write(self.style.SUCCESS(f"Created {user.username} ({user.role})."))
        self.stdout.write(f"One-time enrolment link: {url}")
        self.stdout.write(f"Valid until {expires:%Y-%m-%d %H:%M} (Asia/Bishkek).")
        self.stdout.write(
            "Hand it over in person or by an official channel. With it the person chooses a "
            "password and enrols an authenticator app; nobody else ever knows the password."
        )
        if not options["no_qr"]:
            out = io.StringIO()
            segno.make(url, error="m").terminal(out=out, compact=True)
            self.stdout.write(out.getvalue(), ending="")
