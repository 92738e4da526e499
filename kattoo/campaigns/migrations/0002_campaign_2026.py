"""The first campaign (2026–2027) and the 2026 working-day calendar, as the regulation sets them.

Every value here is data: the ministry edits it (or adds next year's campaign) without a
code change. Religious holidays (Orozo Ait, Kurman Ait) move every year and are set by a
government decree; the dates below are the 2026 ones.
"""

import datetime as dt
import zoneinfo

from django.db import migrations

BISHKEK = zoneinfo.ZoneInfo("Asia/Bishkek")

HOLIDAYS_2026 = [
    ("2026-01-01", "Жаңы жыл", "Новый год", "New Year"),
    ("2026-01-02", "Жаңы жыл", "Новый год", "New Year"),
    ("2026-01-07", "Ыйсанын туулган күнү", "Рождество Христово", "Orthodox Christmas"),
    ("2026-02-23", "Ата Мекенди коргоочулар күнү", "День защитника Отечества", "Defender of the Fatherland Day"),
    ("2026-03-09", "Эл аралык аялдар күнү (которулган)", "Международный женский день (перенос)", "International Women's Day (moved from Sunday)"),
    ("2026-03-20", "Орозо айт", "Орозо айт", "Orozo Ait (Eid al-Fitr)"),
    ("2026-03-23", "Нооруз (которулган)", "Нооруз (перенос)", "Nooruz (moved from Saturday)"),
    ("2026-04-07", "Элдик Апрель революциясынын күнү", "День Народной апрельской революции", "People's April Revolution Day"),
    ("2026-05-01", "Эмгек майрамы", "Праздник труда", "Labour Day"),
    ("2026-05-05", "Конституция күнү", "День Конституции", "Constitution Day"),
    ("2026-05-11", "Жеңиш күнү (которулган)", "День Победы (перенос)", "Victory Day (moved from Saturday)"),
    ("2026-05-27", "Курман айт", "Курман айт", "Kurman Ait (Eid al-Adha)"),
    ("2026-08-31", "Эгемендүүлүк күнү", "День независимости", "Independence Day"),
    ("2026-11-09", "Тарых жана ата-бабаларды эскерүү күндөрү (которулган)", "Дни истории и памяти предков (перенос)", "Days of History and Remembrance of Ancestors (moved)"),
]


def load(apps, schema_editor):
    Campaign = apps.get_model("campaigns", "Campaign")
    CalendarDay = apps.get_model("campaigns", "CalendarDay")
    for date, ky, ru, en in HOLIDAYS_2026:
        CalendarDay.objects.update_or_create(
            date=dt.date.fromisoformat(date),
            defaults={"is_working": False, "name_ky": ky, "name_ru": ru, "name_en": en},
        )
    Campaign.objects.update_or_create(
        code="2026-2027",
        defaults=dict(
            academic_year="2026-2027",
            # No title: each language shows the year in its own words (0004, issue 14).
            is_active=True,
            birth_from=dt.date(2019, 1, 1),  # §8
            birth_to=dt.date(2020, 12, 31),
            stage1_starts_at=dt.datetime(2026, 4, 1, 10, 0, tzinfo=BISHKEK),  # §27
            stage2_starts_at=dt.datetime(2026, 6, 1, 10, 0, tzinfo=BISHKEK),
            # §26 names no date; registration closes before the school year, then the commission.
            registration_ends_at=dt.datetime(2026, 8, 31, 0, 0, tzinfo=BISHKEK),
            quota_lock_working_days=3,  # §17
            weekend_days=[5, 6],
            cancel_limit=3,  # §20
            guardian_child_limit=2,  # §20
            class_size_min=25,  # §11
            class_size_max=42,
            appeal_due_working_days=3,  # §17
            documents_request_until=dt.date(2026, 8, 30),  # §18
            medical_from=dt.date(2026, 8, 4),  # §21
            medical_until=dt.date(2026, 9, 5),
        ),
    )


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
