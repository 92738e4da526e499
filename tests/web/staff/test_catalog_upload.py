"""The catalog upload page (dry run, then import) and "recompute draft quotas" (§11, ADR 0017)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kattoo.accounts.models import Role
from kattoo.audit.models import AuditEvent
from kattoo.campaigns.models import Campaign
from kattoo.catalog.models import District, School, Teacher
from kattoo.core import clock
from kattoo.integrations.registry.fake import FakeRegistry
from kattoo.quotas.models import Quota
from kattoo.quotas.services import QuotaOperation, quota_change

from ...catalog.test_importing import SMALL_CSV, catalog_rows, small_catalog
from ...conftest import BEFORE, SYSTEM
from ...factories import DistrictFactory, registry_adult
from .conftest import staff_user, verified


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path, client: Client) -> Any:
    settings.KATTOO_CATALOG_UPLOAD_DIR = tmp_path / "uploads"
    client.cookies["django_language"] = "en"
    with clock.frozen(BEFORE):
        yield


def _file(data: dict[str, Any] | None = None, name: str = "catalog.json") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, json.dumps(data or small_catalog()).encode())


def _upload(client: Client, file: SimpleUploadedFile, campaign: str = "2026-2027"):
    return client.post("/staff/catalog/", {"campaign": campaign, "file": file})


def test_dry_run_then_import(client: Client, campaign: Campaign, settings) -> None:
    verified(client, staff_user(Role.MINISTRY_ADMIN))
    page = client.get("/staff/catalog/")
    assert page.status_code == 200
    assert b"Recompute draft quotas" in page.content

    response = _upload(client, _file())
    assert response.status_code == 302
    check = client.get(response["Location"])
    assert check.status_code == 200
    assert b"Import this file" in check.content
    assert b"computed as a draft" in check.content
    assert sum(catalog_rows().values()) == 0 and not Quota.objects.exists()
    kept = list((settings.KATTOO_CATALOG_UPLOAD_DIR).iterdir())
    assert len(kept) == 1

    imported = client.post(response["Location"] + "import/")
    assert imported.status_code == 302 and imported["Location"].endswith("/staff/catalog/result/")
    result = client.get(imported["Location"])
    assert result.status_code == 200 and b"Catalog imported" in result.content
    assert School.objects.count() == 2 and Quota.objects.count() == 2
    assert not kept[0].exists()
    assert AuditEvent.objects.get(action="catalog.import").channel == "web"
    # The upload is gone: importing again is 404.
    assert client.post(response["Location"] + "import/").status_code == 404


def test_the_check_and_the_result_show_each_teacher_not_added(
    client: Client, campaign: Campaign, fake_registry: FakeRegistry
) -> None:
    # §24: the uploader sees which teacher rows the registry check refused.
    fake_registry.add_person(registry_adult("10302199000123"))
    data = small_catalog()
    data["teachers"].append({"school": "S-2", "pin": "11203198800009", "full_name": "x"})
    verified(client, staff_user(Role.MINISTRY_ADMIN))
    response = _upload(client, _file(data))
    check = client.get(response["Location"]).content.decode()
    assert "Teachers added: 1" in check and "refused by the registry check: 1" in check
    assert "teachers[1]" in check and "The registry has no person with this PIN." in check
    assert not Teacher.objects.exists()
    result = client.get(client.post(response["Location"] + "import/")["Location"])
    assert "The registry has no person with this PIN." in result.content.decode()
    assert Teacher.objects.get().pin == "10302199000123"


def test_operator_uploads_and_sees_problems_with_lines(client: Client, campaign: Campaign) -> None:
    verified(client, staff_user(Role.OPERATOR))
    page = client.get("/staff/catalog/")
    assert page.status_code == 200 and b"Recompute draft quotas" not in page.content

    bad = SMALL_CSV.replace("municipal", "church", 1)
    response = _upload(client, SimpleUploadedFile("schools.csv", bad.encode()))
    check = client.get(response["Location"])
    assert check.status_code == 200
    assert b"The file cannot be imported" in check.content
    assert b"Import this file" not in check.content
    assert b"schools[0].ownership" in check.content
    # The import of a refused file changes nothing.
    refused = client.post(response["Location"] + "import/")
    assert refused.status_code == 302 and refused["Location"] == response["Location"]
    assert sum(catalog_rows().values()) == 0


def test_upload_form_errors(client: Client, campaign: Campaign, settings) -> None:
    verified(client, staff_user(Role.OPERATOR))
    assert _upload(client, _file(), campaign="1999-2000").status_code == 422
    settings.KATTOO_CATALOG_UPLOAD_MAX_BYTES = 10
    response = _upload(client, _file())
    assert response.status_code == 422 and b"larger than" in response.content
    assert client.post("/staff/catalog/", {"campaign": "2026-2027"}).status_code == 422


def test_an_upload_belongs_to_its_session(client: Client, campaign: Campaign) -> None:
    verified(client, staff_user(Role.OPERATOR))
    location = _upload(client, _file())["Location"]
    other = verified(Client(), staff_user(Role.MINISTRY_ADMIN))
    assert other.get(location).status_code == 404
    assert other.post(location + "import/").status_code == 404
    assert client.get("/staff/catalog/check/0123456789abcdef/").status_code == 404


@pytest.mark.parametrize("role", [Role.SCHOOL, Role.DISTRICT, Role.MINISTRY_ANALYST])
def test_other_staff_do_not_see_the_page(client: Client, campaign: Campaign, role: str) -> None:
    scope: dict[str, Any] = {}
    if role == Role.DISTRICT:
        scope["district"] = DistrictFactory()
    if role == Role.SCHOOL:
        from ...factories import SchoolFactory

        scope["school"] = SchoolFactory()
    verified(client, staff_user(role, **scope))
    assert client.get("/staff/catalog/").status_code == 404
    assert _upload(client, _file()).status_code == 404


def _imported(campaign: Campaign) -> tuple[District, Quota]:
    from kattoo.quotas.automatic import catalog_import_with_quotas

    catalog_import_with_quotas(data=small_catalog(), campaign=campaign, actor=SYSTEM)
    quota = Quota.objects.get(school__code="S-1")
    quota_change(quota=quota, operations=[QuotaOperation("add", seats=30)], actor=SYSTEM)
    return District.objects.get(soate="41711211000000"), quota


def test_district_recomputes_its_own_district_only(client: Client, campaign: Campaign) -> None:
    district, quota = _imported(campaign)
    other = DistrictFactory()

    verified(client, staff_user(Role.DISTRICT, district=other))
    response = client.post(
        "/staff/quotas/recompute/", {"campaign": "2026-2027", "district": district.soate}
    )
    assert response.status_code == 404
    assert quota.class_sets.count() == 3

    verified(client, staff_user(Role.DISTRICT, district=district))
    response = client.post("/staff/quotas/recompute/", {"campaign": "2026-2027"}, follow=True)
    assert response.redirect_chain[0][0] == "/staff/district/"
    assert b"1 recomputed" in response.content
    assert quota.class_sets.count() == 2
    assert client.get("/staff/quotas/recompute/").status_code == 405


def test_ministry_recomputes_the_country_or_a_district(client: Client, campaign: Campaign) -> None:
    district, quota = _imported(campaign)
    verified(client, staff_user(Role.MINISTRY_ADMIN))
    response = client.post(
        "/staff/quotas/recompute/",
        {"campaign": "2026-2027", "district": district.soate, "next": "/staff/catalog/"},
    )
    assert response.status_code == 302 and response["Location"] == "/staff/catalog/"
    assert quota.class_sets.count() == 2
    response = client.post(
        "/staff/quotas/recompute/",
        {"campaign": "2026-2027", "next": "https://evil.example/"},
    )
    assert response["Location"] == "/staff/catalog/"
    assert AuditEvent.objects.filter(action="quota.compute_drafts").count() == 3
    verified(client, staff_user(Role.OPERATOR))
    assert client.post("/staff/quotas/recompute/", {"campaign": "2026-2027"}).status_code == 404
