"""The stored answers of ``Idempotency-Key`` requests kept as their JSON text (ADR 0064).

An answer is only ever given back as it was stored: no query reads its members. As ``jsonb``,
every registration of the opening minute parsed its ~700 bytes of JSON and built their binary
form, and the statement set the position in it with ``jsonb_set`` and ``to_jsonb``: 6 % of
the database's instructions a registration. As ``text`` the statement writes the answer it
answers with, the position written in. The column keeps ``SET STATISTICS 0`` (migration
0015). The change rewrites the table under an exclusive lock: a deployment migrates outside
a campaign's opening (docs/deployment.md)."""

from django.db import migrations

import kattoo.core.fields


class Migration(migrations.Migration):
    dependencies = [("enrollment", "0015_idempotency_response_without_statistics")]

    operations = [
        migrations.AlterField(
            model_name="idempotencyrecord",
            name="response",
            field=kattoo.core.fields.JSONText(),
        ),
    ]
