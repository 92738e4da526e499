"""§7: phones, e-mail and document numbers encrypted at rest. Each column is replaced by an
encrypted one: add it, copy every row through the field (which encrypts), drop the plain one,
take its name. Rows are read in chunks, so a large population does not sit in memory."""

import fernet_fields.fields
from django.db import migrations

FIELDS = {
    "birth_certificate_series": 16,
    "birth_certificate_number": 16,
    "phone": 16,
    "email": 254,
    "passport_series": 4,
    "passport_number": 16,
}


def _copy(apps, *, to_encrypted):
    # One UPDATE a row: bulk_update would hand the field a CASE expression to "encrypt".
    Person = apps.get_model("people", "Person")
    pairs = [(f, f"{f}_enc") if to_encrypted else (f"{f}_enc", f) for f in FIELDS]
    for person in Person.objects.only("pk", *(src for src, _ in pairs)).iterator(chunk_size=2000):
        Person.objects.filter(pk=person.pk).update(
            **{dst: getattr(person, src) or "" for src, dst in pairs}
        )


def encrypt(apps, schema_editor):
    _copy(apps, to_encrypted=True)


def decrypt(apps, schema_editor):
    _copy(apps, to_encrypted=False)


def _encrypted(name, length):
    if name == "email":
        return fernet_fields.fields.EncryptedEmailField(blank=True, default="", max_length=length)
    return fernet_fields.fields.EncryptedCharField(blank=True, default="", max_length=length)


class Migration(migrations.Migration):
    dependencies = [("people", "0002_address_date_act_hash")]

    operations = [
        *(
            migrations.AddField("person", f"{name}_enc", _encrypted(name, length))
            for name, length in FIELDS.items()
        ),
        migrations.RunPython(encrypt, decrypt, elidable=False),
        *(migrations.RemoveField("person", name) for name in FIELDS),
        *(migrations.RenameField("person", f"{name}_enc", name) for name in FIELDS),
    ]
