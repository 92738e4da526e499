"""The catalog upload and "recompute drafts" over the API (§11, ADR 0017)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kattoo.accounts.models import Role
from kattoo.accounts.services import token_issue
from kattoo.audit.models import AuditEvent
from kattoo.campaigns.models import Campaign
from kattoo.catalog.models import District, School, Teacher
from kattoo.core import clock
from kattoo.enrollment.models import SeatPool
from kattoo.integrations.registry.fake import FakeRegistry
from kattoo.quotas.models import Quota
from kattoo.quotas.services import QuotaOperation, quota_change

from ..catalog.test_importing import SMALL_CSV, catalog_rows, small_catalog
from ..conftest import BEFORE, SYSTEM
from ..factories import DistrictFactory, SchoolFactory, UserFactory, registry_adult
from .test_applicant_api import problem


@pytest.fixture(autouse=True)
def _before() -> Any:
    with clock.frozen(BEFORE):
        yield


def domain_audit() -> bool:
    return AuditEvent.objects.filter(action__regex=r"^(catalog|quota)\.").exists()


def scope_of(role: str) -> dict[str, Any]:
    if role == Role.DISTRICT:
        return {"district": DistrictFactory()}
    if role == Role.SCHOOL:
        return {"school": SchoolFactory()}
    return {}


def headers(role: str, language: str = "en", **scope: Any) -> dict[str, str]:
    token = token_issue(user=UserFactory(role=role, **(scope or scope_of(role))), actor=SYSTEM)
    return {"Authorization": f"Bearer {token}", "Accept-Language": language}


def upload(
    client: Client,
    role: str = Role.MINISTRY_ADMIN,
    *,
    data: dict[str, Any] | None = None,
    content: bytes | None = None,
    name: str = "catalog.json",
    dry_run: str = "false",
    code: str = "2026-2027",
    language: str = "en",
):
    if content is None:
        content = json.dumps(data or small_catalog(), ensure_ascii=False).encode()
    return client.post(
        f"/api/v1/campaigns/{code}/catalog",
        {"file": SimpleUploadedFile(name, content), "dry_run": dry_run},
        headers=headers(role, language),
    )


def test_import_answers_the_report_and_computes_quotas(client: Client, campaign: Campaign) -> None:
    response = upload(client)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["dry_run"] is False and body["campaign"] == "2026-2027"
    assert body["counts"]["schools"] == {"created": 2, "updated": 0, "unchanged": 0, "deleted": 0}
    assert body["quotas"]["computed"] == 2
    assert body["quotas"]["schools"] == [
        {"school": "S-1", "outcome": "computed"},
        {"school": "S-2", "outcome": "computed"},
    ]
    assert body["errors"] == []
    assert Quota.objects.count() == 2 and SeatPool.objects.exists()
    assert AuditEvent.objects.get(action="catalog.import").channel == "api"


def test_operator_uploads_csv(client: Client, campaign: Campaign) -> None:
    response = upload(client, Role.OPERATOR, content=SMALL_CSV.encode(), name="schools.csv")
    assert response.status_code == 200, response.content
    assert response.json()["counts"]["schools"]["created"] == 2


def test_format_from_content_without_a_telling_name(client: Client, campaign: Campaign) -> None:
    response = upload(client, name="export", dry_run="true")
    assert response.status_code == 200, response.content
    assert response.json()["counts"]["schools"]["created"] == 2


def test_dry_run_writes_nothing(client: Client, campaign: Campaign) -> None:
    response = upload(client, dry_run="true")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["dry_run"] is True
    assert body["counts"]["schools"]["created"] == 2 and body["quotas"]["computed"] == 2
    assert sum(catalog_rows().values()) == 0
    assert not Quota.objects.exists() and not domain_audit()


@pytest.mark.parametrize("dry_run", ["true", "false"])
def test_a_malformed_file_changes_nothing(client: Client, campaign: Campaign, dry_run: str) -> None:
    data = small_catalog()
    data["schools"][0]["district"] = "41799999000000"

    response = upload(client, data=data, dry_run=dry_run)

    if dry_run == "true":
        assert response.status_code == 200
        body = response.json()
        assert body["refused"]["schools"] == 1
    else:
        body = problem(response, 422, "catalog_invalid")
    assert body["errors"][0]["field"] == "schools[0].district"
    assert body["errors"][0]["code"] == "unknown_district"
    assert sum(catalog_rows().values()) == 0
    assert not Quota.objects.exists() and not domain_audit()


def test_each_teacher_row_has_its_outcome(
    client: Client, campaign: Campaign, fake_registry: FakeRegistry
) -> None:
    # §24: every new teacher is checked with the registry; the unknown one is refused, the
    # rest of the file is imported.
    fake_registry.add_person(registry_adult("10302199000123"))
    data = small_catalog()
    data["teachers"].append({"school": "S-2", "pin": "11203198800009", "full_name": "x"})

    response = upload(client, data=data)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["refused"]["teachers"] == 1 and body["counts"]["teachers"]["created"] == 1
    teachers = body["teachers"]
    assert teachers["counts"] == {"added": 1, "on_roster": 0, "pending": 0, "refused": 1}
    assert teachers["rows"] == [
        {
            "field": "teachers[1]",
            "line": None,
            "school": "S-2",
            "outcome": "refused",
            "code": "person_not_found",
            "message": "The registry has no person with this PIN.",
        }
    ]
    assert Teacher.objects.get().pin == "10302199000123"


@pytest.mark.parametrize("dry_run", ["true", "false"])
def test_a_registry_outage_refuses_the_upload(
    client: Client, campaign: Campaign, fake_registry: FakeRegistry, dry_run: str
) -> None:
    fake_registry.available = False

    response = upload(client, dry_run=dry_run)

    if dry_run == "true":
        assert response.status_code == 200
        assert [e["code"] for e in response.json()["errors"]] == ["registry_unavailable"]
    else:
        body = problem(response, 503, "registry_unavailable")
        assert "teachers could not be checked" in body["detail"]
    assert sum(catalog_rows().values()) == 0 and not domain_audit()


def test_refusals_are_translated_and_name_the_csv_line(client: Client, campaign: Campaign) -> None:
    bad = SMALL_CSV.replace("municipal", "church", 1)
    response = upload(client, content=bad.encode(), name="s.csv", language="ru")
    body = problem(response, 422, "catalog_invalid")
    assert response["Content-Language"] == "ru"
    assert body["errors"][0]["line"] is not None

    for content, code in ((b"\xff\xfe{", "not_utf8"), (b'{"regions": [', "invalid_json")):
        response = upload(client, content=content)
        assert problem(response, 422, "catalog_invalid")["errors"][0]["code"] == code
    assert sum(catalog_rows().values()) == 0


def test_dry_run_must_be_true_or_false(client: Client, campaign: Campaign) -> None:
    problem(upload(client, dry_run="perhaps"), 422, "validation_error")
    assert sum(catalog_rows().values()) == 0


def test_too_large_a_file(client: Client, campaign: Campaign, settings) -> None:
    settings.KATTOO_CATALOG_UPLOAD_MAX_BYTES = 100
    body = problem(upload(client), 413, "catalog_too_large")
    assert "MB" in body["detail"]
    assert sum(catalog_rows().values()) == 0


def test_unknown_campaign_and_roles(client: Client, campaign: Campaign) -> None:
    problem(upload(client, code="1999-2000"), 404, "not_found")
    for role in (Role.DISTRICT, Role.SCHOOL, Role.MINISTRY_ANALYST):
        problem(upload(client, role), 403, "forbidden")
    response = client.post(
        "/api/v1/campaigns/2026-2027/catalog",
        {"file": SimpleUploadedFile("c.json", b"{}")},
    )
    # Without a token a file is not even read: no cross-site form may post one (ADR 0023).
    problem(response, 415, "unsupported_media_type")
    response = client.post(
        "/api/v1/campaigns/2026-2027/catalog",
        {"file": SimpleUploadedFile("c.json", b"{}")},
        headers={"Authorization": "Bearer not-a-token"},
    )
    problem(response, 401, "unauthorized")
    assert not School.objects.filter(code__in=["S-1", "S-2"]).exists()


def compute(client: Client, hdrs: dict[str, str], body: Any = None, code: str = "2026-2027"):
    return client.post(
        f"/api/v1/campaigns/{code}/quotas/compute",
        body if body is not None else {},
        content_type="application/json",
        headers=hdrs,
    )


def test_recompute_drafts_by_the_ministry_and_the_district(
    client: Client, campaign: Campaign
) -> None:
    assert upload(client).status_code == 200
    district = District.objects.get(soate="41711211000000")
    quota = Quota.objects.get(school__code="S-1")
    quota_change(quota=quota, operations=[QuotaOperation("add", seats=30)], actor=SYSTEM)

    other = DistrictFactory()
    officer = headers(Role.DISTRICT, district=district)
    problem(compute(client, officer, {"district": other.soate}), 404, "not_found")
    problem(compute(client, officer, code="1999-2000"), 404, "not_found")
    outsider = headers(Role.DISTRICT, district=other)
    body = compute(client, outsider).json()
    assert body["district"] == other.soate and body["recomputed"] == 0
    assert quota.class_sets.count() == 3

    response = compute(client, officer)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["district"] == district.soate and body["campaign"] == "2026-2027"
    assert body["recomputed"] == 1 and body["unchanged"] == 1
    assert quota.class_sets.count() == 2

    admin = headers(Role.MINISTRY_ADMIN)
    no_body = client.post(
        "/api/v1/campaigns/2026-2027/quotas/compute", content_type="application/json", headers=admin
    )
    assert no_body.status_code == 200, no_body.content
    body = compute(client, admin).json()
    assert body["district"] is None and body["unchanged"] == 2
    assert compute(client, admin, {"district": district.soate}).json()["unchanged"] == 2
    problem(compute(client, admin, {"district": "41799999000000"}), 404, "not_found")
    for role in (Role.OPERATOR, Role.SCHOOL, Role.MINISTRY_ANALYST):
        problem(compute(client, headers(role)), 403, "forbidden")
    assert AuditEvent.objects.filter(action="quota.compute_drafts").count() == 6
