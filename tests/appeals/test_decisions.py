"""The district's decisions on an appeal (§17, §22): reinstate the refused registration (the
seat taken back, nobody displaced), place by a commission decision, reject with a reason; the
applicant gets the answer by SMS in the account's language; web and API alike."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import translation

from kattoo.accounts.models import Role, User
from kattoo.accounts.services import token_issue
from kattoo.appeals.models import Appeal, AppealDecision, AppealStatus
from kattoo.appeals.services import (
    REINSTATED_ON_APPEAL,
    appeal_file,
    appeal_reinstate,
    appeal_reject,
)
from kattoo.audit.models import AuditEvent
from kattoo.core.actors import Actor
from kattoo.core.errors import FieldError, RuleViolation
from kattoo.enrollment import states
from kattoo.enrollment.models import Application, SeatPool, Status
from kattoo.enrollment.services import (
    application_refuse,
    application_register,
)
from kattoo.notifications.models import Notification

from ..api.test_applicant_api import Api, problem
from ..conftest import SYSTEM, Family, World
from ..factories import DistrictFactory, UserFactory


def _refused(world: World, family: Family) -> Application:
    application = application_register(
        campaign=world.campaign,
        user=family.parent,
        child=family.child,
        school=world.school,
        language="ky",
        actor=Actor(user=family.parent),
    )
    application_refuse(
        application=application,
        reason_code="false_data",
        reason="The address is not confirmed.",
        actor=SYSTEM,
    )
    application.refresh_from_db()
    return application


def _appeal(world: World, family: Family, application: Application | None) -> Appeal:
    return appeal_file(
        campaign=world.campaign,
        user=family.parent,
        subject="refusal",
        text="The school refused us although we live next door.",
        school=world.school if application is None else None,
        application=application,
        actor=Actor(user=family.parent),
    )


def _officer(world: World) -> User:
    return UserFactory(role=Role.DISTRICT, district=world.school.district)


def _pool(world: World) -> SeatPool:
    return SeatPool.objects.get(campaign=world.campaign, school=world.school, language="ky")


def test_reinstate_takes_the_seat_back_with_its_place(world: World, at_stage1) -> None:
    family = world.family()
    family.parent.language = "ru"
    family.parent.save(update_fields=["language"])
    application = _refused(world, family)
    taken = _pool(world).taken
    appeal = _appeal(world, family, application)
    officer = _officer(world)

    reinstated = appeal_reinstate(appeal=appeal, text="", actor=Actor(user=officer))

    application.refresh_from_db()
    assert application.status == Status.REGISTERED and reinstated.pk == application.pk
    assert application.position == 1  # the place in the queue is kept
    assert _pool(world).taken == taken + 1
    last = application.transitions.last()
    assert (last.from_status, last.to_status, last.reason_code) == (
        Status.REFUSED,
        Status.REGISTERED,
        REINSTATED_ON_APPEAL,
    )
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.ANSWERED
    assert appeal.decision == AppealDecision.REINSTATED and appeal.answered_by == officer
    sms = Notification.objects.get(event="appeal_reinstated")
    assert sms.language == "ru" and f"{appeal.pk}" in sms.body
    assert AuditEvent.objects.filter(action="appeal.reinstate", object_id=str(appeal.pk)).exists()
    # decided once
    with pytest.raises(RuleViolation) as again:
        appeal_reinstate(appeal=appeal, actor=Actor(user=officer))
    assert again.value.code == "invalid_status_transition"


def test_only_the_district_on_appeal_reopens_a_refusal() -> None:
    # §17, §22: an ordinary action (an admission, a cancellation) never starts from a refusal.
    assert not states.can_transition(Status.REFUSED, Status.REGISTERED)
    assert not states.can_transition(Status.REFUSED, Status.ADMITTED)
    assert states.can_transition(Status.REFUSED, Status.REGISTERED, on_appeal=True)
    assert not states.can_transition(Status.REFUSED, Status.CANCELLED, on_appeal=True)
    assert not states.can_transition(Status.CANCELLED, Status.REGISTERED, on_appeal=True)


def test_no_one_is_displaced_when_the_seat_is_gone(world: World, at_stage1) -> None:
    family = world.family()
    application = _refused(world, family)
    pool = _pool(world)
    SeatPool.objects.filter(pk=pool.pk).update(taken=pool.capacity)  # every seat taken since
    appeal = _appeal(world, family, application)
    with translation.override("en"), pytest.raises(RuleViolation) as exc:
        appeal_reinstate(appeal=appeal, actor=Actor(user=_officer(world)))
    assert exc.value.code == "no_free_seats" and "Commission" in str(exc.value.detail)
    application.refresh_from_db()
    appeal.refresh_from_db()
    assert application.status == Status.REFUSED and appeal.status == AppealStatus.OPEN
    assert _pool(world).taken == pool.capacity
    assert not Notification.objects.filter(event="appeal_reinstated").exists()


def test_a_child_registered_elsewhere_since_is_not_reinstated(world: World, at_stage1) -> None:
    family = world.family()
    application = _refused(world, family)
    appeal = _appeal(world, family, application)
    Application.objects.filter(pk=application.pk).update(school=world.school)
    other_pool = SeatPool.objects.get(school=world.other_school, language="ky")
    Application.objects.create(
        campaign=world.campaign,
        child=family.child,
        applicant=application.applicant,
        user=family.parent,
        school=world.other_school,
        language="ky",
        pool=other_pool,
        route="open",
        position=1,
        created_at=application.created_at,
        status_changed_at=application.created_at,
    )
    taken = _pool(world).taken
    with pytest.raises(RuleViolation) as exc:
        appeal_reinstate(appeal=appeal, actor=Actor(user=_officer(world)))
    assert exc.value.code == "already_registered"
    assert _pool(world).taken == taken


def test_only_the_appeal_district_decides(world: World, at_stage1) -> None:
    family = world.family()
    application = _refused(world, family)
    appeal = _appeal(world, family, application)
    stranger = UserFactory(role=Role.DISTRICT, district=DistrictFactory())
    for decide in (
        lambda: appeal_reinstate(appeal=appeal, actor=Actor(user=stranger)),
        lambda: appeal_reject(appeal=appeal, text="Not our district.", actor=Actor(user=stranger)),
    ):
        with pytest.raises(RuleViolation) as exc:
            decide()
        assert exc.value.code == "not_found"
    without = _appeal(world, family, None)
    with pytest.raises(RuleViolation) as exc:
        appeal_reinstate(appeal=without, actor=Actor(user=_officer(world)))
    assert exc.value.code == "appeal_no_registration"


def test_reject_states_the_reason_by_sms(world: World, at_stage1) -> None:
    family = world.family()
    appeal = _appeal(world, family, _refused(world, family))
    officer = _officer(world)
    with pytest.raises(FieldError):
        appeal_reject(appeal=appeal, text="  no ", actor=Actor(user=officer))
    appeal_reject(
        appeal=appeal, text="The certificate shows another address.", actor=Actor(user=officer)
    )
    appeal.refresh_from_db()
    assert appeal.decision == AppealDecision.REJECTED and appeal.status == AppealStatus.ANSWERED
    sms = Notification.objects.get(event="appeal_rejected")
    assert sms.language == "ky" and "The certificate shows another address." in sms.body


def _officer_api(client: Client, world: World) -> Api:
    return Api(
        client,
        token_issue(user=_officer(world), actor=SYSTEM, ttl=dt.timedelta(days=30)),
        language="en",
    )


def test_api_card_and_decisions(client: Client, world: World, at_stage1) -> None:
    family = world.family()
    application = _refused(world, family)
    appeal = _appeal(world, family, application)
    officer = _officer_api(client, world)

    card = officer.get(f"/appeals/{appeal.pk}")
    assert card.status_code == 200, card.content
    registration = card.json()["registration"]
    assert registration["child"]["pin"] == family.child.pin
    assert registration["refusal"]["reason_code"] == "false_data"
    assert [t["to_status"] for t in registration["history"]] == ["registered", "refused"]
    assert AuditEvent.objects.filter(action="personal_data.read", data__what="appeal").exists()

    stranger = Api(
        client,
        token_issue(user=UserFactory(role=Role.DISTRICT, district=DistrictFactory()), actor=SYSTEM),
    )
    problem(stranger.get(f"/appeals/{appeal.pk}"), 404, "not_found")
    problem(stranger.post(f"/appeals/{appeal.pk}/reinstate", {}), 404, "not_found")
    parent = Api(client, token_issue(user=family.parent, actor=SYSTEM))
    problem(parent.post(f"/appeals/{appeal.pk}/reinstate", {}), 403, "forbidden")
    assert parent.get(f"/appeals/{appeal.pk}").status_code == 200

    done = officer.post(f"/appeals/{appeal.pk}/reinstate", {"text": "The refusal was unlawful."})
    assert done.status_code == 200, done.content
    body = done.json()
    assert body["decision"] == "reinstated" and body["registration"]["status"] == "registered"
    problem(
        officer.post(f"/appeals/{appeal.pk}/reject", {"text": "Too late now."}),
        409,
        "invalid_status_transition",
    )


def test_api_reject_and_commission(client: Client, world: World, at_stage1) -> None:
    family = world.family()
    officer = _officer_api(client, world)
    rejected = _appeal(world, family, None)
    problem(officer.post(f"/appeals/{rejected.pk}/reject", {"text": "no"}), 422, "validation_error")
    body = officer.post(f"/appeals/{rejected.pk}/reject", {"text": "Nothing to decide."}).json()
    assert body["decision"] == "rejected" and body["answer"] == "Nothing to decide."

    application = _refused(world, family)
    appeal = _appeal(world, family, application)
    placement = {"number": "КДД-7", "decided_on": "2026-04-01", "ground": "other"}
    problem(
        officer.post(f"/appeals/{rejected.pk}/commission", placement),
        409,
        "appeal_no_registration",
    )
    problem(
        officer.post(
            f"/appeals/{appeal.pk}/commission", {**placement, "school": str(world.other_school.pk)}
        ),
        404,
        "not_found",
    )  # another district's school
    # a decision dated after today (2026-04-01 in Bishkek) answers nothing: the appeal stays open
    tomorrow = problem(
        officer.post(f"/appeals/{appeal.pk}/commission", {**placement, "decided_on": "2026-04-02"}),
        422,
        "validation_error",
    )
    assert [(e["field"], e["code"]) for e in tomorrow["errors"]] == [("decided_on", "in_future")]
    appeal.refresh_from_db()
    assert appeal.status != AppealStatus.ANSWERED and appeal.commission_decision is None
    placed = officer.post(f"/appeals/{appeal.pk}/commission", placement)
    assert placed.status_code == 200, placed.content
    body = placed.json()
    assert body["decision"] == "commission" and body["commission_decision"]
    appeal.refresh_from_db()
    new = appeal.commission_decision.application
    assert new.school == world.school and new.status == Status.REGISTERED
    assert new.child == family.child
    assert Notification.objects.filter(event="appeal_placed").count() == 1


# ---- the web card ----------------------------------------------------------------------------


def _web_officer(client: Client, world: World) -> User:
    from ..web.staff.conftest import staff_user, verified

    officer = staff_user(Role.DISTRICT, district=world.school.district)
    verified(client, officer)
    client.cookies["django_language"] = "en"
    return officer


def test_web_card_shows_the_case_and_reinstates_with_confirmation(
    client: Client, world: World, at_stage1
) -> None:
    family = world.family()
    application = _refused(world, family)
    appeal = _appeal(world, family, application)
    _web_officer(client, world)

    page = client.get(f"/staff/district/appeals/{appeal.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert family.child.full_name in html and family.child.pin in html
    assert "The address is not confirmed." in html  # the school's words
    with translation.override("en"):
        assert "the documents do not confirm the registered data" in html  # the legal reason
    assert f"/staff/district/commission/?appeal={appeal.pk}" in html
    inbox = client.get("/staff/district/appeals/").content.decode()
    assert f"/staff/district/appeals/{appeal.pk}/" in inbox

    url = f"/staff/district/appeals/{appeal.pk}/reinstate/"
    unconfirmed = client.post(url, {"text": ""})
    assert unconfirmed.status_code == 422
    assert "Tick the confirmation" in unconfirmed.content.decode()
    application.refresh_from_db()
    assert application.status == Status.REFUSED

    done = client.post(url, {"text": "", "confirm": "on"}, follow=True)
    assert done.status_code == 200
    application.refresh_from_db()
    assert application.status == Status.REGISTERED
    assert "is reinstated" in done.content.decode()
    # answered: no decision forms any more
    assert f"/staff/district/appeals/{appeal.pk}/reinstate/" not in done.content.decode()


def test_web_reject_needs_a_reason(client: Client, world: World, at_stage1) -> None:
    family = world.family()
    appeal = _appeal(world, family, _refused(world, family))
    _web_officer(client, world)
    url = f"/staff/district/appeals/{appeal.pk}/reject/"
    assert client.post(url, {"text": ""}).status_code == 422
    client.post(url, {"text": "The refusal follows §22."})
    appeal.refresh_from_db()
    assert appeal.decision == AppealDecision.REJECTED


def test_web_commission_form_prefilled_from_the_appeal_answers_it(
    client: Client, world: World, at_stage1
) -> None:
    family = world.family()
    application = _refused(world, family)
    appeal = _appeal(world, family, application)
    _web_officer(client, world)
    form = client.get(f"/staff/district/commission/?appeal={appeal.pk}").content.decode()
    assert f'value="{family.child.pin}"' in form
    assert f'name="appeal" value="{appeal.pk}"' in form
    response = client.post(
        "/staff/district/commission/",
        {
            "appeal": appeal.pk,
            "child_pin": family.child.pin,
            "applicant_pin": family.parent.person.pin,
            "school": world.school.pk,
            "language": "ky",
            "number": "КДД-9",
            "decided_on": "2026-04-01",
            "ground": "other",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    appeal.refresh_from_db()
    assert appeal.decision == AppealDecision.COMMISSION
    assert appeal.commission_decision is not None
    # an answered appeal cannot be answered again through the form
    assert client.get(f"/staff/district/commission/?appeal={appeal.pk}").status_code == 404


def test_the_inbox_and_the_card_read_a_fixed_number_of_queries(
    client: Client, world: World, at_stage1
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _web_officer(client, world)

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    first = world.family()
    appeal = _appeal(world, first, _refused(world, first))
    inbox_one, card_one = (
        queries("/staff/district/appeals/"),
        queries(f"/staff/district/appeals/{appeal.pk}/"),
    )
    for _ in range(4):
        family = world.family()
        application = _refused(world, family)
        _appeal(world, family, application)
    assert queries("/staff/district/appeals/") == inbox_one
    assert queries(f"/staff/district/appeals/{appeal.pk}/") == card_one
