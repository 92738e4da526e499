"""API v1, applicant part, driven over HTTP as a mobile app would (shared/spec/API.md)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.test import Client

from kattoo.accounts.services import token_issue
from kattoo.enrollment.models import Application, SeatPool

from ..conftest import SYSTEM, World
from ..factories import registry_person


class Api:
    def __init__(self, client: Client, token: str | None = None, language: str = "ky") -> None:
        self.client = client
        self.headers: dict[str, str] = {"Accept-Language": language}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, **params: Any):
        return self.client.get(f"/api/v1{path}", params, headers=self.headers)

    def post(
        self,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: str | None = None,
    ):
        return self.client.post(
            f"/api/v1{path}",
            raw if raw is not None else (body or {}),
            content_type="application/json",
            headers={**self.headers, **(headers or {})},
        )


@pytest.fixture
def parent_api(world: World, client: Client):
    family = world.family()
    return family, Api(client, token_issue(user=family.parent, actor=SYSTEM))


def problem(response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code and body["status"] == status
    assert body["title"] and body["type"].endswith(code)
    return body


def test_campaign_is_public_and_tells_the_stages(client: Client, campaign) -> None:
    body = Api(client).get("/campaign").json()
    assert body["birth_from"] == "2019-01-01" and body["birth_to"] == "2020-12-31"
    assert body["stages"]["stage1_starts_at"] == "2026-04-01T10:00:00+06:00"
    assert body["quota_lock_at"] == "2026-03-28T00:00:00+06:00"  # end of Friday 2026-03-27
    assert body["limits"]["cancel_limit"] == 3


def test_me_and_children(parent_api, at_stage1) -> None:
    family, api = parent_api
    me = api.get("/me").json()
    assert me["pin"] == family.parent.person.pin and me["address"]["street"]
    children = api.get("/me/children").json()
    assert [c["id"] for c in children] == [str(family.child.pk)]
    assert children[0]["eligible"] is True and children[0]["cancellations_left"] == 3


def test_register_list_cancel_and_see_the_seat_freed(
    parent_api, world: World, at_stage1, client
) -> None:
    family, api = parent_api
    school = str(world.school.pk)
    before = api.get(f"/schools/{school}").json()
    ky = next(p for p in before["pools"] if p["language"] == "ky")
    assert ky["free"] == 25

    response = api.post(
        "/applications", {"child": str(family.child.pk), "school": school, "language": "ky"}
    )
    assert response.status_code == 201, response.content
    application = response.json()
    assert application["status"] == "registered" and application["route"] == "microdistrict"
    assert application["position"] == 1 and application["abilities"]["cancel"] is True

    school_card = api.get(f"/schools/{school}").json()
    assert next(p for p in school_card["pools"] if p["language"] == "ky")["free"] == 24
    assert [a["id"] for a in api.get("/applications").json()["items"]] == [application["id"]]

    child = api.get("/me/children").json()[0]
    assert child["eligible"] is False and child["reasons"][0]["code"] == "already_registered"

    cancelled = api.post(f"/applications/{application['id']}/cancel").json()
    assert cancelled["status"] == "cancelled"
    assert [h["to_status"] for h in cancelled["history"]] == ["registered", "cancelled"]
    assert (
        next(p for p in api.get(f"/schools/{school}").json()["pools"] if p["language"] == "ky")[
            "free"
        ]
        == 25
    )
    assert api.get("/me/children").json()[0]["cancellations_left"] == 2


def test_refusals_carry_the_stable_code_in_the_asked_language(
    parent_api, world: World, at_stage1, client
) -> None:
    family, api = parent_api
    body = {"child": str(family.child.pk), "school": str(world.other_school.pk), "language": "ky"}
    ky = problem(api.post("/applications", body), 409, "not_in_microdistrict")
    api.headers["Accept-Language"] = "ru"
    ru = problem(api.post("/applications", body), 409, "not_in_microdistrict")
    api.headers["Accept-Language"] = "en"
    en = problem(api.post("/applications", body), 409, "not_in_microdistrict")
    assert en["title"].startswith("In stage 1")
    assert len({ky["title"], ru["title"], en["title"]}) == 3
    assert not Application.objects.exists()


def test_idempotency_key_replays_the_first_answer(parent_api, world: World, at_stage1) -> None:
    family, api = parent_api
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"child": str(family.child.pk), "school": str(world.school.pk), "language": "ky"}
    first = api.post("/applications", body, headers=key)
    again = api.post("/applications", body, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Application.objects.count() == 1
    assert SeatPool.objects.get(school=world.school, language="ky").taken == 1
    other = api.post("/applications", {**body, "language": "ru"}, headers=key)
    problem(other, 422, "idempotency_key_reused")
    problem(
        api.post("/applications", body, headers={"Idempotency-Key": "not-a-uuid"}),
        422,
        "validation_error",
    )


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        ("{not json", 400, "bad_request"),
        ('{"child": "1", "school": "1", "language": "xx"}', 422, "validation_error"),
        ('{"school": "1", "language": "ky"}', 422, "validation_error"),
        ("[]", 422, "validation_error"),
    ],
)
def test_malformed_bodies_get_a_problem_and_change_nothing(
    parent_api, at_stage1, raw, status, code
) -> None:
    _family, api = parent_api
    body = problem(api.post("/applications", raw=raw), status, code)
    if status == 422:
        assert body["errors"] and {"field", "code", "message"} <= set(body["errors"][0])
    assert not Application.objects.exists()


def test_language_error_names_the_field(parent_api, world, at_stage1) -> None:
    family, api = parent_api
    body = problem(
        api.post(
            "/applications",
            {"child": str(family.child.pk), "school": str(world.school.pk), "language": "fr"},
        ),
        422,
        "validation_error",
    )
    assert body["errors"][0]["field"] == "language"


def test_oversized_body_is_refused(parent_api, at_stage1) -> None:
    _family, api = parent_api
    problem(
        api.post("/applications", raw='{"child": "' + "1" * 300_000 + '"}'),
        413,
        "payload_too_large",
    )


def test_unknown_and_foreign_ids_are_404(parent_api, world: World, at_stage1, client) -> None:
    _family, api = parent_api
    problem(api.get("/schools/999999"), 404, "not_found")
    problem(api.get("/schools/abc"), 404, "not_found")
    problem(api.get(f"/applications/{uuid.uuid4()}"), 404, "not_found")
    problem(api.get("/applications/not-a-uuid"), 404, "not_found")
    stranger = world.family()
    problem(
        api.post(
            "/applications",
            {"child": str(stranger.child.pk), "school": str(world.school.pk), "language": "ky"},
        ),
        404,
        "not_found",
    )
    # another parent's application is invisible
    other_api = Api(client, token_issue(user=stranger.parent, actor=SYSTEM))
    created = other_api.post(
        "/applications",
        {"child": str(stranger.child.pk), "school": str(world.school.pk), "language": "ky"},
    ).json()
    problem(api.get(f"/applications/{created['id']}"), 404, "not_found")
    problem(api.post(f"/applications/{created['id']}/cancel"), 404, "not_found")


def test_authentication_is_required(client: Client, campaign) -> None:
    problem(Api(client).get("/me"), 401, "unauthorized")
    problem(Api(client, "wrong-token").get("/me"), 401, "unauthorized")
    problem(Api(client).get("/schools", child="1"), 401, "unauthorized")


def test_link_child_by_birth_certificate(parent_api, world: World, at_stage1) -> None:
    family, api = parent_api
    late = registry_person(
        sex="F",
        born=dt.date(2020, 5, 5),
        street=world.home,
        mother=family.parent.person.pin,
        certificate="1234567",
    )
    world.registry.add_person(late)
    problem(
        api.post(
            "/me/children",
            {"pin": "123", "birth_certificate": {"series": "I-AN", "number": "1234567"}},
        ),
        422,
        "validation_error",
    )
    problem(
        api.post(
            "/me/children",
            {"pin": late["pin"], "birth_certificate": {"series": "I-AN", "number": "7654321"}},
        ),
        404,
        "child_not_found",
    )
    linked = api.post(
        "/me/children",
        {"pin": late["pin"], "birth_certificate": {"series": "i-an", "number": "1234567"}},
    )
    assert linked.status_code == 201, linked.content
    assert linked.json()["relation"] == "mother"
    stranger_child = registry_person(
        sex="M", born=dt.date(2020, 5, 6), street=world.home, certificate="7777777"
    )
    world.registry.add_person(stranger_child)
    problem(
        api.post(
            "/me/children",
            {
                "pin": stranger_child["pin"],
                "birth_certificate": {"series": "I-AN", "number": "7777777"},
            },
        ),
        409,
        "not_your_child",
    )


def test_registry_outage_is_503_and_writes_nothing(parent_api, world: World, at_stage1) -> None:
    _family, api = parent_api
    world.registry.available = False
    response = api.get("/me/children", refresh="true")
    problem(response, 503, "registry_unavailable")
    assert response["Retry-After"]


def test_schools_for_a_child_follow_the_stage(parent_api, world: World) -> None:
    from kattoo.core import clock

    from ..conftest import STAGE1, STAGE2

    family, api = parent_api
    with clock.frozen(STAGE1):
        ids = [s["id"] for s in api.get("/schools", child=str(family.child.pk)).json()["items"]]
        assert ids == [str(world.school.pk)]
    with clock.frozen(STAGE2):
        ids = {s["id"] for s in api.get("/schools", child=str(family.child.pk)).json()["items"]}
        assert {str(world.school.pk), str(world.other_school.pk)} <= ids


def test_public_catalogue_paginates(client: Client, world: World) -> None:
    api = Api(client)
    first = api.get("/schools", limit=1).json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = api.get("/schools", limit=1, cursor=first["next_cursor"]).json()
    assert second["items"][0]["id"] != first["items"][0]["id"]
    problem(api.get("/schools", cursor="%%%"), 422, "validation_error")
    filtered = api.get("/schools", language="ru").json()["items"]
    assert [s["id"] for s in filtered] == [str(world.school.pk)]


def test_openapi_document_is_served(client: Client) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["info"]["version"] == "1"
    for path in (
        "/api/v1/campaign",
        "/api/v1/me/children",
        "/api/v1/applications",
        "/api/v1/applications/{application_id}/cancel",
        "/api/v1/schools/{school_id}",
    ):
        assert path in doc["paths"]


def test_address_lookup_names_the_schools(client: Client, world: World) -> None:
    api = Api(client)
    found = api.get("/addresses/lookup", q=f"{world.home.name_ru} 17").json()
    match = next(m for m in found if m["street"] == world.home.code)
    assert match["house"] == "17" and [s["id"] for s in match["schools"]] == [str(world.school.pk)]
    problem(api.get("/addresses/lookup", q="x"), 422, "validation_error")
    assert api.get("/addresses/lookup", q="Nowhere street 5").json() == []


def test_representative_uploads_an_act_over_the_api(
    client: Client, world: World, at_stage1
) -> None:
    from kattoo.accounts.services import applicant_for_pin
    from kattoo.people.services import applicant_children_sync

    child = registry_person(sex="M", born=dt.date(2019, 10, 10), street=world.home)
    rep = registry_person(sex="F", born=dt.date(1970, 1, 1), street=world.home)
    for p in (child, rep):
        world.registry.add_person(p)
    world.registry.add_ward(rep["pin"], child["pin"])
    user = applicant_for_pin(pin=rep["pin"], actor=SYSTEM)
    [link] = applicant_children_sync(applicant=user.person, actor=SYSTEM)
    api = Api(client, token_issue(user=user, actor=SYSTEM))
    body = {"child": str(link.child_id), "school": str(world.school.pk), "language": "ky"}
    problem(api.post("/applications", body), 409, "guardian_document_required")
    reasons = [r["code"] for r in api.get("/me/children").json()[0]["reasons"]]
    assert reasons == ["guardian_document_required"]

    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = client.post(
        f"/api/v1/me/children/{link.child_id}/guardian-document",
        {"kind": "court", "file": SimpleUploadedFile("a.pdf", b"GIF89a....")},
        headers=api.headers,
    )
    assert problem(bad, 422, "validation_error")["errors"][0]["field"] == "file"
    good = client.post(
        f"/api/v1/me/children/{link.child_id}/guardian-document",
        {
            "kind": "court",
            "number": "2-118/24",
            "file": SimpleUploadedFile("a.pdf", b"%PDF-1.5 ..."),
        },
        headers=api.headers,
    )
    assert good.status_code == 201 and good.json()["status"] == "pending"
    assert api.post("/applications", body).status_code == 201


def test_an_act_dated_after_today_is_a_validation_problem_in_the_asked_language(
    client: Client, world: World, at_stage1
) -> None:
    """At 2026-04-01 10:05 in Bishkek an act of 2026-04-02 is refused as the web form refuses
    it: 422 ``validation_error`` naming ``issued_on``, in Russian as asked; nothing is kept."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kattoo.accounts.services import applicant_for_pin
    from kattoo.audit.models import AuditEvent
    from kattoo.people.models import GuardianAct
    from kattoo.people.services import applicant_children_sync

    child = registry_person(sex="M", born=dt.date(2019, 10, 10), street=world.home)
    rep = registry_person(sex="F", born=dt.date(1970, 1, 1), street=world.home)
    for p in (child, rep):
        world.registry.add_person(p)
    world.registry.add_ward(rep["pin"], child["pin"])
    user = applicant_for_pin(pin=rep["pin"], actor=SYSTEM)
    assert user.person is not None
    [link] = applicant_children_sync(applicant=user.person, actor=SYSTEM)
    api = Api(client, token_issue(user=user, actor=SYSTEM), language="ru")
    url = f"/api/v1/me/children/{link.child_id}/guardian-document"

    def act(issued_on: str) -> dict[str, Any]:
        return {
            "kind": "court",
            "number": "2-118/24",
            "issued_on": issued_on,
            "file": SimpleUploadedFile("a.pdf", b"%PDF-1.5 ..."),
        }

    events = AuditEvent.objects.count()
    refused = problem(
        client.post(url, act("2026-04-02"), headers=api.headers), 422, "validation_error"
    )
    assert refused["errors"] == [
        {
            "field": "issued_on",
            "code": "in_future",
            "message": "Дата не может быть позже сегодняшнего дня.",
        }
    ]
    assert not GuardianAct.objects.exists()
    assert AuditEvent.objects.count() == events
    accepted = client.post(url, act("2026-04-01"), headers=api.headers)
    assert accepted.status_code == 201, accepted.content
    assert GuardianAct.objects.get().issued_on == dt.date(2026, 4, 1)


def test_ask_a_school_to_add_the_address_and_keep_the_language(parent_api, world: World) -> None:
    family, api = parent_api
    response = api.post(
        f"/schools/{world.other_school.pk}/microdistrict/requests", {"child": str(family.child.pk)}
    )
    assert response.status_code == 201, response.content
    assert response.json()[0]["status"] == "pending"
    again = api.post(
        f"/schools/{world.other_school.pk}/microdistrict/requests", {"child": str(family.child.pk)}
    )
    assert [r["id"] for r in again.json()] == [r["id"] for r in response.json()]
    changed = api.client.patch(
        "/api/v1/me", {"language": "ru"}, content_type="application/json", headers=api.headers
    )
    assert changed.json()["language"] == "ru"
    problem(
        api.client.patch(
            "/api/v1/me", {"language": "fr"}, content_type="application/json", headers=api.headers
        ),
        422,
        "validation_error",
    )


def test_a_nul_character_in_a_body_is_a_clear_400_and_changes_nothing(parent_api, campaign) -> None:
    """PostgreSQL refuses NUL in text: the API refuses it first (the fuzz found a 500)."""
    from kattoo.appeals.models import Appeal

    _family, api = parent_api
    response = api.post("/appeals", raw='{"subject": "other", "text": "a\\u0000b"}')
    problem(response, 400, "bad_request")
    assert not Appeal.objects.exists()
