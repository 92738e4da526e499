"""Django admin is for the operator and the ministry administrator only."""

from __future__ import annotations

import pytest
from django.test import Client

from kattoo.accounts.models import Role
from kattoo.audit.models import AuditEvent
from kattoo.campaigns.models import CalendarDay

from .factories import SchoolFactory, UserFactory
from .web.staff.conftest import verified


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.OPERATOR, True),
        (Role.MINISTRY_ADMIN, True),
        (Role.SCHOOL, False),
        (Role.DISTRICT, False),
        (Role.MINISTRY_ANALYST, False),
    ],
)
def test_admin_roles(client: Client, role: str, allowed: bool) -> None:
    extra = {"school": SchoolFactory()} if role == Role.SCHOOL else {}
    if role == Role.DISTRICT:
        extra = {"district": SchoolFactory().district}
    user = UserFactory(role=role, is_staff=True, is_superuser=True, **extra)
    client.force_login(user)
    index = b"/admin/campaigns/campaign/"
    assert index not in client.get("/admin/", follow=True).content  # no second factor yet
    verified(client, user)
    response = client.get("/admin/", follow=True)
    assert (index in response.content) is allowed


def test_admin_changes_are_audited(client: Client) -> None:
    verified(client, UserFactory(role=Role.MINISTRY_ADMIN, is_staff=True, is_superuser=True))
    response = client.post(
        "/admin/campaigns/calendarday/add/", {"date": "2027-03-22", "name_en": "Nooruz"}
    )
    assert response.status_code == 302
    day = CalendarDay.objects.get(date="2027-03-22")
    assert AuditEvent.objects.filter(action="calendarday.create", object_id=str(day.pk)).exists()
