"""The director's journeys through the pages, with JavaScript off (plain forms)."""

from __future__ import annotations

import datetime as dt
import io

from django.test import Client
from openpyxl import load_workbook

from kattoo.accounts.models import Role
from kattoo.catalog.models import (
    MicrodistrictAddress,
    MicrodistrictRequest,
    RequestStatus,
    Teacher,
    TeacherAddition,
)
from kattoo.classes.models import FormedClass
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.enrollment.models import (
    ApplicationDocument,
    DocumentRequest,
    PmpkReferral,
    SeatPool,
    Status,
)
from kattoo.enrollment.services import application_admit, application_register
from kattoo.notifications.models import Notification
from kattoo.people.models import ActStatus
from kattoo.quotas.models import ClassSet, Quota, QuotaStatus

from ...conftest import BEFORE, SYSTEM
from ...factories import StreetFactory, registry_adult
from .conftest import Scene, staff_user, verified

AUGUST = clock.bishkek(2026, 8, 10, 11, 0)


def director(client: Client, scene: Scene) -> Client:
    user = scene.users["school_own"]
    assert user is not None
    return verified(client, user)


def test_quota_change_and_confirm(client: Client, scene: Scene) -> None:
    school = scene.world.school
    director(client, scene)
    with clock.frozen(BEFORE):
        page = client.get("/staff/school/quota/").content.decode()
        assert "2026-03-28 00:00" in page and 'data-opens-at="2026-03-28T00:00:00+06:00"' in page
        assert 'value="raise"' in page and 'value="to_kyrgyz"' in page
        assert (
            client.post("/staff/school/quota/", {"op": "raise", "class_set": 1, "seats": 30})[
                "Location"
            ]
            == "/staff/school/quota/"
        )
        client.post("/staff/school/quota/", {"op": "add", "seats": 25})
        client.post("/staff/school/quota/", {"op": "to_kyrgyz", "class_set": 2})
        too_many = client.post("/staff/school/quota/", {"op": "raise", "class_set": 1, "seats": 43})
        assert too_many.status_code == 409 and "42" in too_many.content.decode()
        missing = client.post("/staff/school/quota/", {"op": "raise", "seats": 30})
        assert missing.status_code == 422
        client.post("/staff/school/quota/", {"op": "remove", "class_set": 3})
        rows = ClassSet.objects.filter(quota__school=school)
        sets = {c.number: (c.language, c.seats) for c in rows}
        assert sets == {1: ("ky", 30), 2: ("ky", 26)}
        assert SeatPool.objects.get(school=school, language="ky").quota_seats == 56
        history = client.get("/staff/school/quota/").content.decode()
        assert history.count("<li>") >= 5  # computed + four changes
        client.post("/staff/school/quota/confirm/")  # without ticking "final": nothing happens
        assert Quota.objects.get(school=school).status == "draft"
        assert client.post("/staff/school/quota/confirm/", {"final": "yes"}).status_code == 302
        quota = Quota.objects.get(school=school)
        assert quota.status == QuotaStatus.CONFIRMED and quota.confirmed_by_id is not None
        after = client.get("/staff/school/quota/").content.decode()
        assert 'value="raise"' not in after and "/staff/school/quota/confirm/" not in after
        locked = client.post("/staff/school/quota/", {"op": "add", "seats": 25})
        assert locked.status_code == 409
    assert ClassSet.objects.filter(quota__school=school).count() == 2


def test_children_counts_and_admit(client: Client, scene: Scene) -> None:
    director(client, scene)
    page = client.get("/staff/school/children/").content.decode()
    assert scene.family.child.full_name in page
    assert f"/staff/school/applications/{scene.application.pk}/admit/" in page
    response = client.post(
        f"/staff/school/applications/{scene.application.pk}/admit/", {"back": "children"}
    )
    assert response.status_code == 302 and response["Location"] == "/staff/school/children/"
    scene.application.refresh_from_db()
    assert scene.application.status == Status.ADMITTED
    assert Notification.objects.filter(user=scene.family.parent).exists()
    again = client.post(f"/staff/school/applications/{scene.application.pk}/admit/")
    assert again.status_code == 409


def test_refuse_needs_a_reason_and_the_district_sees_it(client: Client, scene: Scene) -> None:
    director(client, scene)
    url = f"/staff/school/applications/{scene.application.pk}/refuse/"
    bad = client.post(url, {"reason": "false_data", "text": "", "confirm": "on"})
    assert bad.status_code == 422
    words = "The birth certificate does not match."
    # No reason is preselected: the select starts empty and an empty choice is an error.
    form = client.get(f"/staff/school/applications/{scene.application.pk}/").content.decode()
    assert '<option value="" selected>' in form
    assert client.post(url, {"reason": "", "text": words, "confirm": "on"}).status_code == 422
    # The refusal is confirmed explicitly (a checkbox, no JavaScript needed).
    unconfirmed = client.post(url, {"reason": "false_data", "text": words})
    assert unconfirmed.status_code == 422
    assert 'name="confirm"' in unconfirmed.content.decode()
    scene.application.refresh_from_db()
    assert scene.application.status == Status.REGISTERED
    client.post(url, {"reason": "false_data", "text": words, "confirm": "on"})
    scene.application.refresh_from_db()
    assert scene.application.status == Status.REFUSED
    assert SeatPool.objects.get(school=scene.world.school, language="ky").taken == 0
    officer = scene.users["district_own"]
    assert officer is not None
    refusals = verified(Client(), officer).get("/staff/district/refusals/").content.decode()
    assert "The birth certificate does not match." in refusals
    other = scene.users["district_other"]
    assert other is not None
    elsewhere = verified(Client(), other).get("/staff/district/refusals/").content.decode()
    assert "The birth certificate does not match." not in elsewhere


def test_certificates_documents_and_pmpk(client: Client, scene: Scene) -> None:
    application = scene.application
    director(client, scene)
    base = f"/staff/school/applications/{application.pk}"
    early = client.post(f"{base}/pmpk/", {"note": "speech"})
    assert early.status_code == 409  # only after admission
    client.post(f"{base}/admit/")
    with clock.frozen(AUGUST):
        listing = client.get("/staff/school/children/").content.decode()
        assert "0/2" in listing
        outside = client.post(
            f"{base}/certificates/", {"kind": "medical_health", "received_on": "2026-07-01"}
        )
        assert outside.status_code == 409
        for kind in ("medical_health", "medical_vaccination"):
            response = client.post(
                f"{base}/certificates/", {"kind": kind, "received_on": "2026-08-10"}
            )
            assert response.status_code == 302
        assert ApplicationDocument.objects.filter(application=application).count() == 2
        assert "2/2" in client.get("/staff/school/children/").content.decode()
        client.post(f"{base}/documents-request/", {"text": "The court act, the original."})
        assert DocumentRequest.objects.filter(application=application).count() == 1
    with clock.frozen(clock.bishkek(2026, 9, 1, 10)):
        late = client.post(f"{base}/documents-request/", {"text": "Another paper, please."})
        assert late.status_code == 409
    client.post(f"{base}/pmpk/", {"note": "speech development"})
    referral = PmpkReferral.objects.get(application=application)
    assert referral.outcome == ""
    page = client.get(f"{base}/").content.decode()
    assert f"{base}/pmpk/outcome/" in page
    client.post(f"{base}/pmpk/outcome/", {"outcome": "stays"})
    referral.refresh_from_db()
    assert referral.outcome == "stays"


def test_guardian_act_is_checked(client: Client, scene: Scene) -> None:
    director(client, scene)
    base = f"/staff/school/applications/{scene.application.pk}/acts/{scene.act.pk}"
    file = client.get(f"{base}/file/")
    assert file.status_code == 200 and b"".join(file.streaming_content).startswith(b"%PDF")
    client.post(f"{base}/review/", {"decision": "accept", "note": "original seen"})
    scene.act.refresh_from_db()
    assert scene.act.status == ActStatus.ACCEPTED


def test_address_request_answered(client: Client, scene: Scene) -> None:
    director(client, scene)
    item = scene.address_request
    page = client.get("/staff/school/addresses/").content.decode()
    assert f"/staff/school/addresses/requests/{item.pk}/add/" in page
    no_note = client.post(
        f"/staff/school/addresses/requests/{item.pk}/add/",
        {f"r{item.pk}-house_from": 1, f"r{item.pk}-house_to": 1, f"r{item.pk}-parity": "all"},
    )
    assert no_note.status_code == 422
    response = client.post(
        f"/staff/school/addresses/requests/{item.pk}/add/",
        {
            f"r{item.pk}-house_from": 1,
            f"r{item.pk}-house_to": 9,
            f"r{item.pk}-parity": "odd",
            f"r{item.pk}-note": "Decision of the ayil okmotu No. 4",
        },
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == RequestStatus.ADDED and item.note.startswith("Decision")
    line = MicrodistrictAddress.objects.get(school=scene.world.school, house_from=1)
    assert (line.house_to, line.parity, line.street.code) == (9, "odd", item.street_code)
    # The other school cannot touch this school's work list.
    other = scene.users["school_other"]
    assert other is not None
    stranger = verified(Client(), other).post(
        f"/staff/school/addresses/requests/{item.pk}/reject/", {f"x{item.pk}-note": "no"}
    )
    assert stranger.status_code == 404


def test_address_request_rejected_and_direct_add(client: Client, scene: Scene) -> None:
    director(client, scene)
    item = scene.address_request
    client.post(
        f"/staff/school/addresses/requests/{item.pk}/reject/",
        {f"x{item.pk}-note": "The house belongs to school No. 7."},
    )
    assert MicrodistrictRequest.objects.get(pk=item.pk).status == RequestStatus.REJECTED
    street = StreetFactory(settlement__district=scene.world.school.district)
    response = client.post(
        "/staff/school/addresses/",
        {"street": street.code, "house_from": 2, "house_to": 1, "parity": "all", "note": "x"},
    )
    assert response.status_code == 422  # the service refuses an inverted range
    response = client.post(
        "/staff/school/addresses/",
        {"street": street.code, "parity": "all", "note": "Decision No. 9 of the mayor"},
    )
    assert response.status_code == 302
    assert MicrodistrictAddress.objects.filter(school=scene.world.school, street=street).exists()


def test_teacher_roster(client: Client, scene: Scene) -> None:
    director(client, scene)
    scene.world.registry.add_person(
        registry_adult("21505198500002", surname="Асанов", name="Бакыт")
    )
    with clock.frozen(BEFORE):
        bad = client.post("/staff/school/teachers/", {"pin": "123", "full_name": "Бакыт"})
        assert bad.status_code == 422
        unknown = client.post(
            "/staff/school/teachers/", {"pin": "21505198500099", "full_name": "Бакыт"}
        )
        assert unknown.status_code == 409  # §24: the registry must know the person
        client.post(
            "/staff/school/teachers/", {"pin": "21505198500002", "full_name": "Бакыт Асанов"}
        )
        assert Teacher.objects.filter(school=scene.world.school, pin="21505198500002").exists()
        assert "Асанов Бакыт" in client.get("/staff/school/teachers/").content.decode()
        client.post(f"/staff/school/teachers/{scene.teacher.pk}/remove/")
    assert not Teacher.objects.filter(pk=scene.teacher.pk).exists()


def test_after_the_lock_a_removal_asks_the_district_with_a_ground(
    client: Client, scene: Scene
) -> None:
    # §24: from the quota lock (end of 2026-03-27) the roster is frozen both ways.
    director(client, scene)
    client.cookies["django_language"] = "en"
    teacher = scene.teacher
    with clock.frozen(clock.bishkek(2026, 3, 30, 9, 0)):
        page = client.get("/staff/school/teachers/").content.decode()
        assert 'name="ground"' in page and "Ask to remove" in page
        no_ground = client.post(f"/staff/school/teachers/{teacher.pk}/remove/", follow=True)
        assert "state the ground for the removal" in no_ground.content.decode()
        assert not TeacherAddition.objects.exists()
        asked = client.post(
            f"/staff/school/teachers/{teacher.pk}/remove/",
            {"ground": "Dismissed, order 12"},
            follow=True,
        )
        text = asked.content.decode()
        assert "the removal waits for the district office" in text
        assert "removal waits for the district office" in text and "Dismissed, order 12" in text
    removal = TeacherAddition.objects.get()
    assert (removal.kind, removal.status, removal.ground) == (
        "remove",
        "pending",
        "Dismissed, order 12",
    )
    assert Teacher.objects.filter(pk=teacher.pk).exists()


def test_classes_formed_and_exported(client: Client, scene: Scene) -> None:
    world = scene.world
    at = clock.bishkek(2026, 4, 1, 10, 30)
    with clock.frozen(at):
        admitted = [scene.application]
        for born in (dt.date(2019, 5, 5), dt.date(2019, 6, 6), dt.date(2019, 7, 7)):
            family = world.family(births=[born])
            admitted.append(
                application_register(
                    campaign=world.campaign,
                    user=family.parent,
                    child=family.child,
                    school=world.school,
                    language="ky",
                    actor=Actor(user=family.parent),
                )
            )
        for application in admitted:
            application_admit(application=application, actor=SYSTEM)
    director(client, scene)
    before = client.get("/staff/school/classes/").content.decode()
    assert "classes.xlsx" not in before
    client.post("/staff/school/classes/", {"language": "ky"})
    formed = FormedClass.objects.get(school=world.school, language="ky")
    assert formed.members.count() == 4
    page = client.get("/staff/school/classes/").content.decode()
    assert "1А" in page and scene.family.child.full_name in page
    export = client.get("/staff/school/classes/classes.xlsx")
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 5 and rows[1][0] == "1А"
    assert {r[8] for r in rows[1:]} == {a.child.pin for a in admitted}
    pdf = client.get("/staff/school/classes/classes.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    kundoluk = client.get("/staff/school/kundoluk.csv").content.decode("utf-8-sig").splitlines()
    assert kundoluk[0].startswith("application,pin,") and len(kundoluk) == 5
    none = client.post("/staff/school/classes/", {"language": "uz"}, follow=True)
    assert FormedClass.objects.filter(language="uz").count() == 0
    assert none.status_code == 200


def test_pages_speak_kyrgyz_by_default_and_russian_on_request(client: Client, scene: Scene) -> None:
    director(client, scene)
    page = client.get("/staff/school/").content.decode()
    assert 'lang="ky"' in page and scene.world.school.name_ky in page
    client.cookies["django_language"] = "ru"
    page = client.get("/staff/school/").content.decode()
    assert 'lang="ru"' in page and scene.world.school.name_ru in page


def test_a_director_without_a_school_scope_sees_only_their_own(scene: Scene) -> None:
    other = staff_user(Role.SCHOOL, school=scene.world.other_school)
    client = verified(Client(), other)
    page = client.get("/staff/school/children/").content.decode()
    assert scene.family.child.full_name not in page
    assert client.get(f"/staff/school/applications/{scene.application.pk}/").status_code == 404
