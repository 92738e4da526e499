# Challenges become addressable only by a random handle, hold the PIN (encrypted) and get
# their account once the code is verified (kattoo.accounts.login, ADR 0023). Challenges live
# five minutes, so the ones in flight at the upgrade are dropped: their holders ask again.

import django.db.models.deletion
import fernet_fields.fields
from django.conf import settings
from django.db import migrations, models


def drop_challenges(apps, schema_editor):
    apps.get_model("accounts", "LoginChallenge").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_user_sessions_and_token_expiry"),
    ]

    operations = [
        migrations.RunPython(drop_challenges, migrations.RunPython.noop),
        migrations.AddField(
            model_name="loginchallenge",
            name="handle_digest",
            field=models.CharField(default="", max_length=64, unique=True),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="loginchallenge",
            name="pin",
            field=fernet_fields.fields.EncryptedCharField(default="", max_length=14),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="loginchallenge",
            name="pin_key",
            field=models.CharField(db_index=True, default="", max_length=32),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="loginchallenge",
            name="language",
            field=models.CharField(blank=True, default="", max_length=2),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="loginchallenge",
            name="sent_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="loginchallenge",
            name="code_digest",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AlterField(
            model_name="loginchallenge",
            name="phone",
            field=fernet_fields.fields.EncryptedCharField(blank=True, max_length=16),
        ),
        migrations.AlterField(
            model_name="loginchallenge",
            name="user",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="login_challenges",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
