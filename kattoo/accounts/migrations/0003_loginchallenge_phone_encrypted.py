"""§7: the phone a sign-in code went to is encrypted at rest, like the person's phone."""

import fernet_fields.fields
from django.db import migrations


def _copy(apps, *, src, dst):
    # One UPDATE a row: bulk_update would hand the field a CASE expression to "encrypt".
    LoginChallenge = apps.get_model("accounts", "LoginChallenge")
    for challenge in LoginChallenge.objects.only("pk", src).iterator(chunk_size=2000):
        LoginChallenge.objects.filter(pk=challenge.pk).update(**{dst: getattr(challenge, src)})


def encrypt(apps, schema_editor):
    _copy(apps, src="phone", dst="phone_enc")


def decrypt(apps, schema_editor):
    _copy(apps, src="phone_enc", dst="phone")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_loginchallenge")]

    operations = [
        migrations.AddField(
            "loginchallenge",
            "phone_enc",
            fernet_fields.fields.EncryptedCharField(default="", max_length=16),
            preserve_default=False,
        ),
        migrations.RunPython(encrypt, decrypt, elidable=False),
        migrations.RemoveField("loginchallenge", "phone"),
        migrations.RenameField("loginchallenge", "phone_enc", "phone"),
    ]
