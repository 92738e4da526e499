"""§7: personal data is anonymised when its retention period after the campaign has run out;
aggregates and the audit trail stay."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection

from kattoo.accounts.models import ApiToken, Role, User
from kattoo.accounts.services import token_issue
from kattoo.audit.models import AuditEvent
from kattoo.campaigns.models import Campaign
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.enrollment.models import Application
from kattoo.enrollment.services import application_register
from kattoo.notifications.models import Notification
from kattoo.notifications.services import notification_queue
from kattoo.people.models import ActKind, GuardianAct, Person
from kattoo.retention.services import (
    campaign_ended_at,
    personal_data_purge,
    persons_to_anonymise,
    pseudonym,
)
from kattoo.retention.tasks import personal_data_purge_task

from ..conftest import SYSTEM, Family, World
from ..factories import UserFactory


def _registered(world: World) -> tuple[Family, Application, GuardianAct]:
    family = world.family()
    application = application_register(
        campaign=world.campaign,
        user=family.parent,
        child=family.child,
        school=world.school,
        language="ky",
        actor=Actor(user=family.parent),
    )
    act = GuardianAct.objects.create(
        link=family.links[0],
        kind=ActKind.COURT,
        number="2-1234/26",
        file=ContentFile(b"%PDF-1.4 act", name="act.pdf"),
        uploaded_at=clock.now(),
    )
    token_issue(user=family.parent, actor=SYSTEM)
    return family, application, act


@pytest.fixture
def past(world: World, at_stage1, settings) -> tuple[Family, Application, GuardianAct]:
    """A registration of the 2026 campaign, which is no longer the active one."""
    settings.KATTOO_RETENTION = {"DAYS_AFTER_CAMPAIGN": 365}
    made = _registered(world)
    Campaign.objects.filter(pk=world.campaign.pk).update(is_active=False)
    return made


def after_retention(world: World, days: int = 1):
    return clock.frozen(campaign_ended_at(world.campaign) + dt.timedelta(days=365 + days))


def raw_pin(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pin FROM people_person WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_the_campaign_ends_with_its_last_certificate_day(campaign: Campaign) -> None:
    assert campaign_ended_at(campaign) == clock.bishkek(2026, 9, 6)  # medical until 09-05 (§21)


def test_nothing_is_anonymised_inside_the_period(world: World, past) -> None:
    with after_retention(world, days=-2):
        report = personal_data_purge(actor=SYSTEM)
    assert report.persons == 0
    assert not Person.objects.filter(anonymised_at__isnull=False).exists()


def test_an_active_campaign_keeps_its_people_whatever_the_date(world: World, past) -> None:
    Campaign.objects.filter(pk=world.campaign.pk).update(is_active=True)
    with after_retention(world, days=3000):
        assert not persons_to_anonymise(clock.now()).exists()


def test_dry_run_counts_and_changes_nothing(world: World, past, capsys) -> None:
    family, _application, _act = past
    with after_retention(world):
        call_command("purge_personal_data", "--dry-run")
    assert "would be anonymised" in capsys.readouterr().out
    family.child.refresh_from_db()
    assert family.child.anonymised_at is None and family.child.name
    assert not AuditEvent.objects.filter(action="personal_data.purge").exists()


def test_the_purge_anonymises_and_keeps_aggregates_and_the_audit_trail(
    world: World, past, django_capture_on_commit_callbacks
) -> None:
    family, application, act = past
    child_pin, parent_pin = family.child.pin, family.parent.username
    sex, year = family.child.sex, family.child.birth_date.year
    storage, name = act.file.storage, act.file.name
    assert storage.exists(name)
    events_before = list(AuditEvent.objects.values_list("id", "action", "object_id", "data"))
    with after_retention(world):
        call_command("audit_seal")
        with django_capture_on_commit_callbacks(execute=True):
            call_command("purge_personal_data")

    child = Person.objects.get(pk=family.child.pk)
    assert child.anonymised_at is not None
    assert child.pin == pseudonym(child_pin) != child_pin
    assert raw_pin(child.pk).startswith("~")
    assert (child.surname, child.name, child.patronymic, child.address_text) == ("", "", "", "")
    assert child.birth_certificate_number == "" and child.mother_pin.startswith("~")
    # §9: the aggregates still count the child by sex and birth year, school and language.
    assert (child.sex, child.birth_date) == (sex, dt.date(year, 1, 1))
    assert Application.objects.filter(pk=application.pk, school=world.school).exists()

    mother = Person.objects.get(pk=family.parent.person_id)
    assert (mother.phone, mother.passport_number, mother.email) == ("", "", "")
    parent = User.objects.get(pk=family.parent.pk)
    assert parent.username == pseudonym(parent_pin) and not parent.is_active
    assert not parent.has_usable_password()
    assert not ApiToken.objects.filter(user=parent).exists()
    assert set(Notification.objects.filter(user=parent).values_list("address", "body")) <= {
        ("", "")
    }

    act.refresh_from_db()
    assert not act.file and act.number == "" and not storage.exists(name)

    # The audit trail is not rewritten, it still verifies, and the purge is in it.
    assert (
        list(
            AuditEvent.objects.filter(id__in=[e[0] for e in events_before]).values_list(
                "id", "action", "object_id", "data"
            )
        )
        == events_before
    )
    purge = AuditEvent.objects.get(action="personal_data.purge")
    assert purge.data["persons"] >= 3 and purge.data["guardian_act_files"] == 1
    with after_retention(world, days=2):
        call_command("audit_seal")
        call_command("audit_verify")


def test_a_second_run_finds_nobody(world: World, past) -> None:
    with after_retention(world):
        first = personal_data_purge(actor=SYSTEM)
        second = personal_data_purge(actor=SYSTEM)
    assert first.persons >= 3 and second.persons == 0


def test_a_parent_of_a_live_registration_is_kept(world: World, past) -> None:
    """The father was fetched long ago but his child's registration belongs to a campaign
    still kept: his address may decide the microdistrict (§10)."""
    family, _application, _act = past
    assert Person.objects.filter(pin=family.child.father_pin).exists()  # fetched, never applied
    Campaign.objects.filter(pk=world.campaign.pk).update(is_active=True)
    with after_retention(world):
        doomed = set(persons_to_anonymise(clock.now()).values_list("pin", flat=True))
    assert family.child.pin not in doomed
    assert family.child.father_pin not in doomed and family.child.mother_pin not in doomed


def test_the_task_runs_the_purge(world: World, past) -> None:
    with after_retention(world):
        result = personal_data_purge_task.enqueue()
    assert result.return_value["persons"] >= 3


def test_a_pseudonym_is_stable_keyed_and_never_a_pin(settings) -> None:
    settings.FERNET_KEYS = ["key-one"]
    first = pseudonym("22310199070001")
    assert first == pseudonym("22310199070001") and len(first) == 14
    assert not first.isdigit() and pseudonym(first) == first
    settings.FERNET_KEYS = ["key-two"]
    assert pseudonym("22310199070001") != first


def test_the_purge_blanks_every_message_text_older_than_the_period(
    world: World, past, django_capture_on_commit_callbacks
) -> None:
    """ADR 0022: message texts follow the retention, whoever they went to."""
    staff = UserFactory(role=Role.OPERATOR)
    old = notification_queue(
        user=staff,
        event="appeal_answered",
        context={"number": "7"},
        dedupe_key="old:7",
        address="+996700000007",
    )
    with after_retention(world):
        recent = notification_queue(
            user=staff,
            event="appeal_answered",
            context={"number": "8"},
            dedupe_key="new:8",
            address="+996700000008",
        )
        with django_capture_on_commit_callbacks(execute=True):
            personal_data_purge(actor=SYSTEM)
    assert old is not None and recent is not None
    assert Notification.objects.get(pk=old.pk).body == ""
    assert "8" in Notification.objects.get(pk=recent.pk).body
