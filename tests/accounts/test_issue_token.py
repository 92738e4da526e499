from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from kattoo.accounts.models import Role, User
from kattoo.accounts.services import user_for_token
from kattoo.audit.models import AuditEvent

from ..factories import UserFactory, registry_person


def issue(*args: str) -> str:
    out = io.StringIO()
    call_command("issue_token", *args, stdout=out)
    return out.getvalue().strip()


def test_token_for_an_applicant_verified_in_the_registry(fake_registry) -> None:
    person = registry_person(sex="F", born=dt.date(1990, 1, 1))
    fake_registry.add_person(person)
    user = user_for_token(issue("--pin", person["pin"]))
    assert user is not None and user.role == Role.APPLICANT and user.person.pin == person["pin"]
    assert AuditEvent.objects.filter(action="token.issue", channel="cli").exists()


def test_token_for_staff_by_username() -> None:
    staff = UserFactory(username="director7", role=Role.OPERATOR)
    assert user_for_token(issue("--username", "director7")) == staff


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--pin", "123"), "invalid PIN"),
        (("--pin", "22310199099999"), "person_not_found"),
        (("--username", "nobody"), "no active user"),
    ],
)
def test_bad_requests_fail_clearly(fake_registry, args, message) -> None:
    with pytest.raises(CommandError, match=message):
        issue(*args)
    assert not User.objects.filter(role=Role.APPLICANT).exists()


def test_revoked_and_unknown_tokens_do_not_authenticate() -> None:
    from kattoo.accounts.models import ApiToken
    from kattoo.core import clock

    UserFactory(username="ops", role=Role.OPERATOR)
    raw = issue("--username", "ops")
    ApiToken.objects.update(revoked_at=clock.now())
    assert user_for_token(raw) is None
    assert user_for_token("nonsense") is None


def test_every_issued_token_expires_and_the_expiry_is_printed() -> None:
    from kattoo.accounts.models import ApiToken, token_digest
    from kattoo.core import clock

    UserFactory(username="operator9", role=Role.OPERATOR)
    out, err = io.StringIO(), io.StringIO()
    with clock.frozen(clock.bishkek(2026, 4, 1, 9)):
        call_command("issue_token", "--username", "operator9", stdout=out, stderr=err)
        call_command("issue_token", "--username", "operator9", "--hours", "2", stdout=out)
    first, second = out.getvalue().split()
    assert ApiToken.objects.get(digest=token_digest(first)).expires_at == clock.bishkek(
        2026, 4, 1, 21
    )
    assert ApiToken.objects.get(digest=token_digest(second)).expires_at == clock.bishkek(
        2026, 4, 1, 11
    )
    assert "expires at 2026-04-01" in err.getvalue()
    with pytest.raises(CommandError, match="--hours"):
        issue("--username", "operator9", "--hours", "0")
