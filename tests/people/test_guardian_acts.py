"""The representative's act (§20): uploaded, checked by content and size, reviewed (§18)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from kattoo.audit.models import AuditEvent
from kattoo.core import clock
from kattoo.core.errors import FieldError, RuleViolation
from kattoo.people.models import ActStatus, GuardianAct, Relation
from kattoo.people.services import document_kind_sniff, guardian_act_review, guardian_act_upload

from ..conftest import SYSTEM, World
from ..factories import registry_person

PDF = b"%PDF-1.7\n" + b"0" * 100


@pytest.fixture
def ward_link(world: World):
    from kattoo.accounts.services import applicant_for_pin
    from kattoo.people.services import applicant_children_sync

    child = registry_person(sex="M", born=dt.date(2019, 10, 10), street=world.home)
    rep = registry_person(sex="F", born=dt.date(1970, 1, 1), street=world.home)
    for p in (child, rep):
        world.registry.add_person(p)
    world.registry.add_ward(rep["pin"], child["pin"])
    user = applicant_for_pin(pin=rep["pin"], actor=SYSTEM)
    [link] = applicant_children_sync(applicant=user.person, actor=SYSTEM)
    assert link.relation == Relation.REPRESENTATIVE
    return link


def upload(
    link,
    content: bytes = PDF,
    name: str = "act.pdf",
    kind: str = "court",
    issued_on: dt.date | None = dt.date(2024, 1, 1),
):
    return guardian_act_upload(
        link=link,
        kind=kind,
        number="12-345",
        issued_on=issued_on,
        file=SimpleUploadedFile(name, content),
        actor=SYSTEM,
    )


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.4", "pdf"),
        (b"\xff\xd8\xff\xe0", "jpeg"),
        (b"\x89PNG\r\n\x1a\n", "png"),
        (b"MZ\x90\x00", None),
        (b"", None),
    ],
)
def test_file_type_is_read_from_the_bytes(head: bytes, kind) -> None:
    assert document_kind_sniff(head) == kind


def test_upload_then_review(ward_link) -> None:
    act = upload(ward_link)
    assert act.status == ActStatus.PENDING and act.file.name.endswith(".pdf")
    reviewed = guardian_act_review(act=act, accept=True, note="checked", actor=SYSTEM)
    assert reviewed.status == ActStatus.ACCEPTED
    with pytest.raises(RuleViolation, match="invalid_status_transition"):
        guardian_act_review(act=act, accept=False, note="", actor=SYSTEM)
    assert AuditEvent.objects.filter(action__startswith="guardian_act.").count() == 2


def test_a_new_upload_supersedes_a_pending_one(ward_link) -> None:
    first = upload(ward_link)
    upload(ward_link, kind="social")
    first.refresh_from_db()
    assert first.status == ActStatus.REJECTED
    assert GuardianAct.objects.filter(link=ward_link, status=ActStatus.PENDING).count() == 1


@pytest.mark.parametrize(
    ("content", "name", "kind", "code"),
    [
        (b"MZ\x90\x00 not a document", "act.pdf", "court", "file_type"),  # the name lies
        (PDF, "act.pdf", "notary", "invalid_choice"),  # §20: only court or social authority acts
    ],
)
def test_bad_uploads_are_refused_and_write_nothing(ward_link, content, name, kind, code) -> None:
    with pytest.raises(FieldError) as error:
        upload(ward_link, content, name, kind)
    assert error.value.code == code
    assert not GuardianAct.objects.exists()


# 00:30 on 1 April in Bishkek (UTC+6) is still 31 March in UTC: today is Bishkek's day.
JUST_AFTER_MIDNIGHT = clock.bishkek(2026, 4, 1, 0, 30)


def test_an_act_dated_after_today_is_refused_and_nothing_is_written(
    ward_link, settings, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    with clock.frozen(JUST_AFTER_MIDNIGHT - dt.timedelta(days=1)):
        earlier = upload(ward_link)
    events = AuditEvent.objects.count()
    stored = sorted(tmp_path.rglob("*"))
    with (
        clock.frozen(JUST_AFTER_MIDNIGHT),
        translation.override("en"),
        pytest.raises(FieldError) as error,
    ):
        upload(ward_link, issued_on=dt.date(2026, 4, 2))
    assert (error.value.field, error.value.code) == ("issued_on", "in_future")
    assert error.value.message == "The date cannot be later than today."  # the web form's words
    assert list(GuardianAct.objects.values_list("pk", flat=True)) == [earlier.pk]
    earlier.refresh_from_db()
    assert earlier.status == ActStatus.PENDING  # not superseded by the refused one
    assert AuditEvent.objects.count() == events
    assert sorted(tmp_path.rglob("*")) == stored


def test_an_act_dated_today_in_bishkek_is_accepted(ward_link, settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    with clock.frozen(JUST_AFTER_MIDNIGHT):
        act = upload(ward_link, issued_on=dt.date(2026, 4, 1))
    assert act.issued_on == dt.date(2026, 4, 1) and act.status == ActStatus.PENDING
    assert Path(act.file.path).is_relative_to(tmp_path)  # where the refused test looks


def test_oversized_upload_is_refused(ward_link, settings) -> None:
    settings.KATTOO_UPLOAD_MAX_BYTES = 50
    with pytest.raises(FieldError) as error:
        upload(ward_link)
    assert error.value.code == "file_too_large"


def test_parents_do_not_upload_acts(world: World) -> None:
    family = world.family()
    with pytest.raises(RuleViolation, match="forbidden"):
        upload(family.links[0])
