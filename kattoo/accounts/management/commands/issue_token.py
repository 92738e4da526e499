"""``manage.py issue_token --pin PIN | --username NAME``: print an API bearer token.

Needs shell access to the server: it is how operators and outside test harnesses act as a
user (API.md). An applicant's PIN is verified through the registry first.

Every token expires (ADR 0021): a staff token after the staff lifetime
(``KATTOO_STAFF["TOKEN_HOURS"]``) unless ``--hours N`` says otherwise, an applicant's after
``KATTOO_LOGIN["TOKEN_DAYS"]``. A staff token issued here skips the second factor: it is the
operator's act on the server, audited with the command line as the actor. The token is printed
on standard output, its expiry on standard error."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kattoo.accounts.models import User
from kattoo.accounts.services import applicant_for_pin, token_issue, token_lifetime
from kattoo.core import clock
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
        parser.add_argument(
            "--hours", type=int, default=None, help="lifetime in hours (default: the account's)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor(user=None, channel="cli")
        hours = options["hours"]
        if hours is not None and not 1 <= hours <= 24 * 366:
            raise CommandError("--hours must be between 1 and 8784")
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
        ttl = dt.timedelta(hours=hours) if hours is not None else token_lifetime(user)
        self.stdout.write(token_issue(user=user, actor=actor, label=options["label"], ttl=ttl))
        expires_at = clock.now() + ttl
        self.stderr.write(f"expires at {expires_at.isoformat(timespec='seconds')}")
