"""Forms of the ministry's campaign and calendar pages: they parse input only; every rule
(stage order, the two-year birth window, the quota lock …) stays in kattoo.campaigns."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kattoo.core.clock import BISHKEK

DATE_FORMATS = ["%d.%m.%Y", "%Y-%m-%d"]
MOMENT_FORMATS = ["%d.%m.%Y %H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]
WEEKDAYS = [
    ("0", _("Monday")),
    ("1", _("Tuesday")),
    ("2", _("Wednesday")),
    ("3", _("Thursday")),
    ("4", _("Friday")),
    ("5", _("Saturday")),
    ("6", _("Sunday")),
]


def _date(label: Any, help_text: Any = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        input_formats=DATE_FORMATS,
        help_text=help_text or _("DD.MM.YYYY"),
        widget=forms.DateInput(format="%d.%m.%Y", attrs={"inputmode": "numeric"}),
    )


def _moment(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        input_formats=MOMENT_FORMATS,
        help_text=_("DD.MM.YYYY HH:MM, Asia/Bishkek time"),
        widget=forms.DateTimeInput(format="%d.%m.%Y %H:%M"),
    )


def _number(label: Any, help_text: Any = "") -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=0, max_value=1000, help_text=help_text)


class CampaignForm(forms.Form):
    """A campaign's settings; ``with_code`` for a new campaign (the code never changes)."""

    code = forms.RegexField(
        label=_("Code"),
        regex=r"^[0-9]{4}-[0-9]{4}$",
        max_length=9,
        help_text=_("Two consecutive years, e.g. 2027-2028."),
        error_messages={"invalid": _("Write the code as two years, e.g. 2027-2028.")},
    )
    # Issue 14: the title in each interface language; left empty, the academic year in it.
    title_ky = forms.CharField(
        label=_("Title in Kyrgyz"),
        max_length=200,
        required=False,
        help_text=_("Left empty: the academic year, e.g. “2026–2027 school year”."),
    )
    title_ru = forms.CharField(label=_("Title in Russian"), max_length=200, required=False)
    title_uz = forms.CharField(label=_("Title in Uzbek"), max_length=200, required=False)
    title_en = forms.CharField(label=_("Title in English"), max_length=200, required=False)
    birth_from = _date(_("Children born from"))
    birth_to = _date(_("Children born until"), _("DD.MM.YYYY; two whole years after the start"))
    stage1_starts_at = _moment(_("Stage 1 opens"))
    stage2_starts_at = _moment(_("Stage 2 opens"))
    registration_ends_at = _moment(_("Registration ends"))
    quota_lock_working_days = _number(
        _("Quota lock: working days before stage 1"),
        _("§17: the quota locks at the end of that day."),
    )
    appeal_due_working_days = _number(_("Working days to answer an appeal"))
    weekend_days = forms.MultipleChoiceField(
        label=_("Weekend days"),
        choices=WEEKDAYS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    cancel_limit = _number(_("Cancellations per child"))
    guardian_child_limit = _number(_("Children per legal representative"))
    class_size_min = _number(_("Smallest class size"))
    class_size_max = _number(_("Largest class size"))
    documents_request_until = _date(_("Supporting documents may be requested until"))
    medical_from = _date(_("Medical certificates from"))
    medical_until = _date(_("Medical certificates until"))

    def __init__(self, *args: Any, with_code: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not with_code:
            del self.fields["code"]

    @staticmethod
    def initial_of(values: dict[str, Any]) -> dict[str, Any]:
        """Model values as the form shows them: times in Asia/Bishkek, weekdays as text."""
        initial = dict(values)
        for name, value in values.items():
            if isinstance(value, dt.datetime):
                initial[name] = value.astimezone(BISHKEK).replace(tzinfo=None)
        initial["weekend_days"] = [str(d) for d in values.get("weekend_days") or []]
        return initial

    def values(self) -> dict[str, Any]:
        """Cleaned data as the services take it: aware Asia/Bishkek times, weekday numbers."""
        values = dict(self.cleaned_data)
        for name, value in values.items():
            if isinstance(value, dt.datetime):
                values[name] = value.replace(tzinfo=None).replace(tzinfo=BISHKEK)
        values["weekend_days"] = sorted(int(d) for d in values.get("weekend_days") or [])
        return values


class DayListField(forms.CharField):
    """One day a line: ``DD.MM.YYYY`` (or ``YYYY-MM-DD``), optionally followed by its name."""

    widget = forms.Textarea(attrs={"rows": 8})

    def to_python(self, value: Any) -> list[tuple[dt.date, str]]:  # type: ignore[override]
        text = super().to_python(value)
        days: list[tuple[dt.date, str]] = []
        bad: list[str] = []
        for number, line in enumerate((text or "").splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            first, _sep, name = line.partition(" ")
            for fmt in DATE_FORMATS:
                try:
                    days.append((dt.datetime.strptime(first, fmt).date(), name.strip()[:200]))
                    break
                except ValueError:
                    continue
            else:
                bad.append(str(number))
        if bad:
            raise forms.ValidationError(
                _("Lines %(lines)s do not start with a date DD.MM.YYYY."),
                code="invalid",
                params={"lines": ", ".join(bad)},
            )
        return days

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return "\n".join(f"{d:%d.%m.%Y} {n}".rstrip() for d, n in value)
        return value


class CalendarYearForm(forms.Form):
    holidays = DayListField(
        label=_("Holidays (days off that would be working days)"),
        required=False,
        max_length=20000,
        help_text=_("One day a line: DD.MM.YYYY, then the name if you wish."),
    )
    working_days = DayListField(
        label=_("Working days moved onto a weekend"),
        required=False,
        max_length=20000,
        help_text=_("One day a line: DD.MM.YYYY, then the name if you wish."),
    )
