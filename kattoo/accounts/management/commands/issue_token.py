"""``manage.py issue_token --pin PIN | --username NAME``: print an API bearer token.

Needs shell access to the server: it is how operators and outside test harnesses act as a
user (API.md). An applicant's PIN is verified through the registry first."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kattoo.accounts.models import User
from kattoo.accounts.services import applicant_for_pin, token_issue
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation
from kattoo.integrations.registry.pin import InvalidPin, pin_parse


class Command(BaseCommand):
    help = "Issue an API token for an applicant (by PIN) or a staff user (by username)."

    def add_arguments(self, parser: CommandParser) -> None:
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--pin")
        who.add_argument("--username")
        parser.add_argument("--label", default="issue_token")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor(user=None, channel="cli")
        if options["pin"]:
            try:
                pin_parse(options["pin"])
            except InvalidPin as exc:
                raise CommandError(f"invalid PIN: {exc}") from exc
            try:
                user = applicant_for_pin(pin=options["pin"], actor=actor)
            except RuleViolation as exc:
                raise CommandError(f"{exc.code}: {exc.title}") from exc
        else:
            found = User.objects.filter(username=options["username"], is_active=True).first()
            if found is None:
                raise CommandError("no active user with this username")
            user = found
        self.stdout.write(token_issue(user=user, actor=actor, label=options["label"]))
