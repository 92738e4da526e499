"""ADR 0022: the address encrypted at rest like ``Person.phone``; secret message texts
(sign-in codes) only encrypted, and the codes already kept in clear are blanked."""

import fernet_fields.fields
from django.db import migrations, models

SECRET_EVENTS = ("login_code",)
REDACTED = "[redacted]"


def encrypt_addresses(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    rows = Notification.objects.only("pk", "address_plain").order_by("pk")
    for row in rows.iterator(chunk_size=1000):
        Notification.objects.filter(pk=row.pk).update(address=row.address_plain)
    Notification.objects.filter(event__in=SECRET_EVENTS).update(body=REDACTED)


def decrypt_addresses(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    for row in Notification.objects.only("pk", "address").order_by("pk").iterator(chunk_size=1000):
        Notification.objects.filter(pk=row.pk).update(address_plain=row.address)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0002_delivery_claim_lease"),
    ]

    operations = [
        migrations.RenameField(model_name="notification", old_name="address", new_name="address_plain"),
        migrations.AddField(
            model_name="notification",
            name="address",
            field=fernet_fields.fields.EncryptedCharField(
                default="", help_text="Phone number or e-mail address", max_length=254
            ),
            preserve_default=False,
        ),
        migrations.RunPython(encrypt_addresses, decrypt_addresses),
        # A default, so that going back re-adds the plain column before it is filled again.
        migrations.AlterField(
            model_name="notification",
            name="address_plain",
            field=models.CharField(default="", max_length=254),
        ),
        migrations.RemoveField(model_name="notification", name="address_plain"),
        migrations.AddField(
            model_name="notification",
            name="secret_body",
            field=fernet_fields.fields.EncryptedTextField(blank=True, default=""),
        ),
        migrations.AddField(
            model_name="notification",
            name="report",
            field=models.CharField(
                blank=True,
                choices=[("delivered", "delivered"), ("undelivered", "not delivered")],
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="notification",
            name="reported_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
