"""Reviews of signals: recorded with the audit trail, replaced by a later review, refused
cleanly on bad input, and only for signals in the officer's scope (web and API)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from kattoo.accounts.models import Role
from kattoo.accounts.services import token_issue
from kattoo.audit.models import AuditEvent
from kattoo.audit.reads import READ
from kattoo.core.actors import Actor
from kattoo.core.errors import FieldError
from kattoo.fraud.models import SignalKind, SignalReview
from kattoo.fraud.services import signal_review

from ..conftest import SYSTEM
from ..factories import DistrictFactory, UserFactory
from ..web.staff.conftest import verified
from .conftest import Town


@pytest.fixture
def moved(town: Town):
    """A child whose address was registered a month before stage 1, at world.school."""
    child = town.child(moved=dt.date(2026, 3, 1))
    application = town.register(applicant=town.adult(), child=child)
    return child, application


def test_a_review_is_audited_and_a_later_one_replaces_it(town: Town, moved) -> None:
    child, _ = moved
    officer = UserFactory(role=Role.DISTRICT, district=town.world.school.district)
    actor = Actor(user=officer, channel="web")
    kind, key = SignalKind.RECENT_ADDRESS, str(child.pk)
    signal_review(
        campaign=town.campaign, kind=kind, key=key, status="legitimate", note="", actor=actor
    )
    signal_review(
        campaign=town.campaign,
        kind=kind,
        key=key,
        status="referred",
        note="The flat was sold in February.",
        actor=actor,
    )
    review = SignalReview.objects.get()
    assert review.status == "referred" and review.reviewed_by == officer
    events = AuditEvent.objects.filter(action="fraud.review").order_by("pk")
    assert [e.data["status"] for e in events] == ["legitimate", "referred"]
    assert events[1].actor == officer and events[1].object_id == str(review.pk)


@pytest.mark.parametrize(
    ("status", "note", "field"),
    [("approved", "", "status"), ("referred", "  ", "note"), ("legitimate", "x" * 2001, "note")],
)
def test_bad_input_is_refused_and_changes_nothing(town: Town, status, note, field) -> None:
    officer = UserFactory(role=Role.MINISTRY_ADMIN)
    with pytest.raises(FieldError) as refused:
        signal_review(
            campaign=town.campaign,
            kind=SignalKind.MANY_CHILDREN,
            key="1",
            status=status,
            note=note,
            actor=Actor(user=officer),
        )
    assert refused.value.field == field
    assert not SignalReview.objects.exists()
    assert not AuditEvent.objects.filter(action="fraud.review").exists()


def test_the_district_page_lists_and_reviews_its_signal(town: Town, moved) -> None:
    child, application = moved
    officer = UserFactory(role=Role.DISTRICT, district=town.world.school.district)
    client = verified(Client(), officer)
    page = client.get("/staff/fraud/")
    assert page.status_code == 200
    assert child.full_name in page.content.decode()
    # The list names children and addresses: its view is an audited read (§7), ids only.
    read = AuditEvent.objects.filter(action=READ).latest("pk")
    assert read.data == {"what": "fraud_signals", "count": 1}
    assert f"/staff/fraud/applications/{application.pk}/" in page.content.decode()
    assert client.get(f"/staff/fraud/applications/{application.pk}/").status_code == 200
    response = client.post(
        "/staff/fraud/review/",
        {"kind": "recent_address", "key": str(child.pk), "status": "legitimate", "note": "ok"},
    )
    assert response.status_code == 302
    assert SignalReview.objects.get().note == "ok"
    assert AuditEvent.objects.get(action="fraud.review").channel == "web"
    assert "ok" in client.get("/staff/fraud/").content.decode()


def test_another_district_gets_404_for_the_signal_and_the_registration(town: Town, moved) -> None:
    child, application = moved
    client = verified(Client(), UserFactory(role=Role.DISTRICT, district=DistrictFactory()))
    assert child.full_name not in client.get("/staff/fraud/").content.decode()
    response = client.post(
        "/staff/fraud/review/",
        {"kind": "recent_address", "key": str(child.pk), "status": "legitimate"},
    )
    assert response.status_code == 404
    assert client.get(f"/staff/fraud/applications/{application.pk}/").status_code == 404
    assert not SignalReview.objects.exists()


def _api(client: Client, **user):
    token = token_issue(user=UserFactory(**user), actor=SYSTEM)
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_the_api_lists_and_reviews_in_scope(client: Client, town: Town, moved) -> None:
    child, application = moved
    own = _api(client, role=Role.DISTRICT, district=town.world.school.district)
    listed = client.get("/api/v1/fraud/signals", **own).json()["items"]
    [item] = [s for s in listed if s["kind"] == "recent_address"]
    assert item["applications"] == [str(application.pk)] and item["numbers"]["days"] == 31
    body = {"kind": "recent_address", "key": str(child.pk), "status": "referred", "note": "why"}
    answer = client.post("/api/v1/fraud/reviews", body, content_type="application/json", **own)
    assert answer.status_code == 200 and answer.json()["review"]["status"] == "referred"
    assert AuditEvent.objects.get(action="fraud.review").channel == "api"

    other = _api(client, role=Role.DISTRICT, district=DistrictFactory())
    assert client.get("/api/v1/fraud/signals", **other).json()["items"] == []
    refused = client.post("/api/v1/fraud/reviews", body, content_type="application/json", **other)
    assert refused.status_code == 404
    director = _api(client, role=Role.SCHOOL, school=town.world.school)
    assert client.get("/api/v1/fraud/signals", **director).status_code == 403
