"""Guardian acts (§20) are private files: stored outside every served root, checked by their
bytes and size on the way in (web and API), and handed out only by a view that checks who
asks — the representative who filed the act and staff whose scope holds the registration it
supports. Everyone else gets a 404."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.views.static import serve

from kattoo.accounts.models import Role, User
from kattoo.accounts.services import applicant_for_pin, token_issue
from kattoo.audit.models import AuditEvent
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.enrollment.models import Application
from kattoo.enrollment.services import application_register
from kattoo.people.models import ChildLink, GuardianAct
from kattoo.people.services import applicant_children_sync, guardian_act_upload

from ..conftest import STAGE1, SYSTEM, World
from ..factories import registry_person
from ..web.staff.conftest import as_user, staff_user

PDF = b"%PDF-1.7\n" + b"0" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 200


@dataclass
class Ward:
    user: User
    link: ChildLink
    act: GuardianAct


def representative(world: World) -> tuple[User, ChildLink]:
    child = registry_person(sex="M", born=dt.date(2019, 10, 10), street=world.home)
    rep = registry_person(sex="F", born=dt.date(1970, 1, 1), street=world.home)
    for person in (child, rep):
        world.registry.add_person(person)
    world.registry.add_ward(rep["pin"], child["pin"])
    user = applicant_for_pin(pin=rep["pin"], actor=SYSTEM)
    assert user.person is not None
    [link] = applicant_children_sync(applicant=user.person, actor=SYSTEM)
    return user, link


@pytest.fixture
def ward(world: World) -> Ward:
    """A legal representative who filed an act and registered the ward at world.school."""
    user, link = representative(world)
    with clock.frozen(STAGE1 + dt.timedelta(minutes=5)):
        act = guardian_act_upload(
            link=link,
            kind="court",
            number="2-118/24",
            issued_on=dt.date(2024, 1, 1),
            file=SimpleUploadedFile("act.pdf", PDF),
            actor=SYSTEM,
        )
        application_register(
            campaign=world.campaign,
            user=user,
            child=link.child,
            school=world.school,
            language="ky",
            actor=Actor(user=user),
        )
    return Ward(user=user, link=link, act=act)


def people(world: World, ward: Ward) -> dict[str, User | None]:
    return {
        "anonymous": None,
        "owner": ward.user,
        "other_parent": world.family(street=world.elsewhere).parent,
        "school_own": staff_user(Role.SCHOOL, school=world.school),
        "school_other": staff_user(Role.SCHOOL, school=world.other_school),
        "district_own": staff_user(Role.DISTRICT, district=world.school.district),
        "district_other": staff_user(Role.DISTRICT, district=world.other_school.district),
        "analyst": staff_user(Role.MINISTRY_ANALYST),
        "admin": staff_user(Role.MINISTRY_ADMIN),
        "operator": staff_user(Role.OPERATOR),
    }


# Who gets the file: the owner, and staff whose scope holds world.school's registration.
SERVED = {"owner", "school_own", "district_own", "analyst", "admin"}
WHO = [
    "anonymous",
    "owner",
    "other_parent",
    "school_own",
    "school_other",
    "district_own",
    "district_other",
    "analyst",
    "admin",
    "operator",
]


@pytest.mark.parametrize("who", WHO)
def test_the_act_is_served_only_inside_the_scope(world: World, ward: Ward, who: str) -> None:
    user = people(world, ward)[who]
    url = reverse("web:guardian_act_file", args=[ward.act.pk])
    response = as_user(Client(), user).get(url)
    if who == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("web:login"))
    elif who in SERVED:
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == (
            f'attachment; filename="guardian-act-{ward.act.pk}.pdf"'
        )
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in response["Cache-Control"]
    else:
        assert response.status_code == 404
        assert PDF not in b"".join(getattr(response, "streaming_content", [response.content]))


def test_the_schools_own_link_serves_the_same_file(world: World, ward: Ward) -> None:
    registration = Application.objects.get(child=ward.link.child)
    url = reverse("web:staff:school_act_file", args=[registration.pk, ward.act.pk])
    own = as_user(Client(), staff_user(Role.SCHOOL, school=world.school)).get(url)
    assert own.status_code == 200 and own["Content-Type"] == "application/pdf"
    assert own["Content-Disposition"].startswith("attachment;")
    other = as_user(Client(), staff_user(Role.SCHOOL, school=world.other_school)).get(url)
    assert other.status_code == 404


def test_staff_without_the_second_factor_are_sent_to_sign_in(world: World, ward: Ward) -> None:
    client = Client()
    client.force_login(staff_user(Role.SCHOOL, school=world.school))  # password only
    response = client.get(reverse("web:guardian_act_file", args=[ward.act.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:staff:login"))


def test_an_act_without_a_registration_is_the_representatives_alone(world: World) -> None:
    user, link = representative(world)
    act = guardian_act_upload(
        link=link,
        kind="social",
        number="7",
        issued_on=None,
        file=SimpleUploadedFile("scan.png", PNG),
        actor=SYSTEM,
    )
    url = reverse("web:guardian_act_file", args=[act.pk])
    mine = as_user(Client(), user).get(url)
    assert mine.status_code == 200 and mine["Content-Type"] == "image/png"
    for staff in (
        staff_user(Role.SCHOOL, school=world.school),
        staff_user(Role.DISTRICT, district=world.school.district),
    ):
        assert as_user(Client(), staff).get(url).status_code == 404


def test_the_served_type_is_read_from_the_bytes(world: World, ward: Ward) -> None:
    # The stored name claims PNG; the bytes are a PDF, and the bytes decide.
    ward.act.file.save("renamed.png", ContentFile(PDF), save=True)
    response = as_user(Client(), ward.user).get(
        reverse("web:guardian_act_file", args=[ward.act.pk])
    )
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].endswith('.pdf"')
    # A file that is none of the accepted kinds is never handed out.
    ward.act.file.save("evil.pdf", ContentFile(b"<script>alert(1)</script>"), save=True)
    response = as_user(Client(), ward.user).get(
        reverse("web:guardian_act_file", args=[ward.act.pk])
    )
    assert response.status_code == 404


def _patterns(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _patterns(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.callback


def test_uploads_are_stored_outside_every_served_root(world: World, ward: Ward) -> None:
    media = Path(settings.MEDIA_ROOT).resolve()
    stored = Path(ward.act.file.path).resolve()
    assert stored.is_relative_to(media)
    served_roots = [
        Path(settings.STATIC_ROOT),
        *map(Path, getattr(settings, "STATICFILES_DIRS", [])),
    ]
    for root in served_roots:
        root = root.resolve()
        assert not media.is_relative_to(root) and not root.is_relative_to(media), root
    # No URL pattern serves files from disk (django.views.static.serve, static()).
    assert [path for path, view in _patterns(get_resolver().url_patterns) if view is serve] == []
    assert not settings.MEDIA_URL or settings.MEDIA_URL == "/"
    relative = stored.relative_to(media).as_posix()
    client = as_user(Client(), ward.user)
    for url in (f"/media/{relative}", f"/{relative}", f"/static/{relative}"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert PDF not in b"".join(getattr(response, "streaming_content", [response.content]))


@pytest.mark.parametrize(
    ("content", "limit", "field_error"),
    [
        (b"MZ\x90\x00 an executable named act.pdf", 5_000_000, "PDF, JPEG or PNG"),
        (PDF, 50, "larger than"),
    ],
)
def test_the_web_form_refuses_bad_files_and_writes_nothing(
    world: World, settings, content: bytes, limit: int, field_error: str
) -> None:
    settings.KATTOO_UPLOAD_MAX_BYTES = limit
    settings.LANGUAGE_CODE = "en"
    user, link = representative(world)
    events = AuditEvent.objects.count()
    client = as_user(Client(), user)
    response = client.post(
        reverse("web:guardian_act", args=[link.child_id]),
        {"kind": "court", "file": SimpleUploadedFile("act.pdf", content, "application/pdf")},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 200
    assert field_error in response.content.decode()
    assert not GuardianAct.objects.filter(link=link).exists()
    assert AuditEvent.objects.count() == events


def test_the_api_refuses_an_oversized_file_and_writes_nothing(world: World, settings) -> None:
    settings.KATTOO_UPLOAD_MAX_BYTES = 50
    user, link = representative(world)
    events = AuditEvent.objects.count()
    response = Client().post(
        f"/api/v1/me/children/{link.child_id}/guardian-document",
        {"kind": "court", "file": SimpleUploadedFile("act.pdf", PDF, "application/pdf")},
        headers={"Authorization": f"Bearer {token_issue(user=user, actor=SYSTEM)}"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "file",
        "code": "file_too_large",
        "message": response.json()["errors"][0]["message"],
    }
    assert not GuardianAct.objects.filter(link=link).exists()
    assert AuditEvent.objects.count() == events + 1  # the token's issue only
