"""Campaign writes: a campaign is data the ministry sets (§3, §5), never code (ADR 0016).

A campaign is created as a draft (often a copy of last year's), edited until stage 1 opens,
and published: the published campaign is the current one until the next is published, then it
is the archive. The working-day calendar of a year is replaced as a whole.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from kattoo.audit.services import audit_record
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.clock import BISHKEK
from kattoo.core.errors import FieldError, InvalidFields, RuleViolation

from .models import CalendarDay, Campaign
from .selectors import campaign_quota_lock_at
from .validation import (
    FIRST_YEAR,
    LAST_YEAR,
    LOCK_SETTINGS,
    SETTINGS,
    TITLES,
    code_years,
    settings_errors,
    years_later,
)


@transaction.atomic
def campaign_upsert(
    *, code: str, values: dict[str, Any], actor: Actor, activate: bool = False
) -> Campaign:
    """Create or update a campaign; ``activate`` makes it the one current campaign."""
    values = with_titles(values)
    if activate:
        Campaign.objects.exclude(code=code).filter(is_active=True).update(is_active=False)
        values = {**values, "is_active": True}
    campaign, created = Campaign.objects.update_or_create(code=code, defaults=values)
    campaign.full_clean()
    audit_record(
        actor=actor,
        action="campaign.create" if created else "campaign.update",
        obj=campaign,
        data={k: str(v) for k, v in values.items()},
    )
    return campaign


def _audit_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(BISHKEK).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def campaign_settings(campaign: Campaign) -> dict[str, Any]:
    """The campaign's code and settings as the validation and the forms read them."""
    return {"code": campaign.code, **{f: getattr(campaign, f) for f in SETTINGS}}


def _moved(value: Any, years: int) -> Any:
    if isinstance(value, dt.datetime):
        local = value.astimezone(BISHKEK)
        day = years_later(local.date(), years)
        return dt.datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=BISHKEK)
    if isinstance(value, dt.date):
        return years_later(value, years)
    return value


def campaign_copy_values(source: Campaign, code: str) -> dict[str, Any]:
    """Last year's campaign as the starting point of ``code``: every setting, its dates moved
    by the difference of the years (2026-2027 → 2027-2028: one year later)."""
    target, origin = code_years(code), code_years(source.code)
    years = (
        target[0] - (origin[0] if origin else source.stage1_starts_at.astimezone(BISHKEK).year)
        if target
        else 0
    )
    values = {f: _moved(getattr(source, f), years) for f in SETTINGS}
    if target:  # another year: its own default title, the year in each language
        values.update(dict.fromkeys(TITLES, ""))
    values["weekend_days"] = list(source.weekend_days)
    return values


def with_titles(values: Mapping[str, Any]) -> dict[str, Any]:
    """A single ``title`` (older API clients, one title for every reader) stands for each
    language's title not given on its own."""
    values = dict(values)
    if "title" in values:
        title = values.pop("title") or ""
        for field in TITLES:
            values.setdefault(field, title)
    return values


def _unknown_fields(values: Mapping[str, Any], allowed: Iterable[str]) -> list[FieldError]:
    return [
        FieldError(f, "read_only", _("This setting cannot be changed here."))
        for f in values
        if f not in allowed
    ]


@transaction.atomic
def campaign_create(
    *, values: Mapping[str, Any], copy_from: Campaign | None = None, actor: Actor
) -> Campaign:
    """A new campaign, as a draft (not current until published). ``copy_from`` gives every
    setting not in ``values``, its dates moved by the year difference."""
    code = str(values.get("code") or "")
    values = with_titles(values)
    errors = _unknown_fields(values, ("code", *SETTINGS))
    merged: dict[str, Any] = campaign_copy_values(copy_from, code) if copy_from else {}
    merged.update(values)
    for field in TITLES:
        merged.setdefault(field, "")
    errors += settings_errors(merged, now=clock.now(), check_lock=True)
    if code and Campaign.objects.filter(code=code).exists():
        errors.append(FieldError("code", "code_taken", _("A campaign with this code exists.")))
    if errors:
        raise InvalidFields("campaign_invalid", errors)
    campaign = Campaign(academic_year=code[:9], is_active=False, **merged)
    campaign.full_clean()
    campaign.save()
    audit_record(
        actor=actor,
        action="campaign.create",
        obj=campaign,
        data={
            "code": code,
            "copy_from": copy_from.code if copy_from else None,
            "values": {f: _audit_value(merged[f]) for f in SETTINGS},
        },
    )
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, values: Mapping[str, Any], actor: Actor) -> Campaign:
    """Change settings until stage 1 opens (``campaign_started`` after). The settings the
    quota lock follows may not move a lock that has passed, nor set one in the past."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    now = clock.now()
    if now >= campaign.stage1_starts_at:
        raise RuleViolation("campaign_started")
    values = with_titles(values)
    errors = _unknown_fields(values, SETTINGS)
    before = campaign_settings(campaign)
    merged = {**before, **{k: v for k, v in values.items() if k in SETTINGS}}
    changed = [f for f in SETTINGS if merged[f] != before[f]]
    lock_changes = any(f in changed for f in LOCK_SETTINGS)
    lock_passed = lock_changes and campaign_quota_lock_at(campaign) <= now
    errors += settings_errors(
        merged, now=now, check_lock=lock_changes, lock_passed_before=lock_passed
    )
    if errors:
        raise InvalidFields("campaign_invalid", errors)
    for field in changed:
        setattr(campaign, field, merged[field])
    campaign.full_clean()
    campaign.save()
    audit_record(
        actor=actor,
        action="campaign.update",
        obj=campaign,
        data={"changed": {f: [_audit_value(before[f]), _audit_value(merged[f])] for f in changed}},
    )
    return campaign


@transaction.atomic
def campaign_publish(*, campaign: Campaign, actor: Actor) -> Campaign:
    """Make the campaign the current one (ADR 0016). Refused while the current campaign is
    still open for registration, for a campaign whose registration has ended, and for
    settings that contradict each other (a quota lock already past included)."""
    active = list(Campaign.objects.select_for_update().filter(is_active=True))
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    now = clock.now()
    if campaign.is_active:
        raise RuleViolation("campaign_already_current")
    if campaign.registration_ends_at <= now:
        raise RuleViolation("campaign_finished")
    for current in active:
        if current.registration_ends_at > now:
            raise RuleViolation(
                "campaign_still_open",
                detail=_("Registration of campaign %(code)s ends at %(at)s (Asia/Bishkek).")
                % {
                    "code": current.code,
                    "at": current.registration_ends_at.astimezone(BISHKEK).strftime(
                        "%d.%m.%Y %H:%M"
                    ),
                },
            )
    errors = settings_errors(campaign_settings(campaign), now=now, check_lock=True)
    if errors:
        raise InvalidFields("campaign_invalid", errors)
    Campaign.objects.filter(pk__in=[c.pk for c in active]).update(is_active=False)
    campaign.is_active = True
    campaign.published_at = now
    campaign.save(update_fields=["is_active", "published_at"])
    audit_record(
        actor=actor,
        action="campaign.publish",
        obj=campaign,
        data={
            "published_at": _audit_value(now),
            "previous": [c.code for c in active],
        },
    )
    return campaign


def _name_field() -> str:
    language = (translation.get_language() or "en")[:2]
    return f"name_{language}" if language in ("ky", "ru", "en") else "name_en"


@transaction.atomic
def calendar_year_set(
    *,
    year: int,
    holidays: Iterable[dt.date],
    working_days: Iterable[dt.date],
    actor: Actor,
    names: Mapping[dt.date, str] | None = None,
) -> list[CalendarDay]:
    """Replace the overrides of ``year``: ``holidays`` are days off that would be working,
    ``working_days`` weekend days made working by a transfer (§4.5). Days already past were
    used by computations (quota locks, due dates), so they cannot change. A name is written in
    the language of the request (and in the others where they have none yet)."""
    holiday_set, working_set = set(holidays), set(working_days)
    names = dict(names or {})
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidFields(
            "calendar_invalid",
            [
                FieldError(
                    "year",
                    "date_out_of_range",
                    _("Choose a year between %(first)d and %(last)d.")
                    % {"first": FIRST_YEAR, "last": LAST_YEAR},
                )
            ],
        )
    errors: list[FieldError] = []
    for field, days in (("holidays", holiday_set), ("working_days", working_set)):
        outside = sorted(d for d in days if d.year != year)
        if outside:
            errors.append(
                FieldError(
                    field,
                    "outside_year",
                    _("These days are not in %(year)d: %(days)s.")
                    % {"year": year, "days": ", ".join(d.strftime("%d.%m.%Y") for d in outside)},
                )
            )
    both = sorted(holiday_set & working_set)
    if both:
        errors.append(
            FieldError(
                "working_days",
                "in_both_lists",
                _("A day cannot be both a holiday and a working day: %(days)s.")
                % {"days": ", ".join(d.strftime("%d.%m.%Y") for d in both)},
            )
        )
    unnamed = sorted(d for d in names if d not in holiday_set | working_set)
    if unnamed:
        errors.append(
            FieldError(
                "names",
                "not_in_lists",
                _(
                    "A name is given for a day that is neither a holiday nor a working day: "
                    "%(days)s."
                )
                % {"days": ", ".join(d.strftime("%d.%m.%Y") for d in unnamed)},
            )
        )
    rows = {r.date: r for r in CalendarDay.objects.select_for_update().filter(date__year=year)}
    wanted = {d: False for d in holiday_set} | {d: True for d in working_set}
    today = clock.today()
    past_changed = sorted(
        d
        for d in set(rows) | set(wanted)
        if d < today and (rows[d].is_working if d in rows else None) != wanted.get(d)
    )
    if past_changed:
        errors.append(
            FieldError(
                "holidays",
                "day_in_past",
                _(
                    "Days already past were used for quota locks and due dates and cannot "
                    "change: %(days)s."
                )
                % {"days": ", ".join(d.strftime("%d.%m.%Y") for d in past_changed)},
            )
        )
    if errors:
        raise InvalidFields("calendar_invalid", errors)

    removed = sorted(d for d in rows if d not in wanted)
    CalendarDay.objects.filter(date__in=removed).delete()
    added, changed = [], []
    name_field = _name_field()
    for day, is_working in sorted(wanted.items()):
        row = rows.get(day)
        if row is None:
            row = CalendarDay(date=day, is_working=is_working)
            name = names.get(day, "")
            row.name_ky = row.name_ru = row.name_en = name
            added.append(day)
        else:
            if row.is_working != is_working:
                changed.append(day)
            row.is_working = is_working
            if day in names and getattr(row, name_field) != names[day]:
                setattr(row, name_field, names[day])
                for field in ("name_ky", "name_ru", "name_en"):
                    if not getattr(row, field):
                        setattr(row, field, names[day])
                if day not in changed:
                    changed.append(day)
        row.save()
    audit_record(
        actor=actor,
        action="calendar.set",
        object_type="campaigns.calendaryear",
        object_id=str(year),
        data={
            "year": year,
            "added": [d.isoformat() for d in added],
            "removed": [d.isoformat() for d in removed],
            "changed": [d.isoformat() for d in changed],
            "holidays": [d.isoformat() for d in sorted(holiday_set)],
            "working_days": [d.isoformat() for d in sorted(working_set)],
        },
    )
    return list(CalendarDay.objects.filter(date__year=year))
