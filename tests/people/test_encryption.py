"""§7: phones, e-mail and document numbers are encrypted at rest; the application reads them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from kattoo.accounts.models import LoginChallenge, UserSession
from kattoo.audit.models import AuditEvent
from kattoo.core import clock
from kattoo.people.encryption import encrypted_fields
from kattoo.people.models import Person

from ..factories import PersonFactory, UserFactory

PLAIN = {
    "phone": "+996700123456",
    "email": "aigul@example.kg",
    "passport_series": "ID",
    "passport_number": "1234567",
    "birth_certificate_series": "I-AN",
    "birth_certificate_number": "7654321",
}


def raw(table: str, pk: int, columns: list[str]) -> dict[str, bytes]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM {table} WHERE id = %s",
            [pk],
        )
        row = cursor.fetchone()
    return {
        c: bytes(v) if not isinstance(v, str) else v.encode()
        for c, v in zip(columns, row, strict=True)
    }


def _forget_keys() -> None:
    """The fields keep their Fernet once built; a test that changes the keys rebuilds it."""
    for model in (Person, LoginChallenge, UserSession):
        for name in encrypted_fields(model):
            field = model._meta.get_field(name)
            for cached in ("keys", "fernet_keys", "fernet"):
                field.__dict__.pop(cached, None)


@pytest.fixture
def keys(settings) -> Iterator[object]:
    _forget_keys()
    yield settings
    _forget_keys()


def test_the_stored_bytes_are_not_the_plaintext_and_the_app_reads_them() -> None:
    person = PersonFactory(**PLAIN)
    stored = raw("people_person", person.pk, list(PLAIN))
    for column, value in PLAIN.items():
        # A value of a few letters ("ID") turns up by chance in a random token's base64
        # (it failed CI once); the token check below holds for every column.
        if len(value) >= 6:
            assert value.encode() not in stored[column]
        assert stored[column].startswith(b"gAAAA")  # a Fernet token
    again = Person.objects.get(pk=person.pk)
    assert {k: getattr(again, k) for k in PLAIN} == PLAIN


def test_empty_values_stay_empty() -> None:
    person = PersonFactory(phone="", email="", passport_series="", passport_number="")
    again = Person.objects.get(pk=person.pk)
    assert (again.phone, again.email, again.passport_number) == ("", "", "")


def test_the_sign_in_challenge_phone_is_encrypted_too() -> None:
    user = UserFactory(person=PersonFactory())
    challenge = LoginChallenge.objects.create(
        user=user,
        code_digest="x" * 64,
        phone="+996555000111",
        created_at=clock.now(),
        expires_at=clock.now(),
    )
    assert b"+996555000111" not in raw("accounts_loginchallenge", challenge.pk, ["phone"])["phone"]
    assert LoginChallenge.objects.get(pk=challenge.pk).phone == "+996555000111"


def test_encrypted_fields_cannot_be_searched_by_value() -> None:
    """A lookup would compare ciphertexts and silently find nothing: it fails loudly instead."""
    with pytest.raises(FieldError):
        list(Person.objects.filter(phone="+996700123456"))


def test_rotation_old_key_still_reads_new_key_writes(keys) -> None:
    keys.FERNET_KEYS = ["old-key"]
    person = PersonFactory(**PLAIN)
    keys.FERNET_KEYS = ["new-key", "old-key"]
    _forget_keys()
    assert Person.objects.get(pk=person.pk).phone == PLAIN["phone"]
    before = raw("people_person", person.pk, ["phone"])["phone"]
    call_command("personal_data_reencrypt")
    assert raw("people_person", person.pk, ["phone"])["phone"] != before
    keys.FERNET_KEYS = ["new-key"]  # the old key is gone: everything still reads
    _forget_keys()
    assert Person.objects.get(pk=person.pk).passport_number == PLAIN["passport_number"]
    assert AuditEvent.objects.filter(action="personal_data.reencrypt").exists()


def test_rotation_reaches_every_model_with_an_encrypted_field(keys) -> None:
    """Not only people: a web session's key (accounts) left under the old key would be lost
    with it."""
    keys.FERNET_KEYS = ["old-key"]
    now = clock.now()
    session = UserSession.objects.create(
        user=UserFactory(person=PersonFactory()),
        session_key="k" * 32,
        created_at=now,
        expires_at=now,
    )
    keys.FERNET_KEYS = ["new-key", "old-key"]
    _forget_keys()
    call_command("personal_data_reencrypt")
    keys.FERNET_KEYS = ["new-key"]
    _forget_keys()
    assert UserSession.objects.get(pk=session.pk).session_key == "k" * 32
    counts = AuditEvent.objects.get(action="personal_data.reencrypt").data
    assert {"people.person", "accounts.loginchallenge", "accounts.usersession"} <= set(counts)


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_rows() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([("people", "0002_address_date_act_hash")])
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO people_person (pin, surname, name, patronymic, sex, birth_date,"
            " address_text, address_settlement_code, address_street_code, address_house,"
            " address_flat, birth_certificate_series, birth_certificate_number,"
            " birth_certificate_issuer, mother_pin, father_pin, phone, email, passport_series,"
            " passport_number, fetched_at, xroad_id)"
            " VALUES ('22310199070001', 'A', 'B', '', 'F', '1990-01-01', '', '', '', '', '',"
            " 'I-AN', '7654321', '', '', '', '+996700123456', 'a@example.kg', 'ID', '1234567',"
            " %s, '')",
            [clock.now()],
        )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    person = Person.objects.get(pin="22310199070001")
    assert b"+996700123456" not in raw("people_person", person.pk, ["phone"])["phone"]
    assert (person.phone, person.email, person.passport_number) == (
        "+996700123456",
        "a@example.kg",
        "1234567",
    )
    assert person.birth_certificate_number == "7654321"


def test_production_does_not_start_without_field_keys() -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("KATTOO_FIELD_KEYS", "DJANGO_SETTINGS_MODULE")
    }
    env.update(DJANGO_SECRET_KEY="x" * 50, DATABASE_URL="postgres://u:p@127.0.0.1:1/none")
    for keys in (None, ","):
        if keys is not None:
            env["KATTOO_FIELD_KEYS"] = keys
        done = subprocess.run(
            [sys.executable, "-c", "import config.settings.production"],
            env=env,
            cwd=Path(__file__).resolve().parents[2],
            capture_output=True,
            text=True,
        )
        assert done.returncode != 0 and "KATTOO_FIELD_KEYS" in done.stderr
