"""A school's address in each interface language, and an optional Uzbek name (issue 14): the
old single address is copied into the Kyrgyz and Russian addresses."""

from django.db import migrations, models


def copy_address(apps, schema_editor):
    School = apps.get_model("catalog", "School")
    School.objects.update(address_ky=models.F("address"), address_ru=models.F("address"))


def copy_back(apps, schema_editor):
    School = apps.get_model("catalog", "School")
    School.objects.update(address=models.F("address_ru"))


class Migration(migrations.Migration):
    dependencies = [("catalog", "0004_teacher_addition")]

    operations = [
        migrations.AddField(
            model_name="school",
            name="name_uz",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name="school",
            name="address_ky",
            field=models.CharField(default="", max_length=300),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="school",
            name="address_ru",
            field=models.CharField(default="", max_length=300),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="school",
            name="address_uz",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name="school",
            name="address_en",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.RunPython(copy_address, copy_back),
        migrations.RemoveField(model_name="school", name="address"),
    ]
