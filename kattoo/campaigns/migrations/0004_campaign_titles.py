"""A campaign's title in each interface language (issue 14): the old single title is copied
into the Kyrgyz and Russian titles. A title that was only the academic year ("2026–2027", the
old default) is left empty, so each language shows its own default ("2026–2027 окуу жылы")."""

from django.db import migrations, models


def copy_title(apps, schema_editor):
    Campaign = apps.get_model("campaigns", "Campaign")
    for campaign in Campaign.objects.all():
        title = campaign.title.strip()
        if title in (campaign.academic_year, campaign.academic_year.replace("-", "–")):
            continue
        campaign.title_ky = campaign.title_ru = title
        campaign.save(update_fields=["title_ky", "title_ru"])


def copy_back(apps, schema_editor):
    Campaign = apps.get_model("campaigns", "Campaign")
    for campaign in Campaign.objects.all():
        campaign.title = campaign.title_ky or campaign.title_ru or campaign.title_en
        campaign.save(update_fields=["title"])


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0003_campaign_published_at")]

    operations = [
        migrations.AddField(
            model_name="campaign",
            name="title_ky",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="campaign",
            name="title_ru",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="campaign",
            name="title_uz",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="campaign",
            name="title_en",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.RunPython(copy_title, copy_back),
        migrations.RemoveField(model_name="campaign", name="title"),
    ]
