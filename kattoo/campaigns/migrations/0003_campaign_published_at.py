from django.db import migrations, models


def published_already(apps, schema_editor):
    """A campaign that was already the current one had been published in effect (the
    2026–2027 campaign of migration 0002): it stays readable in the archive once the next
    campaign is published (ADR 0016)."""
    Campaign = apps.get_model("campaigns", "Campaign")
    for campaign in Campaign.objects.filter(is_active=True, published_at__isnull=True):
        campaign.published_at = campaign.stage1_starts_at
        campaign.save(update_fields=["published_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0002_campaign_2026"),
    ]

    operations = [
        migrations.AddField(
            model_name="campaign",
            name="published_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(published_already, migrations.RunPython.noop),
    ]
