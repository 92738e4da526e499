"""Contradictory campaign settings, found before anything is written (ADR 0016).

Every check names the field it is about and a stable code, so the API lists them in a problem
document and a page shows each beside its field. Field names are the model's.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from kattoo.core.clock import BISHKEK
from kattoo.core.errors import FieldError

from .calendar import WorkCalendar

# "2027-2028"; a rehearsal or training campaign may add a suffix: "2026-2027-rehearsal".
CODE_PATTERN = re.compile(r"^([0-9]{4})-([0-9]{4})(-[a-z0-9]+(?:-[a-z0-9]+)*)?$")
# Dates outside these years are typing errors (and would overflow the date arithmetic).
FIRST_YEAR, LAST_YEAR = 2000, 2100

# What the ministry sets for a campaign (besides its code, fixed at creation).
# A title per interface language (issue 14); an empty one reads as the academic year.
TITLES = ("title_ky", "title_ru", "title_uz", "title_en")
SETTINGS = (
    *TITLES,
    "birth_from",
    "birth_to",
    "stage1_starts_at",
    "stage2_starts_at",
    "registration_ends_at",
    "quota_lock_working_days",
    "weekend_days",
    "cancel_limit",
    "guardian_child_limit",
    "class_size_min",
    "class_size_max",
    "appeal_due_working_days",
    "documents_request_until",
    "medical_from",
    "medical_until",
)
DATES = ("birth_from", "birth_to", "documents_request_until", "medical_from", "medical_until")
MOMENTS = ("stage1_starts_at", "stage2_starts_at", "registration_ends_at")
# Limits of at least 1 (§11, §17, §20).
LIMITS = (
    "quota_lock_working_days",
    "cancel_limit",
    "guardian_child_limit",
    "class_size_min",
    "class_size_max",
    "appeal_due_working_days",
)
# Settings the quota lock follows: changing them after the lock would reopen locked quotas.
LOCK_SETTINGS = ("stage1_starts_at", "quota_lock_working_days", "weekend_days")


def code_years(code: str) -> tuple[int, int] | None:
    match = CODE_PATTERN.match(code or "")
    if not match:
        return None
    first, second = int(match.group(1)), int(match.group(2))
    return (first, second) if second == first + 1 else None


def years_later(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` later; 29 February becomes the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def two_year_window_end(birth_from: dt.date) -> dt.date:
    """§8: the birth window is two whole years: 2019-01-01 … 2020-12-31."""
    return years_later(birth_from, 2) - dt.timedelta(days=1)


def quota_lock_for(values: Mapping[str, Any], calendar: WorkCalendar) -> dt.datetime:
    """§17: the end of the N-th working day before stage 1 (campaign_quota_lock_at's rule, for
    settings not saved yet)."""
    stage1_day = values["stage1_starts_at"].astimezone(BISHKEK).date()
    last_day = calendar.working_days_before(stage1_day, values["quota_lock_working_days"])
    after = last_day + dt.timedelta(days=1)
    return dt.datetime(after.year, after.month, after.day, tzinfo=BISHKEK)


def _day(value: dt.date) -> str:
    return value.strftime("%d.%m.%Y")


def settings_errors(
    values: Mapping[str, Any],
    *,
    now: dt.datetime,
    check_lock: bool,
    lock_passed_before: bool = False,
) -> list[FieldError]:
    """Every contradiction in ``values`` (a whole campaign: code and SETTINGS).

    ``check_lock``: the quota lock these settings give must still be ahead (a new campaign,
    a change of what the lock follows, publishing). ``lock_passed_before``: the saved lock has
    already passed, so what it follows may no longer change.
    """
    errors: list[FieldError] = []

    def refuse(field: str, code: str, message: str) -> None:
        errors.append(FieldError(field, code, message))

    for field in (*DATES, *MOMENTS):
        value = values.get(field)
        expected = dt.datetime if field in MOMENTS else dt.date
        if value is not None and (
            not isinstance(value, expected) or not FIRST_YEAR <= value.year <= LAST_YEAR
        ):
            refuse(
                field,
                "date_out_of_range",
                _("Enter a date between %(first)d and %(last)d.")
                % {"first": FIRST_YEAR, "last": LAST_YEAR},
            )
    if errors:  # the other checks do arithmetic on these dates
        return errors

    missing = [f for f in ("code", *SETTINGS) if f not in TITLES and values.get(f) in (None, "")]
    for field in missing:
        refuse(field, "required", _("This field is required."))

    years = code_years(str(values.get("code") or ""))
    if values.get("code") and years is None:
        refuse(
            "code",
            "code_format",
            _(
                "Write the code as two consecutive years, for example 2027-2028 (a rehearsal "
                "may add a suffix: 2027-2028-rehearsal)."
            ),
        )

    for field in LIMITS:
        value = values.get(field)
        if value is not None and (not isinstance(value, int) or value < 1):
            refuse(field, "limit_too_small", _("The value must be a whole number of at least 1."))

    weekend = values.get("weekend_days")
    if weekend is not None and (
        not isinstance(weekend, list | tuple)
        or any(not isinstance(d, int) or not 0 <= d <= 6 for d in weekend)
        or len(set(weekend)) > 5
    ):
        refuse(
            "weekend_days",
            "weekend_days_invalid",
            _("Weekend days are weekday numbers 0 (Monday) … 6 (Sunday); at most five."),
        )

    birth_from, birth_to = values.get("birth_from"), values.get("birth_to")
    if birth_from and birth_to and birth_to != two_year_window_end(birth_from):
        refuse(
            "birth_to",
            "birth_window_length",
            _("The birth window must be exactly two whole years: from %(start)s to %(end)s.")
            % {"start": _day(birth_from), "end": _day(two_year_window_end(birth_from))},
        )

    stage1, stage2, ends = (values.get(f) for f in MOMENTS)
    if stage1 and stage2 and stage2 <= stage1:
        refuse("stage2_starts_at", "stage_order", _("Stage 2 must open after stage 1."))
    if stage2 and ends and ends <= stage2:
        refuse(
            "registration_ends_at",
            "stage_order",
            _("Registration must end after stage 2 opens."),
        )
    elif stage1 and ends and ends <= stage1:
        refuse(
            "registration_ends_at",
            "stage_order",
            _("Registration must end after stage 1 opens."),
        )
    rehearsal = "-" in str(values.get("code") or "")[9:]
    if stage1 and years and not rehearsal and stage1.astimezone(BISHKEK).year != years[0]:
        refuse(
            "stage1_starts_at",
            "stage1_year",
            _("Stage 1 of campaign %(code)s opens in %(year)d.")
            % {"code": values.get("code"), "year": years[0]},
        )

    medical_from, medical_until = values.get("medical_from"), values.get("medical_until")
    if medical_from and medical_until and medical_until < medical_from:
        refuse(
            "medical_until",
            "medical_window_order",
            _("The medical-certificate window must end on or after the day it starts."),
        )

    documents = values.get("documents_request_until")
    if documents and stage1:
        stage1_day = stage1.astimezone(BISHKEK).date()
        if not stage1_day <= documents < years_later(stage1_day, 1):
            refuse(
                "documents_request_until",
                "documents_window",
                _(
                    "Supporting documents may be requested until a day between the opening "
                    "of stage 1 (%(start)s) and a year later."
                )
                % {"start": _day(stage1_day)},
            )

    size_min, size_max = values.get("class_size_min"), values.get("class_size_max")
    if (
        isinstance(size_min, int)
        and isinstance(size_max, int)
        and size_min >= 1
        and size_max < size_min
    ):
        refuse(
            "class_size_max",
            "class_size_order",
            _("The largest class size must not be below the smallest."),
        )

    unusable = ("required", "limit_too_small", "weekend_days_invalid")
    lock_ready = stage1 and not any(e.field in LOCK_SETTINGS and e.code in unusable for e in errors)
    if lock_passed_before:
        refuse(
            "stage1_starts_at",
            "quota_lock_passed",
            _(
                "The quota lock has already passed: stage 1, the working days before it and "
                "the weekend days can no longer change."
            ),
        )
    elif check_lock and lock_ready:
        lock_at = quota_lock_for(values, WorkCalendar.load(weekend_days=values["weekend_days"]))
        if lock_at <= now:
            refuse(
                "stage1_starts_at",
                "quota_lock_past",
                _(
                    "With this stage 1 opening the quota would lock at %(at)s, which has "
                    "already passed: directors would have no time to confirm their quotas."
                )
                % {"at": lock_at.astimezone(BISHKEK).strftime("%d.%m.%Y %H:%M")},
            )
    return errors
