"""The ministry's dashboard (charts drawn on the server) and reports as pages and files."""

from __future__ import annotations

import csv
import io

from django.test import Client
from django.utils import translation
from openpyxl import load_workbook

from kattoo.catalog.models import Language
from kattoo.reports.exports import COLUMN_LABELS

from .conftest import Scene, verified


def analyst(client: Client, scene: Scene, who: str = "analyst") -> Client:
    user = scene.users[who]
    assert user is not None
    return verified(client, user)


def test_dashboard(client: Client, scene: Scene) -> None:
    analyst(client, scene)
    page = client.get("/staff/ministry/").content.decode()
    # Registrations per hour of the opening day: one at 10:05 Bishkek time.
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" role="img"') == 2
    assert "<title>10: 1</title>" in page and '<td>10:00</td><td class="num">1</td>' in page
    # Seats and free seats by region and language, in the page's language.
    assert scene.world.school.district.region.name_ky in page
    assert "24" in page and "25" in page
    # Overdue appeals: the one filed on the opening day is long overdue.
    assert f"<td>{scene.appeal.pk}</td>" in page
    assert "/admin/" not in page  # the analyst does not edit campaign settings


def test_the_ministry_sets_campaigns_on_its_own_pages_not_in_admin(
    client: Client, scene: Scene
) -> None:
    analyst(client, scene, "admin")
    page = client.get("/staff/ministry/").content.decode()
    assert 'href="/staff/ministry/campaigns/"' in page
    assert 'href="/admin/"' not in page


def test_report_page_and_files(client: Client, scene: Scene) -> None:
    analyst(client, scene)
    page = client.get("/staff/ministry/reports/", {"by": ["region", "language"]})
    html = page.content.decode()
    assert page.status_code == 200
    assert "report.csv?by=region&amp;by=language" in html
    assert scene.world.school.district.region.name_ky in html
    query = {"by": ["region", "language"], "kind": "applications"}
    file = client.get("/staff/ministry/reports/report.csv", query)
    name = "kattoo-applications-region-language.csv"
    assert file["Content-Disposition"] == f'attachment; filename="{name}"'
    # The file speaks the page's language (Kyrgyz by default): column names, place names and
    # the language of instruction in words, never codes (issue 14).
    with translation.override("ky"):
        header = [str(COLUMN_LABELS[k]) for k in ("region", "language", "registered")]
        kyrgyz = str(Language.KY.label)
    rows = list(csv.DictReader(io.StringIO(file.content.decode("utf-8-sig"))))
    assert len(rows) == 1
    region, language, registered = header
    assert rows[0][region] == scene.world.school.district.region.name_ky
    assert (rows[0][language], rows[0][registered]) == (kyrgyz, "1")
    seats = client.get("/staff/ministry/reports/report.xlsx", {"by": "school", "kind": "seats"})
    sheet = load_workbook(io.BytesIO(seats.content)).active
    table = list(sheet.iter_rows(values_only=True))
    with translation.override("ky"):
        assert table[0] == tuple(
            str(COLUMN_LABELS[k]) for k in ("school", "quota_seats", "capacity", "taken", "free")
        )
    assert (scene.world.school.code, 51, 51, 1, 50) in table


def test_report_form_errors(client: Client, scene: Scene) -> None:
    analyst(client, scene)
    wrong = client.get("/staff/ministry/reports/", {"by": "sex", "kind": "seats"})
    assert wrong.status_code == 422
    unknown = client.get("/staff/ministry/reports/report.csv", {"by": "planet"})
    assert unknown.status_code == 422 and unknown["Content-Type"].startswith("text/html")
