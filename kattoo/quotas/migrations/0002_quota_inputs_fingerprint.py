"""Quotas remember a fingerprint of what they were computed from (ADR 0017).

Quotas computed before this migration are taken as computed from the data the catalog holds
now, so the first automatic run after the upgrade does not throw away a director's changes.
The hash is a frozen copy of ``kattoo.quotas.inputs.quota_inputs_fingerprint`` (rule 1)."""

import hashlib
import json

from django.db import migrations, models


def fingerprint_existing_quotas(apps, schema_editor):
    Quota = apps.get_model("quotas", "Quota")
    ExistingClassSet = apps.get_model("catalog", "ExistingClassSet")
    for quota in Quota.objects.select_related("campaign").iterator():
        sets = ExistingClassSet.objects.filter(
            school_id=quota.school_id, campaign_id=quota.campaign_id
        ).order_by("grade", "letter", "id")
        body = {
            "rule": 1,
            "low": quota.campaign.class_size_min,
            "high": quota.campaign.class_size_max,
            "sets": [[e.grade, e.letter, e.language, e.size] for e in sets],
        }
        quota.inputs_fingerprint = hashlib.sha256(
            json.dumps(body, sort_keys=True).encode()
        ).hexdigest()
        quota.save(update_fields=["inputs_fingerprint"])


class Migration(migrations.Migration):
    dependencies = [
        ("quotas", "0001_initial"),
        ("catalog", "0001_initial"),
        ("campaigns", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="quota",
            name="inputs_fingerprint",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.RunPython(fingerprint_existing_quotas, migrations.RunPython.noop),
    ]
